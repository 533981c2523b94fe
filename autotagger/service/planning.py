"""What a claimed batch needs, decided before anything is decoded: each capture group's members on
disk (a RAW+JPEG pair is one item), which of them are out of date, and a result already known for it
(the journal of a crashed run, or the catalogue's record of its JPEG) so that the model is spared.

Runs on the worker's loader thread, with the loader's own catalogue connection.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from autotagger.service.items import WorkItem, one_line
from autotagger.service.journal import Journal
from autotagger.service.results import result_from_record, up_to_date
from autotagger.watch.files import group_key, is_candidate, primary_of
from autotagger.watch.hashing import content_hash
from autotagger.watch.settle import FileStat

# The job reason for "tag this again" (GUI, tray): the model runs even if the file is up to date.
RETAG = "retag"


def asked_again(jobs: list[Any]) -> bool:
    """A person asked for these files to be tagged again: the model runs, whatever is known."""
    return any(getattr(j, "reason", "") == RETAG for j in jobs)


def members_on_disk(group_keys: Iterable[str]) -> dict[str, list[str]]:
    """Capture group key -> the photos of that group on disk now: one listdir per folder."""
    index: dict[str, list[str]] = {}
    stems: dict[str, set[str]] = {}  # folder -> the batch's stems there (a group key's last part)
    for key in group_keys:
        folder, stem = os.path.split(key)
        stems.setdefault(folder, set()).add(stem)
    for folder, wanted in stems.items():
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:  # a big folder: test the stem first (20,000 names: 143 -> 28 ms a batch)
            if os.path.splitext(name)[0].lower() in wanted and is_candidate(name):
                p = os.path.join(folder, name)
                index.setdefault(group_key(p), []).append(p)
    return index


def plan_group(cat: Any, jobs: list[Any], on_disk: list[str], journal: Journal) -> WorkItem:
    """One capture group's work item: skipped (vanished, already done), failed (unreadable), or to
    be tagged, with a known result to reuse where there is one."""
    members = set(on_disk)
    members.update(j.path for j in jobs if os.path.exists(j.path))
    if not members:
        return WorkItem(jobs[0].path, [], jobs, skip="vanished")
    stats: dict[str, FileStat] = {}
    for m in sorted(members):
        try:
            st = os.stat(m)
        except OSError:
            continue
        stats[m] = FileStat.of(st)
    if not stats:
        return WorkItem(jobs[0].path, [], jobs, skip="vanished")
    recs = {m: cat.get_image(m) for m in stats}
    pending = list(stats) if asked_again(jobs) else [m for m in stats if not up_to_date(recs[m], stats[m])]
    primary = primary_of(stats)
    if not pending:
        return WorkItem(primary, [], jobs, skip="done")
    item = WorkItem(primary, sorted(pending), jobs)
    try:
        item.content_hash = content_hash(primary)
    except OSError as exc:
        item.error = one_line(exc)
        return item
    item.reuse = journal.load(primary, item.content_hash)
    if item.reuse is None and primary not in pending and recs[primary].model_id:
        item.reuse = result_from_record(recs[primary], primary)  # e.g. a RAW arriving after its JPEG
    return item
