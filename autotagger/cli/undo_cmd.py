"""`autotagger undo PATH...`: remove exactly what autotagger wrote into files and sidecars."""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from autotagger.cli.common import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    emit_json,
    load_settings_from_args,
    print_error,
    print_warning,
)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "undo",
        help="remove autotagger's captions and keywords from files and sidecars",
        description="Remove exactly what autotagger wrote (known from its provenance record) from the "
        "files and their XMP sidecars; a person's own captions and keywords stay.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    p.add_argument("--sidecar-name", choices=("ext", "base"),
                   help="sidecar naming: ext = IMG_1.CR2.xmp, base = IMG_1.xmp (default: the setting, as "
                   "`tag` uses; the other name's sidecar is undone too when it holds our tags)")
    p.add_argument("-r", "--recursive", action="store_true", help="descend into folders")
    p.add_argument("--json", action="store_true", help="one JSON line per file on stdout")
    p.set_defaults(run=run)


def _expand(paths: list[str], recursive: bool) -> tuple[list[Path], list[str]]:
    files: list[Path] = []
    errors: list[str] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            if not recursive:
                errors.append(f"{p}: is a folder (use --recursive)")
                continue
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() != ".xmp" and not f.name.endswith("_original"):
                    files.append(f)
        elif p.exists() or p.with_name(p.name + ".xmp").exists() or p.with_suffix(".xmp").exists():
            files.append(p)
        else:
            errors.append(f"{p}: no such file")
    return files, errors


NOTHING_FOUND = "nothing written by autotagger found"


def _undo(path: Path, sidecar_name: str) -> Any:
    """Undo with the sidecar name in use; a sidecar under the other name (the setting changed since
    the photo was tagged) is undone as well."""
    import dataclasses

    from autotagger.metadata import undo_metadata
    from autotagger.metadata.model import sidecar_path

    outcome = undo_metadata(path, sidecar_name=sidecar_name)
    other = "base" if sidecar_name == "ext" else "ext"
    if outcome.sidecar or not sidecar_path(path, other).exists():
        return outcome
    second = undo_metadata(path, sidecar_name=other)
    if not second.sidecar:
        return outcome
    warnings = tuple(w for w in (*outcome.warnings, *second.warnings) if w != NOTHING_FOUND)
    return dataclasses.replace(outcome, sidecar=second.sidecar, warnings=tuple(dict.fromkeys(warnings)))


def run(args: argparse.Namespace) -> int:
    from autotagger.metadata import MetadataError

    settings = load_settings_from_args(args, sidecar_name=args.sidecar_name)
    files, errors = _expand(args.paths, args.recursive)
    for message in errors:
        print_error(message)
    failed = len(errors)
    with _catalog(settings.catalog_path) as cat:
        for path in files:
            try:
                outcome = _undo(path, settings.sidecar_name)
            except MetadataError as exc:
                print_error(str(exc))
                failed += 1
                continue
            except OSError as exc:
                print_error(f"{path}: {exc.strerror or exc}")
                failed += 1
                continue
            if cat is not None and (outcome.embedded or outcome.sidecar):
                cat.forget_model_results(os.path.abspath(path))  # search forgets them too
            _report(args, path, outcome)
    return EXIT_SOME_FAILED if failed else EXIT_OK


@contextlib.contextmanager
def _catalog(path: Path) -> Iterator[Any]:
    """The catalogue, if there is one (undo works on files the catalogue never saw); None when none
    exists or it cannot be opened (said once: the files are still undone)."""
    from autotagger.catalog import Catalog
    from autotagger.catalog.errors import CatalogError

    if not path.exists():
        yield None
        return
    try:
        cat = Catalog(path)
    except CatalogError as exc:
        print_warning(f"the catalogue is not updated: {exc}")
        yield None
        return
    try:
        yield cat
    finally:
        cat.close()


def _report(args: argparse.Namespace, path: Path, outcome: Any) -> None:
    if args.json:
        emit_json({"path": outcome.path, "embedded": outcome.embedded, "sidecar": outcome.sidecar,
                   "warnings": list(outcome.warnings)})
    elif args.recursive is False or outcome.embedded or outcome.sidecar:
        for w in outcome.warnings:
            print_warning(f"{path}: {w}")
