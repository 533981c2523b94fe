"""`autotagger undo PATH...`: remove exactly what autotagger wrote into files and sidecars."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
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


def _expand(paths: list[str], recursive: bool) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The files to undo, and each path given that cannot be (with why)."""
    files: list[Path] = []
    errors: list[tuple[Path, str]] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            if not recursive:
                errors.append((p, "is a folder (use --recursive)"))
                continue
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() != ".xmp" and not f.name.endswith("_original"):
                    files.append(f)
        elif p.exists() or p.with_name(p.name + ".xmp").exists() or p.with_suffix(".xmp").exists():
            files.append(p)
        else:
            errors.append((p, "no such file"))
    return files, errors


NOTHING_FOUND = "nothing written by autotagger found"


@dataclass
class Undone:
    """One photo's undo under both sidecar names: what was removed (merged), and what failed."""

    outcome: Any = None  # metadata.WriteOutcome, None when every try failed
    errors: list[str] = field(default_factory=list)  # one line each
    sidecars: list[str] = field(default_factory=list)  # those our tags were removed from
    notes: list[str] = field(default_factory=list)  # what each try that went through did to its sidecar


def _undo(path: Path, sidecar_name: str) -> Undone:
    """Undo with the sidecar name in use, then with the other name when a sidecar has it (the setting
    changed since the photo was tagged, or a DAM wrote one). Each is tried whatever the other did: a
    first that fails (its folder read-only, the sidecar unreadable) must not leave our tags in the
    second."""
    from autotagger.metadata import MetadataError, undo_metadata
    from autotagger.metadata.model import sidecar_path

    other = "base" if sidecar_name == "ext" else "ext"
    done = Undone()
    for name in (sidecar_name, other):
        sidecar = sidecar_path(path, name)
        if name == other and not sidecar.exists():
            break
        try:
            outcome = undo_metadata(path, sidecar_name=name)
        except MetadataError as exc:
            done.errors.append(str(exc))
            continue
        except OSError as exc:
            done.errors.append(f"{path}: {exc.strerror or exc}")
            continue
        if outcome.sidecar:
            done.sidecars.append(outcome.sidecar)
            done.notes.append(f"{outcome.sidecar}: autotagger's tags removed")
        elif sidecar.exists():
            done.notes.append(f"{sidecar}: {NOTHING_FOUND}")
        done.outcome = outcome if done.outcome is None else _merge(done.outcome, outcome)
    if done.errors and done.outcome is not None:  # the notes say what the try that went through found
        kept = tuple(w for w in done.outcome.warnings if w != NOTHING_FOUND)
        done.outcome = dataclasses.replace(done.outcome, warnings=kept)
    done.errors = list(dict.fromkeys(done.errors))
    return done


def _merge(first: Any, second: Any) -> Any:
    """Two tries' outcomes as one: "nothing found" only when neither found anything."""
    embedded = first.embedded or second.embedded
    warnings = tuple(dict.fromkeys((*first.warnings, *second.warnings)))
    if embedded or first.sidecar or second.sidecar:
        warnings = tuple(w for w in warnings if w != NOTHING_FOUND)
    return dataclasses.replace(first, embedded=embedded, sidecar=first.sidecar or second.sidecar, warnings=warnings)


def run(args: argparse.Namespace) -> int:
    settings = load_settings_from_args(args, sidecar_name=args.sidecar_name)
    files, errors = _expand(args.paths, args.recursive)
    for path, reason in errors:
        print_error(f"{path}: {reason}")
        if args.json:  # a line for every path given, as for one that failed
            emit_json({"path": str(path), "embedded": False, "sidecar": None, "sidecars": [], "warnings": [],
                       "errors": [f"{path}: {reason}"]})
    failed = len(errors)
    with _catalog(settings.catalog_path) as cat:
        for path in files:
            done = _undo(path, settings.sidecar_name)
            for message in done.errors:
                print_error(message)
            failed += bool(done.errors)
            if done.outcome is None:
                continue
            removed = done.outcome.embedded or done.sidecars
            if cat is not None and removed and not done.errors:  # none of ours is left anywhere
                cat.forget_model_results(os.path.abspath(path))  # search forgets them too
            _report(args, path, done)
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


def _report(args: argparse.Namespace, path: Path, done: Undone) -> None:
    outcome = done.outcome
    if args.json:
        emit_json({"path": outcome.path, "embedded": outcome.embedded, "sidecar": outcome.sidecar,
                   "sidecars": done.sidecars, "warnings": list(outcome.warnings), "errors": done.errors})
        return
    if done.errors:  # one try failed, another went through: said too, the error is not all there is
        for note in done.notes:
            print(note)
    if args.recursive is False or outcome.embedded or outcome.sidecar:
        for w in outcome.warnings:
            print_warning(f"{path}: {w}")
