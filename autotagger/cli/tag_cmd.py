"""autotagger tag PATH...: caption and tag files now."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TYPE_CHECKING

from autotagger.cli.common import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    CliError,
    emit_json,
    is_tty,
    load_settings_from_args,
    print_error,
    print_warning,
    quiet_libraries,
)

if TYPE_CHECKING:
    from autotagger.config import Settings
    from autotagger.engine.blip2 import Blip2Tagger


def add_model_options(p: argparse.ArgumentParser) -> None:
    """The model flags shared by tag, watch and service."""
    p.add_argument("--model", help="hub id (default Salesforce/blip2-opt-2.7b) or a local checkpoint folder")
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="where the model runs (default auto)")
    p.add_argument("--dtype", choices=["auto", "float32", "float16", "bfloat16"], help="precision (default auto)")
    p.add_argument("--quantize", choices=["none", "8bit", "4bit"], help="bitsandbytes quantisation of the language model (CUDA)")
    p.add_argument("--questions", metavar="FILE", help="question set TOML (default: the one shipped)")
    p.add_argument("--batch-size", type=int, metavar="N", help="images per model batch (default 0 = auto: from free GPU memory, 8 on the CPU)")


def add_write_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--write", choices=["auto", "embed", "sidecar", "both", "none"],
                   help="where tags go: auto = embed in JPEG/TIFF/PNG/WebP/HEIC, sidecar for RAW (default)")
    p.add_argument("--sidecar-name", choices=["ext", "base"],
                   help="sidecar naming: ext = IMG_1.CR2.xmp (darktable/digiKam), base = IMG_1.xmp (Lightroom)")
    p.add_argument("--keep-backup", action="store_true", default=None, help="keep NAME_original beside each file we change")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("tag", help="caption and tag image files now", description=__doc__)
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    p.add_argument("-r", "--recursive", action="store_true", help="walk sub-folders of the folders given")
    add_model_options(p)
    add_write_options(p)
    p.add_argument("--no-catalog", action="store_true", help="do not record the results in the catalogue")
    p.add_argument("--json", action="store_true", help="one JSON object per image on stdout (JSON Lines)")
    p.set_defaults(run=run)


def settings_from(args: argparse.Namespace) -> Settings:
    return load_settings_from_args(
        args,
        model=args.model, device=args.device, dtype=args.dtype, quantize=args.quantize,
        questions=args.questions, batch_size=args.batch_size,
        write=getattr(args, "write", None), sidecar_name=getattr(args, "sidecar_name", None),
        keep_backup=getattr(args, "keep_backup", None),
    )


def load_tagger(settings: Settings) -> Blip2Tagger:
    """The real tagger, or a one-line CliError saying what to do."""
    from autotagger.engine.blip2 import Blip2Tagger, ModelLoadError
    from autotagger.engine.questions import QuestionSetError

    try:
        return Blip2Tagger.from_settings(settings)
    except (ModelLoadError, QuestionSetError) as exc:
        raise CliError(str(exc)) from None


class _ProgressLine:
    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled, self.start, self.n = total, enabled, time.monotonic(), 0

    def step(self, path: str) -> None:
        self.n += 1
        if not self.enabled:
            return
        rate = self.n / max(time.monotonic() - self.start, 1e-6)
        width = 24
        filled = int(width * self.n / max(self.total, 1))
        line = f"[{'#' * filled}{'.' * (width - filled)}] {self.n}/{self.total} {rate:.1f} img/s {os.path.basename(path)}"
        sys.stderr.write("\r" + line[:100].ljust(100))
        sys.stderr.flush()

    def clear(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    quiet_libraries(args.verbose)
    settings = settings_from(args)
    errors: list[str] = []

    def bad(path: str, msg: str) -> None:
        errors.append(path)
        print_error(f"{path}: {msg}")

    from autotagger.service.tagfiles import FileOutcome, ResultWriter, collect_files, tag_paths

    files = collect_files(args.paths, recursive=args.recursive, on_error=bad)
    if not files:
        if errors:
            return EXIT_SOME_FAILED
        raise CliError("no image files found" + ("" if args.recursive else " (use --recursive for sub-folders)"))
    tagger = load_tagger(settings)
    catalog = None
    if not args.no_catalog:
        from autotagger.catalog import Catalog, CatalogError

        try:
            catalog = Catalog(settings.catalog_path)
        except CatalogError as exc:
            raise CliError(f"catalogue: {exc} (or use --no-catalog)") from None
    progress = _ProgressLine(len(files), is_tty() and not args.json)

    def report(outcome: FileOutcome) -> None:
        path = outcome.result.path
        progress.step(path)
        if args.json:
            emit_json(outcome.to_json())
        if not outcome.ok:
            progress.clear()
            bad(path, outcome.result.error or "failed")
            return
        for w in outcome.warnings:
            progress.clear()
            print_warning(f"{path}: {w}")
        if not args.json:
            progress.clear()
            r = outcome.result
            print(f"{r.path}\n  caption: {r.caption}\n  tags:    {', '.join(t.path for t in r.tags) or '-'}", flush=True)

    try:
        with ResultWriter(
            write_mode=settings.write, sidecar_name=settings.sidecar_name,
            keep_backup=settings.keep_backup, catalog=catalog,
        ) as writer:
            for result in tag_paths(files, tagger, batch_size=tagger.batch_size):
                for outcome in writer.submit(result):
                    report(outcome)
            for outcome in writer.finish():
                report(outcome)
    finally:
        progress.clear()
        if catalog is not None:
            catalog.close()
    return EXIT_SOME_FAILED if errors else EXIT_OK
