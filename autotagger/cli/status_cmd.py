"""autotagger status: what the catalogue holds: images, tagged, pending, failed (last errors), folders, models."""

from __future__ import annotations

import argparse
import dataclasses
import time

from autotagger.cli.common import EXIT_OK, emit_json


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("status", help="catalogue summary: images, tagged, pending, failed, folders, model")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from autotagger.cli.search_cmd import reading_catalog

    with reading_catalog(args) as cat:
        st = cat.status()
    if args.json:
        d = dataclasses.asdict(st)
        d["last_errors"] = [{"path": p, "error": e} for p, e in st.last_errors]
        d["folders"] = list(st.folders)
        d["model_ids"] = list(st.model_ids)
        emit_json(d)
        return EXIT_OK
    print(f"catalogue: {st.path} (schema v{st.schema_version})")
    print(f"images:    {st.images}  tagged {st.tagged}, pending {st.pending}, failed {st.failed}")
    waiting = ""
    if st.jobs_waiting and st.next_retry is not None:
        waiting = f" ({st.jobs_waiting} to be tried again, the first at {time.strftime('%H:%M:%S', time.localtime(st.next_retry))})"
    print(f"queue:     {st.jobs_pending} pending{waiting}, {st.jobs_claimed} in progress, {st.jobs_failed} failed")
    print(f"model:     {', '.join(st.model_ids) if st.model_ids else '(none yet)'}")
    print(f"folders:   {len(st.folders)}")
    for folder in st.folders:
        print(f"  {folder}")
    if st.last_errors:
        print("last errors:")
        for path, error in st.last_errors:
            print(f"  {path}: {error}")
    return EXIT_OK
