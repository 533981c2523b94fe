"""Command line: a thin layer over the core. Each command lives in its own module with
``register(subparsers)`` and ``run(args) -> int``; modules import heavy things (torch, Qt) only
inside ``run`` so that ``autotagger --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from typing import Any

from autotagger import __version__
from autotagger.cli.common import EXIT_INTERRUPTED, EXIT_USAGE, CliError, print_error, reader_gone

# Order is the order shown in --help. A module that is not there yet is skipped.
COMMANDS = (
    "tag",
    "watch",
    "service",
    "folders",
    "search",
    "status",
    "tags",
    "export",
    "undo",
    "gui",
    "tray",
    "model",
    "doctor",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        print_error(f"{self.prog}: {message} (see --help)")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="autotagger",
        description="Caption and keyword-tag photographs with BLIP-2; write the tags into the files "
        "(XMP/IPTC/EXIF or sidecars) and a searchable catalogue.",
    )
    parser.add_argument("--version", action="version", version=f"autotagger {__version__}")
    _add_global_options(parser, None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        modname = f"autotagger.cli.{name}_cmd"
        if importlib.util.find_spec(modname) is None:
            continue
        module = importlib.import_module(modname)
        module.register(sub)
    _global_options_everywhere(parser)
    return parser


def _add_global_options(parser: argparse.ArgumentParser, default: object) -> None:
    """--config, --catalog, -v: before the command (``default`` None) or after it (SUPPRESS: given
    there, they override what was given before; not given, they leave it)."""
    kw: dict[str, Any] = {} if default is None else {"default": default}
    parser.add_argument("--config", metavar="FILE", help="config file (default: the user config dir)", **kw)
    parser.add_argument("--catalog", metavar="FILE", help="catalogue file (or AUTOTAGGER_CATALOG)", **kw)
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show library warnings and tracebacks", **kw)


def _global_options_everywhere(parser: argparse.ArgumentParser) -> None:
    """`autotagger status --catalog X` as well as `autotagger --catalog X status`, at every level."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _add_global_options(child, argparse.SUPPRESS)
                _global_options_everywhere(child)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        code = int(args.run(args))
        sys.stdout.flush()  # here, not at exit: a reader that left is then seen below, not as a traceback
        return code
    except CliError as exc:
        print_error(str(exc))
        return exc.code
    except KeyboardInterrupt:
        print_error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader left (`| head`): stop quietly, as a command killed by SIGPIPE does
        return reader_gone()
    except Exception as exc:  # a last guard: one line, not a traceback, unless --verbose
        if getattr(args, "verbose", False):
            raise
        print_error(last_resort_message(exc))
        return EXIT_USAGE if type(exc).__name__ == "ConfigError" else 1


def last_resort_message(exc: BaseException) -> str:
    """One line for an error no command turned into a message: a bad setting is said as the setting
    says it, and so is a catalogue's (it names the file); a file error names the file and the reason,
    not Python's class; else the class helps."""
    if type(exc).__name__ == "ConfigError" or any(c.__name__ == "CatalogError" for c in type(exc).__mro__):
        return " ".join(str(exc).split())
    if isinstance(exc, OSError) and exc.strerror:
        reason = exc.strerror[:1].lower() + exc.strerror[1:]  # "No such file" -> "no such file"
        return f"{exc.filename}: {reason}" if exc.filename is not None else reason
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def gui_main() -> int:
    return main(["gui", *sys.argv[1:]])
