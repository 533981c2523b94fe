"""The worker: claim a batch of jobs, decode on a thread pool ahead of the model, run the engine, write
the metadata, record in the catalogue, finish the jobs.

Crash safety, in order: (1) the batch's results go to the journal (one file, fsynced); (2) the files
are written (temp + atomic replace, by autotagger.metadata); (3) one commit records the results with
each file's post-write size/mtime/hash and finishes the jobs; (4) the journal entries go. A crash
anywhere leaves the jobs claimed; on restart they go back to pending and are claimed again, and then:
after (3) the catalogue already matches the disk, so a job just finishes; after (1) the journal's
result is applied without running the model. Writing is idempotent (our tags are replaced, never
appended).

Threads: a loader thread claims and decodes (its own Catalog), puts batches on a bounded queue, a None
sentinel ends it; the model thread runs the engine, journals and hands the files to the write pool;
the finish thread (recorder.py, its own Catalog) waits for the writes and records, while the model
runs the next batch.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from autotagger.engine.base import is_oom
from autotagger.service.events import Event, Notice
from autotagger.service.inflight import GroupsInFlight, groups_of
from autotagger.service.items import (
    WorkerConfig,
    WorkItem,
    Written,
    empty_cuda_cache,
    one_line,
)
from autotagger.service.journal import Journal
from autotagger.service.planning import asked_again, members_on_disk, plan_group
from autotagger.service.recorder import Finishing, Recorder
from autotagger.service.results import person_edits
from autotagger.service.tagfiles import decode_for
from autotagger.service.twins import Twins
from autotagger.types import TagResult
from autotagger.watch.files import group_key
from autotagger.watch.settle import FileStat


def _put_while(q: queue.Queue[Any], item: Any, consumer: threading.Thread) -> None:
    """Put, waiting for room as long as ``consumer`` (the thread that takes from ``q``) is alive."""
    while True:
        try:
            q.put(item, timeout=0.2)
            return
        except queue.Full:
            if not consumer.is_alive():
                return


class Worker:
    def __init__(
        self,
        config: WorkerConfig,
        tagger_factory: Callable[[], Any],
        emit: Callable[[Event], None],
        own_write: Callable[[str, FileStat], None] = lambda p, s: None,
    ) -> None:
        self.config = config
        self._tagger_factory = tagger_factory
        self._emit = emit
        self._own_write = own_write
        self.tagger: Any = None
        self.stop_event = threading.Event()
        self._wake = threading.Event()  # jobs were queued: claim now, not at the next idle poll
        self.resume_event = threading.Event()
        self.resume_event.set()
        self.claim_lock = threading.Lock()  # held while jobs are claimed and counted in flight
        self.in_flight = 0
        self.model_calls = 0
        self.current_file = ""
        self.model_batch = config.batch_size
        self._batches: queue.Queue[list[WorkItem] | None] = queue.Queue(maxsize=config.prefetch_batches)
        self._journal = Journal(config.journal_dir)
        self.recorder = Recorder(config, self._journal, emit, own_write, self._settle)
        self._threads: list[threading.Thread] = []
        self.fatal: str | None = None
        self._write_pool: concurrent.futures.ThreadPoolExecutor
        # model thread -> finish thread: a batch whose files are being written, to be recorded; one
        # waits there while the next runs through the model
        self._finishing: queue.Queue[Finishing | None] = queue.Queue(maxsize=1)
        self.twins = Twins()
        self.groups = GroupsInFlight()  # a pair's jobs in two batches: the second waits for the first

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        loader = threading.Thread(target=self._guard(self._load_loop), name="autotagger-loader", daemon=True)
        model = threading.Thread(target=self._guard(self._model_loop), name="autotagger-model", daemon=True)
        finish = threading.Thread(target=self._guard(self._finish_loop), name="autotagger-finish", daemon=True)
        self._threads = [loader, model, finish]
        for t in self._threads:
            t.start()

    def _guard(self, fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except Exception as exc:  # a broken catalogue or engine: report, stop, lose no job
                self.fatal = one_line(exc)
                self._emit(Notice("error", f"worker stopped: {self.fatal}"))
                self.stop_event.set()
                self.resume_event.set()

        return run

    def wake(self) -> None:
        """Jobs were just queued (by the service's scan or a settled file): look at once."""
        self._wake.set()

    def stop(self) -> None:
        self.stop_event.set()
        self._wake.set()
        self.resume_event.set()

    def join(self, timeout: float | None = None) -> None:
        for t in self._threads:
            t.join(timeout)

    @property
    def alive(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def pause(self) -> None:
        self.resume_event.clear()

    def resume(self) -> None:
        self.resume_event.set()

    @property
    def paused(self) -> bool:
        return not self.resume_event.is_set()

    @property
    def done(self) -> int:
        return self.recorder.done

    @property
    def failed(self) -> int:
        return self.recorder.failed

    def _settle(self, jobs: int) -> None:
        """The recorder has committed ``jobs`` jobs: they are no longer in flight."""
        with self.claim_lock:
            self.in_flight -= jobs

    def rate(self, window: float = 10.0) -> float:
        now = time.monotonic()
        done = list(self.recorder.completed_at)  # a copy: the finish thread appends meanwhile
        recent = [t for t in done if now - t <= window]
        if len(recent) < 2:
            return 0.0
        return len(recent) / max(now - recent[0], 1e-3)

    # -- loader ----------------------------------------------------------------------------------
    def _load_loop(self) -> None:
        from autotagger.catalog import Catalog

        cat = Catalog(self.config.catalog_path)
        pool = concurrent.futures.ThreadPoolExecutor(self.config.loader_threads, "autotagger-decode")
        idle = True  # once the queue runs dry after work, the WAL is folded into the catalogue (once)
        try:
            while not self.stop_event.is_set():
                if not self.resume_event.is_set():
                    self.resume_event.wait(0.2)
                    continue
                jobs = self._claim(cat)
                if not jobs:
                    if not idle and self.in_flight == 0:  # the last batch recorded: a quiet service leaves no WAL
                        idle = cat.checkpoint()  # False: a reader was in the way; tried again at the next poll
                    self._wake.wait(self.config.idle_wait)
                    self._wake.clear()
                    continue
                idle = False
                items = self._prepare(cat, jobs, pool)
                while not self.stop_event.is_set():
                    try:
                        self._batches.put(items, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                else:
                    self.groups.give_back(groups_of(items))
        finally:
            pool.shutdown(wait=True)
            self._put_sentinel()
            cat.close()

    def _put_sentinel(self) -> None:
        _put_while(self._batches, None, self._threads[1])

    def _claim(self, cat: Any) -> list[Any]:
        limit = self.model_batch or 8  # 0 = the tagger's own choice, known once it is loaded
        with self.claim_lock:
            jobs = list(cat.claim_jobs(limit, worker=self.config.worker_name))
            self.in_flight += len(jobs)
        if jobs and len(jobs) < limit and self.config.fill_wait > 0:
            self.stop_event.wait(self.config.fill_wait)
            with self.claim_lock:
                more = list(cat.claim_jobs(limit - len(jobs), worker=self.config.worker_name))
                self.in_flight += len(more)
            jobs += more
        return jobs

    def _prepare(
        self, cat: Any, jobs: list[Any], pool: concurrent.futures.ThreadPoolExecutor
    ) -> list[WorkItem]:
        by_group: dict[str, list[Any]] = {}
        for job in jobs:
            by_group.setdefault(group_key(job.path), []).append(job)
        self.groups.take(by_group, self.stop_event.is_set)  # planned once an earlier batch is recorded
        index = members_on_disk(by_group)
        items = [plan_group(cat, js, index.get(key, []), self._journal) for key, js in by_group.items()]
        self._reuse_twins(cat, [it for it in items if not it.skip and it.error is None], load=False)
        to_load = [it for it in items if not it.skip and it.reuse is None and it.error is None]
        # The model's own preprocessing (resize, normalise) runs here too, off the model thread, once the
        # tagger is loaded (the first batches go as images: the tagger preprocesses those itself).
        prepare = getattr(self.tagger, "preprocess", None)
        for it, (image, error) in zip(
            to_load, pool.map(lambda p: self._decode(p, prepare), [it.primary for it in to_load]), strict=True
        ):
            it.image = image
            if error is not None:
                it.error, it.damaged = one_line(error), error.damaged
        return items

    def _decode(self, path: str, prepare: Callable[[Any], Any] | None = None) -> tuple[Any, Any]:
        """(image, None) or (None, the ImageLoadError that says why not)."""
        from autotagger.imageio import ImageLoadError

        image = decode_for(path, prepare, self.config.min_size)
        return (None, image) if isinstance(image, ImageLoadError) else (image, None)

    # -- model -----------------------------------------------------------------------------------
    def _model_loop(self) -> None:
        from autotagger.catalog import Catalog

        cat = Catalog(self.config.catalog_path)
        self._write_pool = concurrent.futures.ThreadPoolExecutor(
            self.config.write_threads, "autotagger-write"
        )
        try:
            while True:
                batch = self._batches.get()
                if batch is None:
                    break
                if self.stop_event.is_set():  # prefetched, not started: goes back to pending below
                    self.groups.give_back(groups_of(batch))
                    continue
                self._process(cat, batch)
        finally:
            _put_while(self._finishing, None, self._threads[2])  # what was handed over is finished
            self._threads[2].join()
            self._write_pool.shutdown(wait=True)
            cat.close()

    def _finish_loop(self) -> None:
        from autotagger.catalog import Catalog

        cat = Catalog(self.config.catalog_path)
        try:
            while True:
                handed = self._finishing.get()
                if handed is None:
                    break
                try:
                    self.recorder.record_batch(cat, handed)
                finally:
                    self.groups.give_back(groups_of(handed.batch))
        finally:
            cat.close()

    def _load_tagger(self) -> Any:
        if self.tagger is None:
            self.tagger = self._tagger_factory()
            if not self.model_batch:  # auto: what the tagger chose from the free GPU memory
                self.model_batch = int(getattr(self.tagger, "batch_size", 8) or 8)
        return self.tagger

    def _reuse_twins(self, cat: Any, items: list[WorkItem], *, load: bool = True) -> None:
        """Copies get a known result without the model (twins.py). "Tag again" always runs the model.

        The loader asks first (``load=False``: the catalogue only once the tagger is loaded, as it must
        know the model), so that a copy is never decoded; the model thread asks again just before the
        model runs, when the batches before are recorded or at least remembered."""
        for it in items:
            if it.reuse is None and it.content_hash and not asked_again(it.jobs):
                it.reuse = self.twins.find(cat, it, self._load_tagger() if load else self.tagger)

    def _run_model(self, items: list[WorkItem]) -> list[TagResult]:
        self._load_tagger()
        out: list[TagResult] = []
        i = 0
        while i < len(items):
            chunk = items[i : i + self.model_batch]
            try:
                self.current_file = chunk[0].primary
                results = list(self.tagger.tag_images([(it.primary, it.image) for it in chunk]))
                self.model_calls += 1
            except Exception as exc:
                if is_oom(exc) and self.model_batch > 1:
                    self.model_batch = max(1, self.model_batch // 2)
                    empty_cuda_cache()
                    self._emit(
                        Notice("warning", f"GPU out of memory: batch size lowered to {self.model_batch}")
                    )
                    continue
                err = "GPU out of memory even for one image" if is_oom(exc) else one_line(exc)
                results = [TagResult(path=it.primary, error=err) for it in chunk]
            if len(results) != len(chunk):
                results = [
                    TagResult(path=it.primary, error="engine returned a wrong number of results")
                    for it in chunk
                ]
            out += results
            i += len(chunk)
        return out

    def _write_after(
        self, before: concurrent.futures.Future[Written] | None, member: str, result: TagResult, edits: Any
    ) -> Written:
        """On the write pool: ``member``'s write, once the write of the capture's file before it is
        done. That one was submitted earlier, so it has started already (the pool starts tasks in
        order) and waiting for it cannot hold a thread the pool needs. Its outcome is the recorder's."""
        if before is not None:
            concurrent.futures.wait([before])
        return self.recorder.write_member(member, result, edits)

    def _process(self, cat: Any, batch: list[WorkItem]) -> None:
        run = [it for it in batch if not it.skip and it.reuse is None and it.error is None]
        self._reuse_twins(cat, run)  # loads the model (minutes, the first time)
        if self.stop_event.is_set():  # stopped meanwhile (Ctrl-C at start-up): no file is touched; the
            self.groups.give_back(groups_of(batch))  # claimed jobs go back to pending, as for a
            return  # prefetched batch
        run = [it for it in run if it.reuse is None]

        def key(it: WorkItem) -> str:
            return it.content_hash or f"item{id(it)}"

        first: dict[str, WorkItem] = {}  # content hash -> the item the model sees (copies in one batch: once)
        for it in run:
            first.setdefault(key(it), it)
        seen = list(first.values())
        got = dict(zip((id(it) for it in seen), self._run_model(seen), strict=True)) if seen else {}
        results = {id(it): dataclasses.replace(got[id(first[key(it)])], path=it.primary) for it in run}
        self.twins.remember([(it.content_hash, results[id(it)]) for it in seen])
        # every result is safe on disk before any file is touched (one fsync for the batch)
        self._journal.save_many(
            (it.primary, it.content_hash, results[id(it)]) for it in run if results[id(it)].ok
        )
        writes: dict[int, list[concurrent.futures.Future[Written]]] = {}
        for it in batch:  # files are written in parallel (fsync-bound); recorded in order below
            if it.skip or it.error is not None:
                continue
            result = it.reuse if it.reuse is not None else results[id(it)]
            if result.ok:  # a capture's files one after another: two can share a sidecar (IMG_1.xmp)
                futures: list[concurrent.futures.Future[Written]] = []
                for m in it.members:
                    before = futures[-1] if futures else None
                    futures.append(
                        self._write_pool.submit(self._write_after, before, m, result, person_edits(cat, m))
                    )
                writes[id(it)] = futures
        # the finish thread waits for the writes and records them while the next batch runs
        _put_while(self._finishing, Finishing(batch, results, writes), self._threads[2])
