"""autotagger search QUERY: search the catalogue (words, "phrases", tag:, -tag:, folder:, after:, before:, camera:)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from autotagger.cli.common import EXIT_OK, EXIT_USAGE, CliError, emit_json, load_settings_from_args

# More hits than any catalogue holds, and far from SQLite's 64-bit limit even once the ranked search
# rounds a page up to whole blocks: a bigger --limit or --offset is taken as this one.
MAX_HITS = 10**12

QUERY_HELP = (
    'free words (whole words, best first; the last term, if a word, also matches as a prefix: '
    '"red ca" finds "red car"), "quoted phrases", tag:outdoors, tag:setting|outdoors, '
    "-tag:people, -word, folder:PATH, after:2024-01-01, before:2025, camera:canon"
)


def accept_negations(parser: argparse.ArgumentParser) -> None:
    """Let ``-tag:people`` and ``-word`` through as query terms instead of unknown options."""
    base = type(parser)

    class QueryParser(base):  # type: ignore[valid-type, misc]
        def parse_known_args(self, args=None, namespace=None):
            ns, extras = super().parse_known_args(args, namespace)
            terms = [a for a in extras if a.startswith("-") and len(a) > 1 and a[1] != "-"]
            rest = [a for a in extras if a not in terms]
            if terms:
                ns.query = [*(ns.query or []), *terms]
            return ns, rest

    parser.__class__ = QueryParser


def open_catalog(args: argparse.Namespace) -> Any:
    """The catalogue from --catalog / AUTOTAGGER_CATALOG / settings, read-only; never created here."""
    from autotagger.catalog import Catalog, CatalogError

    path = load_settings_from_args(args).catalog_path
    if not path.exists():
        raise CliError(f"no catalogue at {path} (tag some photos first, or give --catalog FILE)")
    try:
        return Catalog(path, readonly=True)
    except CatalogError as exc:
        raise CliError(str(exc)) from None


@contextmanager
def reading_catalog(args: argparse.Namespace) -> Iterator[Any]:
    """The catalogue opened read-only for one command; its errors become one-line CliErrors
    (a malformed query is a usage error) and it is closed whatever happens."""
    from autotagger.catalog import CatalogError, QueryError

    cat = open_catalog(args)
    try:
        yield cat
    except QueryError as exc:
        raise CliError(f"bad query: {exc}", EXIT_USAGE) from None
    except CatalogError as exc:
        raise CliError(str(exc)) from None
    finally:
        cat.close()


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("search", help="search the catalogue", description=f"Search the catalogue: {QUERY_HELP}.")
    p.add_argument("query", nargs="*", metavar="QUERY", help="the query (several words are joined)")
    p.add_argument("--json", action="store_true", help="JSON Lines: one object per hit")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="at most N hits (default 50)")
    p.add_argument("--offset", type=int, default=0, metavar="N", help="skip the first N hits")
    p.set_defaults(run=run)
    accept_negations(p)


def run(args: argparse.Namespace) -> int:
    if args.limit < 1 or args.offset < 0:
        raise CliError("--limit must be at least 1 and --offset at least 0", EXIT_USAGE)
    args.limit, args.offset = min(args.limit, MAX_HITS), min(args.offset, MAX_HITS)
    query = " ".join(args.query)
    if not query.strip():
        raise CliError("search needs a query (see autotagger search --help)", EXIT_USAGE)
    with reading_catalog(args) as cat:
        hits = cat.search(query, limit=args.limit, offset=args.offset)
    for hit in hits:
        if args.json:
            emit_json(
                {"id": hit.id, "path": hit.path, "caption": hit.caption, "tags": list(hit.tags),
                 "captured_at": hit.captured_at, "camera": hit.camera, "rank": hit.rank}
            )
        else:
            tags = ", ".join(hit.tags)
            print(f"{one_field(hit.path)}\t{one_field(hit.caption)}\t{one_field(tags)}", flush=False)
    return EXIT_OK


def one_field(text: str) -> str:
    """A value for one tab-separated field of one line: tabs, newlines and other control characters
    become escapes (\\t, \\n), so that every hit is one line for `cut`, `grep` and scripts."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)
