"""autotagger model make-tiny|download|info: manage BLIP-2 checkpoints."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from autotagger.cli.common import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    EXIT_USAGE,
    CliError,
    emit_json,
    is_tty,
    quiet_libraries,
)
from autotagger.engine.download import (
    ALLOW_PATTERNS,  # noqa: F401  (re-exported: what `download` fetches)
    looks_like_a_path,
)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("model", help="make a tiny test model, download or inspect a checkpoint")
    msub = p.add_subparsers(dest="model_command", metavar="ACTION", required=True)
    t = msub.add_parser("make-tiny", help="write a tiny random-weight BLIP-2 (for tests and demos; its tags are noise)")
    t.add_argument("directory")
    t.add_argument("--text-model", choices=["opt", "t5"], default="opt")
    t.add_argument("--seed", type=int, default=0)
    t.set_defaults(run=run_make_tiny)
    d = msub.add_parser("download", help="download a checkpoint into the Hugging Face cache (needs network)")
    d.add_argument("model_id", nargs="?", default=None, help="hub id (default: the configured model)")
    d.add_argument("--to", metavar="DIR", help="also copy it into DIR, a new or empty folder (for --model DIR, or "
                   "to carry to a machine without network; offline, a model already in the cache is copied)")
    d.set_defaults(run=run_download)
    i = msub.add_parser("info", help="where a model would load from, and whether it is available offline")
    i.add_argument("model_id", nargs="?", default=None)
    i.add_argument("--json", action="store_true")
    i.set_defaults(run=run_info)


def run_make_tiny(args: argparse.Namespace) -> int:
    quiet_libraries(args.verbose)
    from autotagger.engine.tiny import make_tiny

    try:
        out = make_tiny(args.directory, text_model=args.text_model, seed=args.seed)
    except OSError as exc:
        raise CliError(f"cannot write {args.directory}: {exc.strerror or exc}") from None
    print(out)
    return EXIT_OK


def _model_id(args: argparse.Namespace) -> str:
    from autotagger.cli.common import load_settings_from_args

    return str(args.model_id or load_settings_from_args(args).model)


class TerminalProgress:
    """One self-overwriting progress line on a terminal: ``NAME  1234 / 15500 MB  8%``."""

    def __init__(self, name: str, stream: TextIO, min_interval: float = 0.2) -> None:
        self.name, self.stream, self.min_interval = name, stream, min_interval
        self._last = -1.0
        self._shown = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < self.min_interval:
            return
        self._last = now
        pct = f"{100 * done / total:3.0f}%" if total else ""
        self.stream.write(f"\r{self.name}  {done / 1e6:,.0f} / {total / 1e6:,.0f} MB  {pct}\x1b[K")
        self.stream.flush()
        self._shown = True

    def finish(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False


def _not_a_hub_id(model_id: str) -> None:
    """A usage CliError for a local folder or file given where a hub id is wanted: there is nothing to
    download, and a folder may be what the person meant to download *into* (that is --to)."""
    from pathlib import Path

    local = Path(model_id).expanduser()
    if local.is_dir():
        raise CliError(f"{model_id} is already a local folder: nothing to download (use it as --model {model_id}; "
                       "to download into a folder: autotagger model download ID --to DIR)", EXIT_USAGE)
    if local.is_file():
        raise CliError(f"{model_id} is a file, not a hub id (a hub id looks like Salesforce/blip2-opt-2.7b)",
                       EXIT_USAGE)


def run_download(args: argparse.Namespace) -> int:
    quiet_libraries(args.verbose)
    model_id = _model_id(args)
    _not_a_hub_id(model_id)
    from autotagger.engine.download import ModelDownloadError, download_model, download_to

    bar = TerminalProgress(f"downloading {model_id}", sys.stderr) if is_tty() else None
    try:
        path = download_model(model_id, progress=bar) if args.to is None else download_to(model_id, args.to,
                                                                                          progress=bar)
    except ModelDownloadError as exc:
        if bar is not None:
            bar.finish()
        hint = ""
        if exc.reason == "offline":
            hint = ("; on a connected machine run `autotagger model download ID --to DIR` and copy DIR here "
                    "(then --model DIR), or copy the Hugging Face cache (~/.cache/huggingface/hub)")
        raise CliError(f"{exc}{hint}", EXIT_USAGE if exc.reason == "destination" else EXIT_SOME_FAILED) from None
    if bar is not None:
        bar.finish()
    print(path)
    return EXIT_OK


def run_info(args: argparse.Namespace) -> int:
    """Where the model would load from and whether it loads offline: the same file checks the
    load makes (a blip-2 config, every safetensors shard, a tokenizer, the image processor), so
    "available offline" is never said of a folder or a partial cache the load would refuse."""
    model_id = _model_id(args)
    from pathlib import Path

    from autotagger.engine.checkpoint import checkpoint_problem

    info: dict[str, object] = {"model": model_id}
    local = Path(model_id).expanduser()
    if local.is_dir():
        problem = checkpoint_problem(local)
        info.update(source="folder", path=str(local), available=problem is None, problem=problem)
    elif local.is_file():
        raise CliError(f"{model_id} is a file, not a model folder (a hub id looks like Salesforce/blip2-opt-2.7b)")
    elif looks_like_a_path(model_id):
        raise CliError(f"no model folder {local} (a hub id looks like Salesforce/blip2-opt-2.7b)")
    else:
        from huggingface_hub import constants, try_to_load_from_cache

        try:
            hit = try_to_load_from_cache(model_id, "config.json", cache_dir=constants.HF_HUB_CACHE)
        except ValueError as exc:  # HFValidationError: not a folder here, nor a well-formed hub id
            raise CliError(f"{model_id}: no such folder, nor a hub id ({' '.join(str(exc).split())[:120]})") from None
        if isinstance(hit, str):
            problem = checkpoint_problem(Path(hit).parent)
            info.update(source="hub", path=str(Path(hit).parent), available=problem is None,
                        problem=problem and f"only partly in the cache: {problem}")
        else:
            info.update(source="hub", path=None, available=False, problem="not downloaded")
    if args.json:
        emit_json(info)
    elif info["source"] == "folder" and not info["available"]:
        raise CliError(f"{model_id}: {info['problem']}")
    elif info["available"]:
        print(f"{model_id}: available offline at {info['path']}")
    else:
        print(f"{model_id}: {info['problem']} (run: autotagger model download {model_id})")
    return EXIT_OK
