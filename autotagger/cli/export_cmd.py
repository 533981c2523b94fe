"""autotagger export: path, caption, tags and confidences of every image (or a query's hits) as CSV or JSON."""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from autotagger.cli.common import EXIT_OK, EXIT_USAGE, CliError
from autotagger.cli.search_cmd import accept_negations

CSV_FIELDS = ("path", "caption", "caption_source", "tags", "confidences", "status", "error", "captured_at",
              "camera", "width", "height", "model_id", "tagged_at")
# Text a person, the model or a file's EXIF wrote (a camera model can say anything): a spreadsheet
# takes a cell that starts with one of FORMULA_STARTS for a formula (=HYPERLINK(...), =cmd|...).
TEXT_FIELDS = ("caption", "tags", "error", "camera", "model_id")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("export", help="export captions and tags as CSV or JSON")
    p.add_argument("query", nargs="*", metavar="QUERY", help="only the hits of this search (default: every image)")
    p.add_argument("--format", choices=("csv", "json", "jsonl"), default="csv",
                   help="csv (spreadsheets), json (one array) or jsonl (one object per line)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of stdout")
    p.set_defaults(run=run)
    accept_negations(p)


def record_dict(rec: Any) -> dict[str, Any]:
    return {
        "path": rec.path, "caption": rec.caption, "caption_source": rec.caption_source,
        "tags": [t.path for t in rec.tags],
        "confidences": {t.path: t.confidence for t in rec.tags if t.confidence is not None},
        "tag_sources": {t.path: t.source for t in rec.tags},
        "answers": [{"question_id": a.question_id, "answer": a.answer, "confidence": a.confidence} for a in rec.answers],
        "status": rec.status, "error": rec.error, "captured_at": rec.captured_at, "camera": rec.camera,
        "width": rec.width, "height": rec.height, "model_id": rec.model_id, "tagged_at": rec.tagged_at,
    }


def records(cat: Any, query: str) -> Iterator[Any]:
    if not query.strip():
        yield from cat.iter_images()
        return
    offset, page = 0, 500
    while True:
        hits = cat.search(query, limit=page, offset=offset)
        for hit in hits:
            rec = cat.get_image(hit.id)
            if rec is not None:
                yield rec
        if len(hits) < page:
            return
        offset += page


def as_text_cell(value: Any) -> Any:
    """A text cell a spreadsheet shows as text, never runs: a leading apostrophe where it would read a
    formula (OWASP's advice for CSV; Excel, LibreOffice and Numbers hide the apostrophe)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write(out: IO[str], fmt: str, recs: Iterator[Any]) -> int:
    """Write every record; nothing at all when the first cannot be read (a damaged catalogue): a
    script must not take a CSV header or a "[" followed by an error for an export."""
    first = next(recs, None)
    if first is not None:
        recs = itertools.chain((first,), recs)
    n = 0
    if fmt == "csv":
        w = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for rec in recs:
            d = record_dict(rec)
            d["tags"] = "; ".join(d["tags"])
            d["confidences"] = "; ".join(f"{k}={v:.4f}" for k, v in d["confidences"].items())
            w.writerow({k: as_text_cell(v) if k in TEXT_FIELDS else v for k, v in d.items()})
            n += 1
    elif fmt == "jsonl":
        for rec in recs:
            out.write(json.dumps(record_dict(rec), ensure_ascii=False) + "\n")
            n += 1
    else:
        out.write("[")
        for rec in recs:
            out.write(("," if n else "") + "\n" + json.dumps(record_dict(rec), ensure_ascii=False))
            n += 1
        out.write("\n]\n")
    return n


def check_destination(dest: Path, catalog: Path) -> None:
    """Refuse to write over the catalogue (or its journal, WAL and lock files), a photo, a sidecar or
    a folder: `-o` replaces what is there, and a mistyped name must not cost a library."""
    from autotagger.watch.files import IMAGE_EXTS, ext_of

    if dest.is_dir():
        raise CliError(f"cannot write {dest}: it is a folder", EXIT_USAGE)
    real, cat = os.path.realpath(dest), os.path.realpath(catalog)
    if real == cat or (os.path.dirname(real) == os.path.dirname(cat) and os.path.basename(real).startswith(
            os.path.basename(cat))):
        raise CliError(f"cannot write {dest}: it is the catalogue (or one of its files)", EXIT_USAGE)
    if ext_of(dest.name) in IMAGE_EXTS or dest.suffix.lower() == ".xmp":
        raise CliError(f"cannot write {dest}: it is named as a photo or a sidecar (use .csv or .json)", EXIT_USAGE)


def run(args: argparse.Namespace) -> int:
    from autotagger.cli.search_cmd import reading_catalog

    query = " ".join(args.query)
    with reading_catalog(args) as cat:
        if query.strip():
            cat.search(query, limit=1)  # a bad query is said before any output starts
        if args.output:
            dest = Path(args.output)
            check_destination(dest, Path(cat.path))
            tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
            try:
                # a CSV file opened by a double click: Excel takes UTF-8 without a BOM for the
                # system's code page ("Ã‰glise"); with it, every spreadsheet reads it right
                encoding = "utf-8-sig" if args.format == "csv" else "utf-8"
                with open(tmp, "w", encoding=encoding, newline="") as f:
                    write(f, args.format, records(cat, query))
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, dest)
            except OSError as exc:
                raise CliError(f"cannot write {dest}: {exc.strerror or exc}") from None
            finally:
                if tmp.exists():
                    tmp.unlink()
        else:
            write(sys.stdout, args.format, records(cat, query))
    return EXIT_OK
