"""Shared CLI helpers: exit codes, one-line errors, settings from flags, JSON Lines."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autotagger.config import Settings

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C
EXIT_READER_GONE = 141  # 128 + SIGPIPE, as a shell reports `cmd | head` for a command that died of it


# Commands that may write a --config file that is not there yet (their settings dialog saves it).
SAVES_SETTINGS = ("gui", "tray")


class CliError(Exception):
    """Raised by commands for a one-line, user-facing failure."""

    def __init__(self, message: str, code: int = EXIT_SOME_FAILED) -> None:
        super().__init__(message)
        self.code = code


def folder_arg(raw: str) -> str:
    """A folder named on the command line, absolute; a usage CliError if it is not one we can watch."""
    import os

    from autotagger.watch.files import BAD_NAME, bad_name, printable

    path = os.path.abspath(os.path.expanduser(raw))
    if not os.path.isdir(path):
        raise CliError(f"{printable(path)}: not a folder", EXIT_USAGE)
    if bad_name(path):
        raise CliError(f"{printable(path)}: folder {BAD_NAME}", EXIT_USAGE)
    return path


def print_error(message: str) -> None:
    text = " ".join(str(message).split())  # always one line
    print(f"autotagger: error: {text}", file=sys.stderr, flush=True)


def print_warning(message: str) -> None:
    text = " ".join(str(message).split())
    print(f"autotagger: warning: {text}", file=sys.stderr, flush=True)


def reader_gone() -> int:
    """The exit status once whatever reads our stdout has gone (`autotagger search --json | head -1`):
    stdout is pointed at the null device first, so that Python's own flush at exit cannot fail again
    and print a traceback of its own (or turn the status into 120)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real stdout (a test's capture): nothing left to flush into it
        pass
    return EXIT_READER_GONE


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def load_settings_from_args(args: argparse.Namespace, *, makes_catalog: bool = False, **overrides: Any) -> Settings:
    """Settings from the config file and environment, then the global and given flag overrides.
    ``makes_catalog``: the command makes the catalogue where there is none, so a ``--catalog`` in a
    folder that does not exist is refused (a mistyped path would get its whole folder tree made)."""
    from autotagger.config import ConfigError, load_settings

    catalog = getattr(args, "catalog", None)
    if makes_catalog and catalog and not Path(catalog).expanduser().parent.is_dir():
        folder = Path(catalog).expanduser().parent
        raise CliError(f"--catalog {catalog}: there is no folder {folder} (make it first, or check the path)",
                       EXIT_USAGE)

    config = getattr(args, "config", None)
    if config and getattr(args, "command", None) not in SAVES_SETTINGS and not Path(config).expanduser().exists():
        # a mistyped --config would otherwise tag with the defaults, silently
        raise CliError(f"--config {config}: no such file (leave --config out to use the default one)", EXIT_USAGE)
    try:
        settings = load_settings(Path(config).expanduser() if config else None)
        return settings.replace(catalog=catalog, **overrides)
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


def quiet_libraries(verbose: bool) -> None:
    """Keep transformers/torch chatter off the user's terminal unless --verbose."""
    if verbose:
        return
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    import warnings

    warnings.filterwarnings("ignore")


def is_tty() -> bool:
    return sys.stderr.isatty()
