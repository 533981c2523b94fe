"""autotagger tag PATH...: caption and tag files now."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from autotagger.cli.common import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    EXIT_USAGE,
    CliError,
    emit_json,
    is_tty,
    load_settings_from_args,
    print_error,
    print_warning,
    quiet_libraries,
)

if TYPE_CHECKING:
    from autotagger.catalog import Catalog
    from autotagger.config import Settings
    from autotagger.engine.base import ImageInput
    from autotagger.engine.blip2 import Blip2Tagger
    from autotagger.service.tagfiles import ResultWriter
    from autotagger.types import TagResult


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
                   help="where tags go: auto = embed in JPEG/TIFF/PNG/WebP/HEIC/DNG, sidecar for other RAW (default)")
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
        makes_catalog=not getattr(args, "no_catalog", False),
        model=args.model, device=args.device, dtype=args.dtype, quantize=args.quantize,
        questions=args.questions, batch_size=args.batch_size,
        write=getattr(args, "write", None), sidecar_name=getattr(args, "sidecar_name", None),
        keep_backup=getattr(args, "keep_backup", None),
    )


def check_questions(settings: Settings) -> None:
    """A usage CliError (one line, naming the file) for a question set that cannot be read, said before
    anything starts: the model is loaded only when the first photo needs it, which for `watch` and
    `service` may be never (an empty folder) or hours later. Cheap: no torch."""
    from autotagger.engine.questions import QuestionSetError, load_question_set

    try:
        load_question_set(settings.questions or None)
    except QuestionSetError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


def load_tagger(settings: Settings) -> Blip2Tagger:
    """The real tagger, or a one-line CliError saying what to do (a question set this model cannot
    take is a usage error, as a bad file is)."""
    from autotagger.engine.blip2 import Blip2Tagger, ModelLoadError
    from autotagger.engine.questions import QuestionSetError

    try:
        return Blip2Tagger.from_settings(settings)
    except ModelLoadError as exc:
        raise CliError(str(exc)) from None
    except QuestionSetError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


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


def open_catalog(settings: Settings) -> Catalog:
    """The catalogue, checked writable before the model loads and before a photo is touched: one that
    refuses the records only after the files were changed leaves photos tagged that no search finds."""
    from autotagger.catalog import Catalog, CatalogError

    try:
        catalog = Catalog(settings.catalog_path)
    except CatalogError as exc:
        raise CliError(f"{exc} (or use --no-catalog)") from None
    try:
        catalog.check_writable()
    except CatalogError as exc:
        catalog.close()
        raise CliError(f"{exc} (or use --no-catalog)") from None
    return catalog


class _Interrupted(BaseException):
    """Raised by the signal handler where nothing is half done: loading the model, running it. Not an
    Exception, as KeyboardInterrupt is not: library code in between catches Exception (huggingface_hub's
    lazy import prints "Error importing ..." on stdout, in the middle of --json output; a loader turns
    it into a load failure) and must let this through untouched."""


class _Stop:
    """SIGINT and SIGTERM during `tag`. The first stops the run: at once while the model loads or runs,
    else before the next photo is written; writes already begun finish (each is a temp file, fsync and
    atomic replace) and are recorded and reported, so no photo is left changed but unsaid. A later one
    only says to wait: stopping harder could leave a half-written temp file beside a photo."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.writer: ResultWriter | None = None
        self._inside = False
        self._said = False

    def handle(self, signum: int, frame: object) -> None:
        if self.signum is not None:
            if not self._said:
                self._said = True
                _say("autotagger: still finishing the photos being written, so that none is left half done\n")
            return
        self.signum = signum
        if self.writer is not None:
            self.writer.stop()
        if self._inside:
            raise _Interrupted

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        if self.signum is not None:
            raise _Interrupted
        self._inside = True
        try:
            yield
        finally:
            self._inside = False

    @contextmanager
    def installed(self) -> Iterator[_Stop]:
        if threading.current_thread() is not threading.main_thread():  # signals go to the main thread only
            yield self
            return
        previous = {sig: signal.signal(sig, self.handle) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _say(text: str) -> None:
    """Straight to fd 2: from a signal handler, sys.stderr may be in the middle of a write of its own."""
    with suppress(OSError, ValueError):
        os.write(2, text.encode())


class _InterruptibleTagger:
    """The tagger, its model runs open to the first stop signal (see _Stop)."""

    def __init__(self, tagger: Any, stop: _Stop) -> None:
        self._tagger, self._stop = tagger, stop

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tagger, name)

    def tag_images(self, images: Sequence[ImageInput]) -> list[TagResult]:
        with self._stop.interruptible():
            return list(self._tagger.tag_images(images))


