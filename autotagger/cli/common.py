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


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def load_settings_from_args(args: argparse.Namespace, **overrides: Any) -> Settings:
    """Settings from the config file and environment, then the global and given flag overrides."""
    from autotagger.config import ConfigError, load_settings

    try:
        settings = load_settings(Path(args.config) if getattr(args, "config", None) else None)
        return settings.replace(catalog=getattr(args, "catalog", None), **overrides)
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
