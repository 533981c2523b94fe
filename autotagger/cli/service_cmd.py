"""autotagger service: watch the remembered folders (`autotagger folders list`: the catalogue's, and
`folders` in the settings) and tag in the background (headless; for the tray, systemd and launchd).
With --status/--pause/--resume/--stop it talks to a service already running on the same catalogue
instead."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from autotagger.cli.common import EXIT_OK, CliError, emit_json


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from autotagger.cli.watch_cmd import add_service_options

    p = sub.add_parser("service", help="tag new photos in the remembered folders, headless", description=__doc__)
    ctl = p.add_mutually_exclusive_group()
    ctl.add_argument("--status", action="store_true", help="show the running service's state and exit")
    ctl.add_argument("--pause", action="store_true", help="ask the running service to pause")
    ctl.add_argument("--resume", action="store_true", help="ask the running service to resume")
    ctl.add_argument("--stop", action="store_true", help="ask the running service to stop")
    add_service_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from autotagger.cli.common import load_settings_from_args

    if args.status or args.pause or args.resume or args.stop:
        from autotagger.service import control

        path = load_settings_from_args(args).catalog_path
        state = control.read_state(path)
        if (args.pause or args.resume or args.stop) and state is not None and state.running:
            # only to a service that runs: one that starts later ignores older requests, so a request
            # file written now would do nothing but stay beside the catalogue
            control.request(path, paused=True if args.pause else False if args.resume else None, stop=args.stop)
            state = control.read_state(path)
        elif not args.status and not path.parent.is_dir():
            raise CliError(f"no catalogue at {path} (its folder does not exist)")
        if args.status:
            if state is None:
                raise CliError(f"no service has run on catalogue {path}")
            data = dataclasses.asdict(state)
            if args.json:
                emit_json(data)
            else:
                for k, v in data.items():
                    if isinstance(v, (list, tuple)):  # folders, warnings: one a line
                        print(f"{k}:" + ("" if v else " -"))
                        for item in v:
                            print(f"  {item}")
                    else:
                        print(f"{k}: {v}")
        elif state is None or not state.running:
            # a service starts unpaused and ignores earlier requests (control.ControlReader.reset)
            print("autotagger: no service is running on this catalogue; nothing to pause, resume or stop",
                  file=sys.stderr)
        return EXIT_OK
    from autotagger.cli.watch_cmd import run_service

    return run_service(args, None, headless=True)