def run(args: argparse.Namespace) -> int:
    quiet_libraries(args.verbose)
    settings = settings_from(args)
    check_questions(settings)
    errors: list[str] = []

    def bad(path: str, msg: str) -> None:
        errors.append(path)
        print_error(f"{path}: {msg}")

    given = {os.path.expanduser(p) for p in args.paths}

    def not_found(path: str, msg: str) -> None:
        """A path given that is not there (or a folder given that cannot be read): with --json, a line
        of its own, as a photo that failed gets, so that a script sees every path it gave. What a folder
        holds that is skipped (a name that is not UTF-8, a broken link) is only said on stderr."""
        bad(path, msg)
        if args.json and path in given:
            emit_json({"path": path, "ok": False, "error": msg, "caption": "", "tags": []})

    from autotagger.service.tagfiles import collect_files

    files = collect_files(args.paths, recursive=args.recursive, on_error=not_found)
    if not files:
        if errors:
            return EXIT_SOME_FAILED
        raise CliError(_nothing_found(args.paths, args.recursive))
    catalog = None if args.no_catalog else open_catalog(settings)
    try:
        with _Stop().installed() as stop:
            code = _tag(args, settings, files, catalog, stop, bad)
    finally:
        if catalog is not None:
            catalog.close()
    if code is not None:
        return code
    return EXIT_SOME_FAILED if errors else EXIT_OK


def _nothing_found(paths: Sequence[str], recursive: bool) -> str:
    """The one line for "no image files found in A, B": where it looked, so that a wrong argument shows."""
    from autotagger.watch.files import printable

    where = ", ".join(printable(p) for p in paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
    hint = "" if recursive or not any(os.path.isdir(p) for p in paths) else " (use --recursive for sub-folders)"
    return f"no image files found in {where}{hint}"


def _tag(
    args: argparse.Namespace, settings: Settings, files: list[str], catalog: Catalog | None, stop: _Stop,
    bad: Callable[[str, str], None],
) -> int | None:
    """Load the model, tag and write ``files``; the exit code when stopped early, else None."""
    from autotagger.service.tagfiles import FileOutcome, ResultWriter, tag_paths

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
            caption = r.caption if outcome.kept_caption is None else f"{outcome.kept_caption} (the file's own, kept)"
            print(f"{r.path}\n  caption: {caption}\n  tags:    {', '.join(t.path for t in r.tags) or '-'}", flush=True)

    try:
        with stop.interruptible():
            tagger = load_tagger(settings)
        with ResultWriter(
            write_mode=settings.write, sidecar_name=settings.sidecar_name,
            keep_backup=settings.keep_backup, catalog=catalog,
        ) as writer:
            stop.writer = writer
            results = tag_paths(files, _InterruptibleTagger(tagger, stop), batch_size=tagger.batch_size)
            try:
                for result in results:
                    if writer.stopped:
                        break
                    for outcome in writer.submit(result):
                        report(outcome)
            except _Interrupted:
                pass
            finally:
                results.close()  # the decodes not started are dropped
            for outcome in writer.finish():
                report(outcome)
            return _stopped_early(writer, stop, progress.n, len(files))
    except _Interrupted:  # while the model loaded: nothing touched
        return _stopped_early(None, stop, 0, len(files))
    finally:
        progress.clear()
        stop.writer = None


def _stopped_early(writer: ResultWriter | None, stop: _Stop, done: int, total: int) -> int | None:
    """Say once, in one line, why the run stopped before the end, with how far it got."""
    if writer is not None and writer.catalog_error:
        print_error(f"{writer.catalog_error}; stopped after {done} of {total} photos, "
                    f"{writer.unrecorded} of them not recorded in the catalogue")
        if stop.signum is None:
            return EXIT_SOME_FAILED
    if stop.signum is not None:
        print_error(f"interrupted after {done} of {total} photos")
        return 128 + stop.signum
    return None
