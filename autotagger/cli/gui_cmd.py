"""autotagger gui: open the window to browse, search and correct the catalogue."""

from __future__ import annotations

import argparse
from pathlib import Path

from autotagger.cli.common import EXIT_OK, CliError, load_settings_from_args


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("gui", help="open the window: browse, search and correct tags", description=__doc__)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings_from_args(args)
    try:
        from autotagger.gui.app import run_gui
    except ImportError as exc:
        raise CliError(f"the GUI needs PySide6 (pip install 'autotagger[gui]'): {exc}") from None
    from autotagger.config import default_config_path

    config = Path(args.config) if getattr(args, "config", None) else default_config_path()
    code = run_gui(settings, config)
    return EXIT_OK if code == 0 else code
