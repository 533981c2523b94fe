"""autotagger tray: keep tagging in the background, with a tray icon (one per catalogue). When a service
already runs on the catalogue (the systemd/launchd unit, `autotagger service`), the icon shows that one."""

from __future__ import annotations

import argparse
from pathlib import Path

from autotagger.cli.common import EXIT_OK, CliError, load_settings_from_args, quiet_libraries


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("tray", help="run the tagger in the background with a tray icon", description=__doc__)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    quiet_libraries(getattr(args, "verbose", False))
    settings = load_settings_from_args(args)
    try:
        from autotagger.gui.tray import run_tray
    except ImportError as exc:
        raise CliError(f"the tray needs PySide6 (pip install 'autotagger[gui]'): {exc}") from None
    from autotagger.config import default_config_path

    def tagger_factory():
        from autotagger.engine.blip2 import Blip2Tagger

        return Blip2Tagger.from_settings(settings)

    config = Path(args.config) if getattr(args, "config", None) else default_config_path()
    code, message = run_tray(settings, config, tagger_factory)
    if code:
        raise CliError(message or "the tray stopped")
    return EXIT_OK
