"""The worker's second half: write a batch's files (on the write pool), then record the batch in the
catalogue in one commit (on the finish thread), so that the model runs the next batch meanwhile.

After the commit, and only then: the journal entries of the batch go, its jobs stop counting as in
flight, and its events go out. See worker.py for the order that makes a crash safe.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import os
import time
from collections.abc import Callable
from typing import Any

from autotagger.service.events import Event, FileFailed, FileTagged
from autotagger.service.items import (
    WorkerConfig,
    WorkItem,
    Written,
    kept_caption,
    one_line,
    retry_delay,
    write_and_read_back,
)
from autotagger.service.journal import Journal
from autotagger.service.results import PersonEdits, metadata_for
from autotagger.types import TagResult
from autotagger.watch.settle import FileStat

#: How many of the last completion times are kept, for the rate a front end shows (Worker.rate looks
#: at the last few seconds only): a service that runs for weeks must not keep one per photo it tagged.
KEEP_COMPLETED = 1000


@dataclasses.dataclass
class Finishing:
    """A batch through the model, its files being written: what the finish thread records."""

    batch: list[WorkItem]
    results: dict[int, TagResult]  # id(item) -> the model's result, for the items it saw
    writes: dict[int, list[concurrent.futures.Future[Written]]]


class Recorder:
    def __init__(
        self,
        config: WorkerConfig,
        journal: Journal,
        emit: Callable[[Event], None],
        own_write: Callable[[str, FileStat], None],
        settle: Callable[[int], None],
    ) -> None:
        self.config = config
        self._journal = journal
        self._emit = emit
        self._own_write = own_write
        self._settle = settle  # jobs committed: no longer in flight
        self.done = 0
        self.failed = 0  # files that failed for good (not attempts)
        self.completed_at: collections.deque[float] = collections.deque(maxlen=KEEP_COMPLETED)
        # what a batch's recording leaves for after its commit: events, jobs settled, journal entries done
        self._later: list[Event] = []
        self._settled = 0
        self._journal_done: list[tuple[str, str]] = []

    def record_batch(self, cat: Any, handed: Finishing) -> None:
        """On the finish thread: wait for the batch's files, then record it all in one commit."""
        written = {i: [f.result() for f in fs] for i, fs in handed.writes.items()}  # before the catalogue is locked
        with cat.transaction():
            for it in handed.batch:
                if it.skip:
                    self._finish(cat, it)
                elif it.error is not None:
                    self._fail(cat, it, it.error)
                elif id(it) not in written:
                    result = it.reuse if it.reuse is not None else handed.results[id(it)]
                    self._fail(cat, it, f"{it.primary}: {result.error}")
                else:
                    self._record(cat, it, written[id(it)])
        self._after_commit()

    def _after_commit(self) -> None:
        """Once the batch is in the catalogue: its journal entries go, its jobs stop counting as in
        flight (the --once end test reads both) and its events go out (a front end that reads the
        catalogue on one finds it there)."""
        self._journal.remove_many(self._journal_done)
        self._settle(self._settled)
        events = self._later
        self._journal_done, self._settled, self._later = [], 0, []
        for ev in events:
            self._emit(ev)

    def write_member(self, member: str, result: TagResult, edits: PersonEdits) -> Written:
        """Write one file's metadata (a person's edits winning) and read back what the catalogue
        needs. No catalogue here: runs on the write pool."""
        from autotagger.metadata import FileChangedError, MetadataError

        mine = dataclasses.replace(result, path=member)
        c = self.config
        try:
            done, st, h, info = write_and_read_back(
                member, metadata_for(mine, edits), write_mode=c.write_mode, sidecar_name=c.sidecar_name,
                keep_backup=c.keep_backup,
            )
        except FileChangedError:
            return Written(member, mine, changed=True)
        except (MetadataError, OSError) as exc:
            msg = one_line(exc)
            return Written(member, mine, error=msg if member in msg else f"{member}: {msg}")
        self._own_write(member, st)
        return Written(member, mine, st, h, info, kept_caption=kept_caption(done, mine.caption, edits))

    def _record(self, cat: Any, it: WorkItem, written: list[Written]) -> None:
        # A file renamed or deleted while its batch ran: its record (and job) followed the file or goes
        # with it, so nothing is recorded at, nor failed for, the old name (a rename is no error, and a
        # record there would outlive the file); the file at its new name is queued again below.
        gone = {w.path for w in written if not os.path.lexists(w.path)}
        errors = [w for w in written if w.error and w.path not in gone]
        for w in written:
            if w.error or w.changed or w.stat is None or w.path in gone:
                continue
            cat.record_result(
                w.result,
                size=w.stat.size,
                mtime=w.stat.mtime,
                content_hash=w.content_hash,
                width=w.info.get("width"),
                height=w.info.get("height"),
                captured_at=w.info.get("captured_at"),
                camera=w.info.get("camera"),
            )
            if w.kept_caption is not None:  # the file's own caption, not ours: the catalogue says so too
                cat.set_caption(w.path, w.kept_caption)
            self.done += 1
            self.completed_at.append(time.monotonic())
            tags = tuple(t.path for t in w.result.tags)
            caption = w.kept_caption if w.kept_caption is not None else w.result.caption
            self._later.append(FileTagged(w.path, caption, tags, it.reuse is not None))
        if errors:
            self._fail(cat, it, errors[0].error or "", members=[w.path for w in errors])
            return
        self._finish(cat, it)
        if gone or any(w.changed for w in written):  # changed under us, or renamed: look at it again
            self._requeue(cat, it)
        if it.content_hash:
            self._journal_done.append((it.primary, it.content_hash))

    def _requeue(self, cat: Any, it: WorkItem) -> None:
        """Queue the item's files again where they are now: a job follows its file when the watcher
        sees a rename (catalog.move_image), so the job's path may no longer be the one claimed."""
        for job in it.jobs:
            now = cat.get_job(job.id)
            path = job.path if now is None else now.path
            if os.path.lexists(path):
                cat.enqueue(path, reason="changed")

    def _finish(self, cat: Any, it: WorkItem) -> None:
        for job in it.jobs:
            cat.finish_job(job.id)
        self._settled += len(it.jobs)

    def _hopeless(self, it: WorkItem) -> bool:
        """Its bytes are bad and have not changed for a while: another try would read the same bytes."""
        if not it.damaged:
            return False
        try:
            st = os.stat(it.primary)
        except OSError:
            return False
        changed = max(st.st_mtime, st.st_ctime)  # ctime: any write, rename or utime (cp -p, rsync -a)
        return time.time() - changed >= self.config.damaged_settled

    def _fail(self, cat: Any, it: WorkItem, error: str, members: list[str] | None = None) -> None:
        will_retry, wait = False, 0.0
        hopeless = self._hopeless(it)
        for job in it.jobs:
            wait = retry_delay(self.config.retry_delays, job.attempts + 1)
            last = job.attempts + 1 if hopeless else self.config.max_attempts
            cat.fail_job(job.id, error, max_attempts=last, retry_in=wait)
            will_retry = will_retry or job.attempts + 1 < last
        for m in members if members is not None else (it.members or [it.primary]):
            if os.path.exists(m):  # the catalogue keeps the reason; its path is the row's own
                reason = error[len(m) + 2 :] if error.startswith(m + ": ") else error
                cat.record_failure(m, reason, final=not will_retry)  # failed only once no try is left
        if not will_retry:  # count files that failed for good, not attempts
            self.failed += 1
        self._settled += len(it.jobs)
        self._later.append(FileFailed(it.primary, error, will_retry, wait if will_retry else 0.0))
