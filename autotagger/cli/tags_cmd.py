"""autotagger tags: every tag in the catalogue with how many images carry it."""

from __future__ import annotations

import argparse

from autotagger.cli.common import EXIT_OK, emit_json


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("tags", help="every tag with its image count, most used first")
    p.add_argument("--json", action="store_true", help='JSON Lines: {"tag": ..., "count": ...}')
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from autotagger.cli.search_cmd import reading_catalog

    with reading_catalog(args) as cat:
        counts = cat.tag_counts()
    for tag, count in counts:
        if args.json:
            emit_json({"tag": tag, "count": count})
        else:
            print(f"{count:>8}  {tag}")
    return EXIT_OK
