"""The service: watch folders (or scan once), queue settled files in the catalogue, and run the worker.

One writer per catalogue (WriterLock). Threads: the watch thread (observer events, settle, reconcile,
control file, state file), and the worker's loader and model threads. Front ends call ``subscribe``,
``snapshot``, ``pause``, ``resume`` and ``stop`` from any thread; ``run`` blocks until stopped.

Its options are in options.py; which folders it watches (given, or the remembered list followed while
running, and what goes when one is removed) in folders.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from autotagger.service import control
from autotagger.service.events import Event, Notice, ServiceState, StateChanged
from autotagger.service.folders import WatchedFolders
from autotagger.service.ingest import Ingestor
from autotagger.service.items import WorkerConfig, one_line
from autotagger.service.options import ServiceOptions as ServiceOptions  # where front ends import it
from autotagger.service.worker import Worker
from autotagger.watch.observer import FolderWatcher
from autotagger.watch.scan import scan
from autotagger.watch.settle import FileStat, SettleTracker, stat_file

T = TypeVar("T")

#: After a step of the watch loop failed, the next scan comes this soon (seconds).
RESCAN_AFTER_ERROR = 60.0
#: How many of our own recent writes (path -> the file's stat after it) the watch loop keeps, to tell
#: the watcher's events for them from a person's changes.
OWN_WRITES_KEPT = 10000
#: How many of the last warnings the state (and the state file, for front ends elsewhere) carries.
KEEP_WARNINGS = 20


class Service:
    def __init__(self, options: ServiceOptions, tagger_factory: Callable[[], Any]) -> None:
        self.options = options
        self._subscribers: list[Callable[[Event], None]] = []
        self._sub_lock = threading.Lock()
        self._warnings: tuple[str, ...] = ()
        self._warnings_said = 0
        self._stop = threading.Event()
        self._own: queue.Queue[tuple[str, FileStat]] = queue.Queue()
        base = options.catalog_path
        self.worker = Worker(
            WorkerConfig(
                catalog_path=base,
                journal_dir=base + ".journal",
                write_mode=options.write_mode,
                sidecar_name=options.sidecar_name,
                keep_backup=options.keep_backup,
                batch_size=options.batch_size,
                fill_wait=options.fill_wait,
                loader_threads=options.loader_threads,
                max_attempts=options.max_attempts,
                retry_delays=options.retry_delays,
                damaged_settled=options.damaged_settled,
                min_size=options.min_size,
            ),
            tagger_factory,
            self._emit,
            own_write=lambda p, s: self._own.put((p, s)),
        )
        self.watched = WatchedFolders(
            options.folders, recursive=options.recursive, follow=options.follow_catalog, extra=options.extra_folders
        )
        self.watcher: FolderWatcher | None = None
        self._queue_length = 0
        self._watch_thread: threading.Thread | None = None
        self.exit_error: str | None = None

    # -- front-end API ---------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """``callback`` gets every event, on the service's threads; returns an unsubscribe function."""
        with self._sub_lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._sub_lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def _emit(self, event: Event) -> None:
        with self._sub_lock:
            subs = list(self._subscribers)
            if isinstance(event, Notice) and event.level in ("warning", "error"):
                self._warnings = (*self._warnings, event.message)[-KEEP_WARNINGS:]
                self._warnings_said += 1
        for cb in subs:
            with contextlib.suppress(Exception):  # a front end's bug must not stop the service
                cb(event)

    def snapshot(self) -> ServiceState:
        w = self.worker
        tagger = w.tagger
        return ServiceState(
            running=self._watch_thread is not None and not self._stop.is_set(),
            paused=w.paused,
            queue_length=self._queue_length,
            images_per_s=round(w.rate(), 2),
            current_file=w.current_file if w.in_flight else "",
            device=str(getattr(tagger, "device", "")) if tagger is not None else "",
            done=w.done,
            failed=w.failed,
            folders=tuple(self.folders),
            polling=bool(self.watcher and self.watcher.polling),
            pid=os.getpid(),
            updated_at=time.time(),
            warnings=self._warnings,
            warnings_said=self._warnings_said,
        )

    def pause(self) -> None:
        self.worker.pause()
        self._emit(StateChanged(self.snapshot()))

    def resume(self) -> None:
        self.worker.resume()
        self._emit(StateChanged(self.snapshot()))

    def stop(self) -> None:
        """Stop soon: the batch in the model finishes; claimed, unstarted jobs go back to pending."""
        self._stop.set()
        self.worker.stop()

    # -- running ---------------------------------------------------------------------------------
    def run(self) -> int:
        """Blocks until stopped (or, with ``once``, until the queue is empty). Returns the number of
        files that failed in this run. Raises AlreadyRunning / CatalogError (one line)."""
        from autotagger.catalog import Catalog, WriterLock

        lock = WriterLock(self.options.catalog_path)
        lock.acquire()
        try:
            cat = Catalog(self.options.catalog_path)
            try:
                released = cat.release_claimed()
                if released:
                    self._emit(Notice("info", f"{released} interrupted job(s) back in the queue"))
                self.watched.replace(self.watched.wanted(cat))
            finally:
                cat.close()
            ctl = control.ControlReader(self.options.catalog_path)
            ctl.reset()
            self.worker.start()
            self._watch_thread = threading.Thread(
                target=self._watch_loop, args=(ctl,), name="autotagger-watch"
            )
            self._watch_thread.start()
            while self._watch_thread.is_alive():
                self._watch_thread.join(0.2)
            self.worker.stop()
            self.worker.join()
            cat = Catalog(self.options.catalog_path)
            try:
                cat.release_claimed()
                self._queue_length = cat.pending_count()
            finally:
                cat.close()
            self._write_state(running=False)
            self._emit(StateChanged(dataclasses.replace(self.snapshot(), running=False)))
        finally:
            lock.release()
        if self.worker.fatal:
            self.exit_error = self.worker.fatal
        return self.worker.failed

    @property
    def folders(self) -> list[str]:
        """The folders watched now."""
        return self.watched.paths

    def _write_state(self, running: bool | None = None) -> None:
        state = self.snapshot()
        if running is not None:
            state = dataclasses.replace(state, running=running)
        with contextlib.suppress(OSError):
            control.write_state(self.options.catalog_path, state)

    def _watch_loop(self, ctl: control.ControlReader) -> None:
        from autotagger.catalog import Catalog

        opts = self.options
        cat = Catalog(opts.catalog_path)
        try:
            self._watch(cat, ctl)
        except Exception as exc:
            self.exit_error = " ".join(str(exc).split()) or type(exc).__name__
            self._emit(Notice("error", f"watcher stopped: {self.exit_error}"))
        finally:
            self._stop.set()
            self.worker.stop()
            if self.watcher is not None:
                self.watcher.stop()
            cat.close()

    def _watch(self, cat: Any, ctl: control.ControlReader) -> None:
        opts = self.options
        ingest = Ingestor(cat, self._emit, opts.sidecar_name)
        settle = SettleTracker(opts.settle_seconds)
        own: dict[str, FileStat] = {}
        deletes: dict[str, float] = {}
        if not opts.once:
            self.watcher = FolderWatcher(recursive=opts.recursive, poll=opts.poll)
            self.watcher.start(self.folders, flat=self.watched.flat)
        if not self.folders:
            self._emit(Notice("warning", "no folders to watch: add one (autotagger folders add DIR, or the "
                                         "window's Folders tab)" + (
                                             "; it is picked up within seconds"
                                             if self.watched.follows_catalog and not opts.once else "")))
        if opts.once:  # no later scan would catch up: a failure is the run's error
            self._first_scan(ingest)
            scanned = True
        else:  # like every later scan: a failure is said and the scan tried again soon
            scanned = self._survive("scan", self._first_scan, ingest)
        next_reconcile = time.monotonic() + (opts.reconcile_every if scanned else RESCAN_AFTER_ERROR)
        next_state = 0.0
        next_check = time.monotonic() + opts.check_every
        delete_delay = opts.settle_seconds + 1.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_state:
                paused, stop = ctl.poll()
                if stop:
                    self._emit(Notice("info", "stop requested"))
                    break
                if paused is not None and paused != self.worker.paused:
                    self.pause() if paused else self.resume()
                self._queue_length = cat.pending_count()
                self._write_state()
                self._emit(StateChanged(self.snapshot()))
                next_state = now + opts.state_every
            if not self.worker.alive:  # it stopped on an error (said as it stopped): so does the service
                break
            if opts.once:
                with self.worker.claim_lock:
                    idle = cat.pending_count() == 0 and self.worker.in_flight == 0
                if idle:
                    break
                self._stop.wait(0.1)
                continue
            assert self.watcher is not None
            timeout = settle.next_due()
            timeout = 0.2 if timeout is None else min(0.2, max(timeout, 0.01))
            events = _drain(self.watcher.events, timeout)
            for ev in events:
                if ev.kind == "changed":
                    settle.touch([ev.path])
                    deletes.pop(ev.path, None)
                elif ev.kind == "deleted":
                    settle.forget(ev.path)
                    deletes[ev.path] = time.monotonic()
                elif ev.kind in ("moved", "folder_moved"):  # the record follows now, edits or not
                    settle.forget(ev.old)
                    deletes.pop(ev.old, None)
                    follow = ingest.moved if ev.kind == "moved" else ingest.folder_moved
                    if not self._survive(ev.path, follow, ev.old, ev.path):
                        next_reconcile = min(next_reconcile, time.monotonic() + RESCAN_AFTER_ERROR)
                    if ev.kind == "moved":  # settles as any file: a change after the rename queues it
                        settle.touch([ev.path])
                        deletes.pop(ev.path, None)
                elif ev.kind == "rescan":
                    deep = self.watched.deep_scan_of(ev.path)
                    if deep is not None and os.path.isdir(ev.path):
                        found = scan([ev.path], recursive=deep)
                        settle.touch(found.files)
                    next_reconcile = min(next_reconcile, time.monotonic() + delete_delay + 1.0)
                elif ev.kind == "error":
                    self._emit(Notice("warning", ev.path))
            while True:
                try:
                    p, st = self._own.get_nowait()
                except queue.Empty:
                    break
                own[p] = st
            ready = settle.ready()
            for path, st in ready:
                if own.get(path) == st:
                    continue  # our own metadata write
                if not self._survive(path, ingest.consider, path, st, "new"):
                    next_reconcile = min(next_reconcile, time.monotonic() + RESCAN_AFTER_ERROR)
            if ready:
                self.worker.wake()
            now = time.monotonic()
            for path, t in list(deletes.items()):
                if now - t >= delete_delay:
                    del deletes[path]
                    own.pop(path, None)
                    if stat_file(path) is None and not self._survive(path, ingest.gone, path):
                        next_reconcile = min(next_reconcile, now + RESCAN_AFTER_ERROR)
            if now >= next_check:
                next_check = now + opts.check_every
                # folders added to or removed from the remembered list; True: some were added, to be scanned
                if self.watched.follows_catalog and self._outcome(
                    "watched folders", False, self.watched.follow, cat, self.watcher, self._emit
                ):
                    next_reconcile = now
                self.watcher.check()
                for folder in self.watched.returned(self.watcher):
                    self._emit(Notice("info", f"{folder}: folder is back, watching again"))
                    next_reconcile = now
            if now >= next_reconcile:
                ok = self._survive("scan", ingest.reconcile, self.folders, True, self.watched.flat)
                self.worker.wake()
                next_reconcile = now + (opts.reconcile_every if ok else RESCAN_AFTER_ERROR)
            forget_oldest(own, OWN_WRITES_KEPT)

    def _first_scan(self, ingest: Ingestor) -> None:
        """The scan at start: what changed on disk while the service was not running."""
        summary = ingest.reconcile(self.folders, flat=self.watched.flat)
        self.worker.wake()
        crowded = self.watcher.too_many_folders(summary.folders) if self.watcher is not None else None
        if crowded:
            self._emit(Notice("warning", crowded))
        if summary.queued or summary.moved or summary.deleted or summary.restored:
            said = f"scan: {summary.queued} queued, {summary.moved} moved, {summary.deleted} removed"
            if summary.restored:  # photos forgotten earlier, back with their records (no model run)
                said += f", {summary.restored} back with their tags"
            self._emit(Notice("info", said))

    def _survive(self, what: str, fn: Callable[..., object], *args: Any) -> bool:
        """Run one file's (or one scan's) step of the watch loop; a failure (the catalogue locked by
        another program for too long, a full disk) is said, in one line, and the loop goes on: the
        next scan, soon, picks up whatever it missed. False when it failed."""

        def step() -> bool:
            fn(*args)
            return True

        return self._outcome(what, False, step)

    def _outcome(self, what: str, failed: T, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``'s value, or ``failed`` when it raised (said as ``_survive`` says it)."""
        try:
            return fn(*args)
        except Exception as exc:
            self._emit(Notice("warning", f"{what}: {one_line(exc)} (will look again in {RESCAN_AFTER_ERROR:g} s)"))
            return failed


def forget_oldest(own: dict[str, FileStat], limit: int) -> None:
    """Past ``limit`` entries, the oldest go, down to half (a dict keeps its order): never the writes
    just made, whose events may still be on their way (it was all cleared at once before)."""
    if len(own) > limit:
        for stale in list(own)[: len(own) - limit // 2]:
            del own[stale]


def _drain(q: queue.Queue[Any], timeout: float) -> list[Any]:
    """Wait up to ``timeout`` for one item, then take whatever else is there."""
    try:
        items = [q.get(timeout=timeout)]
    except queue.Empty:
        return []
    while True:
        try:
            items.append(q.get_nowait())
        except queue.Empty:
            return items
