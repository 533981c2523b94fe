"""autotagger watch [DIR...]: watch folders and tag new photos as they arrive (foreground). Without DIR it
watches the remembered folders (`autotagger folders list`: the catalogue's, and `folders` in the settings)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence

from autotagger.cli.common import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    EXIT_USAGE,
    CliError,
    emit_json,
    folder_arg,
    is_tty,
    print_warning,
    reader_gone,
)


def retry_when(seconds: float) -> str:
    """ " in 5 s" / " in 2 min" for a retry's wait; "" when it is immediate."""
    if seconds <= 0:
        return ""
    return f" in {seconds:.0f} s" if seconds < 90 else f" in {seconds / 60:.0f} min"


def add_service_options(p: argparse.ArgumentParser) -> None:
    from autotagger.cli.tag_cmd import add_model_options, add_write_options

    p.add_argument("--settle", type=float, metavar="SECONDS",
                   help="a file is tagged once its size and mtime are stable this long (default 2)")
    p.add_argument("--poll", action="store_true", default=None,
                   help="poll instead of inotify (network shares; also the fallback when inotify runs out)")
    p.add_argument("--json", action="store_true", help="one JSON object per tagged/failed file on stdout")
    add_model_options(p)
    add_write_options(p)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("watch", help="watch folders and tag new photos as they arrive", description=__doc__)
    p.add_argument("dirs", nargs="*", metavar="DIR",
                   help="folders to watch (default: the remembered ones, see autotagger folders list)")
    p.add_argument("-r", "--recursive", action=argparse.BooleanOptionalAction, default=None,
                   help="watch sub-folders too (default on)")
    p.add_argument("--once", action="store_true", help="tag what is there now, then exit (for cron and scripts)")
    add_service_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    dirs = [folder_arg(d) for d in args.dirs]
    return run_service(args, dirs or None, headless=False, need_folders=True)


def run_service(args: argparse.Namespace, folders: Sequence[str] | None, headless: bool,
                need_folders: bool = False) -> int:
    """Shared by watch and service: build the settings and the service, show progress, map exits.
    ``folders`` None: the remembered ones (ServiceOptions.from_settings); ``need_folders``: none is an error."""
    from autotagger.cli.common import quiet_libraries
    from autotagger.cli.tag_cmd import check_questions, settings_from

    quiet_libraries(getattr(args, "verbose", False))
    settings = settings_from(args)
    settings = settings.replace(
        settle_seconds=args.settle, poll=args.poll, recursive=getattr(args, "recursive", None)
    )
    check_questions(settings)
    from autotagger.catalog import AlreadyRunning, CatalogError
    from autotagger.service.events import FileFailed, FileTagged, Notice, StateChanged
    from autotagger.service.service import Service, ServiceOptions

    opts = ServiceOptions.from_settings(settings, folders=folders, once=bool(getattr(args, "once", False)))
    if need_folders and opts.folders is not None and not opts.folders:
        raise CliError("no folders to watch: name them (autotagger watch DIR...) or remember them "
                       "(autotagger folders add DIR)", EXIT_USAGE)

    def make_tagger():
        from autotagger.engine.blip2 import Blip2Tagger

        return Blip2Tagger.from_settings(settings)

    service = Service(opts, make_tagger)
    live = is_tty() and not headless and not args.json
    shown = {"line": False}

    def clear() -> None:
        if shown["line"]:
            sys.stderr.write("\r\x1b[K")
            shown["line"] = False

    gone = threading.Event()  # the reader of our stdout left (`watch --json | head -1`)

    def emit(obj: dict[str, object]) -> None:
        """A JSON line; once nobody reads them, the service stops as `tag` does (the batch in the model
        finishes and is recorded), rather than go on tagging for no one. The service calls us on its
        own threads and ignores what we raise, so the error is turned into a stop here."""
        if gone.is_set():
            return
        try:
            emit_json(obj)
        except BrokenPipeError:
            gone.set()
            service.stop()

    def on_event(ev: object) -> None:
        if isinstance(ev, FileTagged) and args.json:
            emit({"path": ev.path, "ok": True, "error": None, "caption": ev.caption, "tags": list(ev.tags),
                  "reused": ev.reused})
        elif isinstance(ev, FileFailed):
            if args.json and not ev.will_retry:  # one line per file: its final outcome
                emit({"path": ev.path, "ok": False, "error": ev.error, "caption": "", "tags": []})
            clear()
            print_warning(ev.error + (f" (will retry{retry_when(ev.retry_in)})" if ev.will_retry else ""))
        elif isinstance(ev, Notice):
            clear()
            print_warning(ev.message) if ev.level != "info" else print(f"autotagger: {ev.message}", file=sys.stderr)
        elif isinstance(ev, StateChanged) and live:
            s = ev.state
            state = "paused" if s.paused else f"{s.images_per_s:.1f}/s"
            current = os.path.basename(s.current_file) if s.current_file else "idle"
            sys.stderr.write(f"\r\x1b[Kqueue {s.queue_length}  done {s.done}  failed {s.failed}  {state}  {current}")
            sys.stderr.flush()
            shown["line"] = True

    service.subscribe(on_event)
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, lambda *_: service.stop())
    try:
        failed = service.run()
    except AlreadyRunning as exc:
        raise CliError(f"{exc} (stop it first, or use its control: autotagger service --pause/--stop)") from None
    except CatalogError as exc:
        raise CliError(str(exc)) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        clear()
    if gone.is_set():
        return reader_gone()
    if service.exit_error:
        raise CliError(service.exit_error)
    snap = service.snapshot()
    if not args.json:
        print(f"autotagger: {snap.done} tagged, {snap.failed} failed", file=sys.stderr)
    return EXIT_SOME_FAILED if failed else EXIT_OK
