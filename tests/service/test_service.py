"""The service end to end with a logging FakeTagger: once-mode, watching, settle, moves, own writes,
capture groups, failures, OOM back-off, pause and the control channel."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from autotagger.catalog import Catalog
from autotagger.metadata import read_metadata
from autotagger.service import control
from autotagger.service.events import FileFailed, FileMoved, FileTagged, Notice
from autotagger.service.service import Service

from .helpers import LoggingTagger, Running, catalog_rows, make_jpeg, model_calls, options, wait_until


def run_once(tmp: Path, folder: Path, log: Path, **kw: object) -> Service:
    svc = Service(options(tmp, [folder], once=True, **kw), lambda: LoggingTagger(log))
    svc.run()
    return svc


def test_once_tags_everything_and_a_second_run_does_nothing(tmp_path: Path) -> None:
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    (photos / "sub").mkdir(parents=True)
    files = [make_jpeg(photos / f"a{i}.jpg", i) for i in range(12)] + [
        make_jpeg(photos / "sub" / "b.JPG", 99)
    ]
    svc = run_once(tmp_path, photos, log)
    assert svc.worker.failed == 0
    rows = catalog_rows(tmp_path / "catalog.sqlite3")
    assert sorted(rows) == sorted(str(f) for f in files)
    assert all(r.status == "tagged" and r.caption.startswith("a test photo") for r in rows.values())
    assert model_calls(log) == {str(f): 1 for f in files}
    back = read_metadata(files[0])
    assert back.caption == rows[str(files[0])].caption and "test" in back.subjects
    stats = {f: f.stat().st_mtime_ns for f in files}
    svc2 = run_once(tmp_path, photos, log)  # our own writes are recognised: nothing to do
    assert svc2.worker.done == 0 and model_calls(log) == {str(f): 1 for f in files}
    assert {f: f.stat().st_mtime_ns for f in files} == stats


def test_files_added_while_stopped_are_found_and_renames_keep_tags(tmp_path: Path) -> None:
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    a = make_jpeg(photos / "a.jpg", 1)
    make_jpeg(photos / "gone.jpg", 2)
    run_once(tmp_path, photos, log)
    caption = catalog_rows(tmp_path / "catalog.sqlite3")[str(a)].caption
    b = make_jpeg(photos / "b.jpg", 3)  # added while stopped
    renamed = photos / "renamed.jpg"
    a.rename(renamed)  # renamed while stopped
    (photos / "gone.jpg").unlink()
    run_once(tmp_path, photos, log)
    rows = catalog_rows(tmp_path / "catalog.sqlite3")
    assert sorted(rows) == sorted([str(b), str(renamed)])
    assert rows[str(renamed)].caption == caption and rows[str(renamed)].status == "tagged"
    calls = model_calls(log)
    assert calls[str(b)] == 1 and calls[str(renamed)] == 0 and calls[str(a)] == 1


def test_watch_slow_write_is_tagged_once_after_last_byte(tmp_path: Path) -> None:
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    from .helpers import jpeg_bytes

    data = jpeg_bytes(7, size=(400, 300))
    target = photos / "slow.jpg"
    svc = Service(options(tmp_path, [photos], settle_seconds=0.6), lambda: LoggingTagger(log))
    with Running(svc):
        with open(target, "wb") as f:
            step = max(1, len(data) // 8)
            for i in range(0, len(data), step):
                f.write(data[i : i + step])
                f.flush()
                import time

                time.sleep(0.1)  # slower than a copy, faster than the settle time
        wait_until(lambda: model_calls(log)[str(target)] >= 1, 20, what="the slow file tagged")
        wait_until(lambda: catalog_rows(tmp_path / "catalog.sqlite3")[str(target)].status == "tagged", 10)
    rows = catalog_rows(tmp_path / "catalog.sqlite3")
    assert model_calls(log) == {str(target): 1}
    assert rows[str(target)].size == target.stat().st_size and rows[str(target)].width == 400


def test_watch_own_writes_trigger_nothing_and_live_rename_follows(tmp_path: Path) -> None:
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    cat_path = tmp_path / "catalog.sqlite3"
    svc = Service(options(tmp_path, [photos], settle_seconds=0.2), lambda: LoggingTagger(log))
    with Running(svc) as running:
        files = [make_jpeg(photos / f"p{i}.jpg", i) for i in range(10)]
        wait_until(lambda: sum(model_calls(log).values()) >= 10, 30, what="10 files tagged")
        wait_until(lambda: all(r.status == "tagged" for r in catalog_rows(cat_path).values()), 10)
        moved = photos / "moved.jpg"
        files[0].rename(moved)
        wait_until(lambda: str(moved) in catalog_rows(cat_path), 20, what="the rename noticed")
        marker = make_jpeg(photos / "zz-marker.jpg", 500)  # events are handled in order: once the
        wait_until(lambda: model_calls(log)[str(marker)] == 1, 20, what="marker")  # marker is done,
        wait_until(lambda: catalog_rows(cat_path)[str(marker)].status == "tagged", 10)  # so are ours
        assert any(isinstance(e, FileMoved) and e.new == str(moved) for e in running.events)
    from autotagger.catalog import Catalog

    cat = Catalog(cat_path)
    jobs = cat.list_jobs()
    cat.close()
    assert len(jobs) == 11, [(j.path, j.reason) for j in jobs]  # no job from our own writes or the rename
    calls = model_calls(log)
    assert sum(calls.values()) == 11 and calls[str(moved)] == 0
    rows = catalog_rows(cat_path)
    assert str(files[0]) not in rows and rows[str(moved)].status == "tagged"


def test_raw_and_jpeg_of_one_capture_are_tagged_once(tmp_path: Path) -> None:
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    jpg = make_jpeg(photos / "IMG_0001.JPG", 5)
    raw = photos / "IMG_0001.CR2"
    raw.write_bytes(b"II*\x00" + os.urandom(4000))  # the model never sees it: the JPEG stands in
    run_once(tmp_path, photos, log)
    rows = catalog_rows(tmp_path / "catalog.sqlite3")
    assert model_calls(log) == {str(jpg): 1}
    assert rows[str(raw)].status == "tagged" and rows[str(raw)].caption == rows[str(jpg)].caption
    assert (photos / "IMG_0001.CR2.xmp").exists()  # RAW files get a sidecar
    assert raw.read_bytes()[:4] == b"II*\x00"


def _good_and_bad(tmp: Path) -> tuple[Path, Path, Path, Path]:
    photos = tmp / "photos"
    photos.mkdir()
    bad = photos / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg at all" * 10)
    return photos, tmp / "calls.log", make_jpeg(photos / "good.jpg", 1), bad


def test_bad_file_fails_with_error_and_others_go_on(tmp_path: Path) -> None:
    photos, log, good, bad = _good_and_bad(tmp_path)
    events: list[object] = []
    for _ in range(3):  # failed jobs are retried a bounded number of times
        svc = Service(options(tmp_path, [photos], once=True, max_attempts=2), lambda: LoggingTagger(log))
        svc.subscribe(events.append)
        svc.run()
    rows = catalog_rows(tmp_path / "catalog.sqlite3")
    assert rows[str(good)].status == "tagged"
    assert rows[str(bad)].status == "failed" and rows[str(bad)].error == "truncated JPEG"  # the row is the path
    fails = [e for e in events if isinstance(e, FileFailed)]
    assert len(fails) == 2 and fails[0].will_retry and not fails[1].will_retry
    assert bad.read_bytes().startswith(b"\xff\xd8\xff\xe0 this is not")  # never damaged


def test_a_damaged_file_that_has_not_changed_for_a_while_is_not_tried_again(tmp_path: Path) -> None:
    """Corrupt bytes that have sat still for ``damaged_settled`` seconds give the same error every time:
    it fails for good at once (`watch --once` does not wait 35 s for the retries); a change queues it."""
    photos, log, good, bad = _good_and_bad(tmp_path)
    events: list[object] = []
    opts = options(tmp_path, [photos], once=True, retry_delays=(60.0,), damaged_settled=0.0)
    svc = Service(opts, lambda: LoggingTagger(log))
    svc.subscribe(events.append)
    assert svc.run() == 1  # one file failed
    fails = [e for e in events if isinstance(e, FileFailed)]
    assert len(fails) == 1 and not fails[0].will_retry and fails[0].retry_in == 0.0
    rows = catalog_rows(tmp_path / "catalog.sqlite3")
    assert rows[str(good)].status == "tagged"
    assert rows[str(bad)].status == "failed" and rows[str(bad)].error == "truncated JPEG"
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        assert [j.attempts for j in cat.list_jobs("failed")] == [1] and cat.pending_count() == 0
    make_jpeg(bad, 7)  # the photographer puts a good copy in its place: it is taken again
    Service(opts, lambda: LoggingTagger(log)).run()
    assert catalog_rows(tmp_path / "catalog.sqlite3")[str(bad)].status == "tagged"


def test_a_photo_whose_name_is_not_utf8_is_named_and_the_service_goes_on(tmp_path: Path) -> None:
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    good = make_jpeg(photos / "good.jpg", 1)
    with open(os.path.join(os.fsencode(photos), b"Caf\xe9.jpg"), "wb") as f:
        f.write(make_jpeg(tmp_path / "other.jpg", 2).read_bytes())
    with Running(Service(options(tmp_path, [photos], settle_seconds=0.1), lambda: LoggingTagger(log))) as run:
        wait_until(lambda: run.service.worker.done == 1, what="the good photo")
        make_jpeg(photos / "later.jpg", 3)  # still watching
        wait_until(lambda: run.service.worker.done == 2, what="a photo after it")
        assert run.service.exit_error is None
    said = [e.message for e in run.events if isinstance(e, Notice) and "UTF-8" in e.message]
    assert said and said[0] == f"{photos}/Caf\\xe9.jpg: file name is not valid UTF-8 (rename it to have it tagged)"
    assert set(catalog_rows(tmp_path / "catalog.sqlite3")) == {str(good), str(photos / "later.jpg")}


def test_a_catalogue_error_for_one_file_is_said_and_the_next_scan_finds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from autotagger.service import ingest, service

    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    real = ingest.Ingestor.consider
    refused: list[str] = []

    def locked_once(self: ingest.Ingestor, path: str, *args: object, **kw: object) -> str:
        if path.endswith("locked.jpg") and not refused:
            refused.append(path)
            raise sqlite3.OperationalError("database is locked")
        return real(self, path, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest.Ingestor, "consider", locked_once)
    monkeypatch.setattr(service, "RESCAN_AFTER_ERROR", 0.5)
    with Running(Service(options(tmp_path, [photos], settle_seconds=0.1), lambda: LoggingTagger(log))) as run:
        make_jpeg(photos / "locked.jpg", 1)
        wait_until(lambda: refused, what="the refusal")
        make_jpeg(photos / "next.jpg", 2)
        wait_until(lambda: run.service.worker.done == 2, what="both photos")  # locked.jpg: by the scan
        assert run.service.exit_error is None
    said = [e.message for e in run.events if isinstance(e, Notice) and "locked" in e.message]
    assert said == [f"{photos / 'locked.jpg'}: database is locked (will look again in 0.5 s)"]
    assert set(catalog_rows(tmp_path / "catalog.sqlite3")) == {str(photos / "locked.jpg"), str(photos / "next.jpg")}


def test_when_the_model_cannot_load_the_watching_service_stops_and_says_why(tmp_path: Path) -> None:
    import threading

    photos = tmp_path / "photos"
    photos.mkdir()
    make_jpeg(photos / "a.jpg", 1)

    def no_model() -> LoggingTagger:
        raise RuntimeError("model not found: /nowhere")

    svc = Service(options(tmp_path, [photos], settle_seconds=0.1), no_model)  # watching, not --once
    thread = threading.Thread(target=svc.run, daemon=True)
    thread.start()
    thread.join(20)
    if thread.is_alive():
        svc.stop()
        thread.join(10)
        raise AssertionError("the service went on watching with no worker")
    assert svc.exit_error == "model not found: /nowhere"
    assert catalog_rows(tmp_path / "catalog.sqlite3")[str(photos / "a.jpg")].status == "pending"  # kept


def test_a_tree_too_big_for_inotify_is_said_at_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from autotagger.watch import observer

    photos = tmp_path / "photos"
    (photos / "2024").mkdir(parents=True)
    limit = tmp_path / "max_user_watches"
    limit.write_text("1\n")
    monkeypatch.setattr(observer, "INOTIFY_WATCHES", str(limit))
    with Running(Service(options(tmp_path, [photos]), lambda: LoggingTagger(tmp_path / "log"))) as run:
        wait_until(lambda: [e for e in run.events if isinstance(e, Notice) and "inotify" in e.message], what="the warning")
    (said,) = [e for e in run.events if isinstance(e, Notice) and "inotify" in e.message]
    assert said.level == "warning" and said.message.startswith("2 folders to watch but inotify allows 1 watches")


def test_a_scan_problem_is_said_once_while_it_lasts(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    link = photos / "gone.jpg"
    link.symlink_to(photos / "nowhere.jpg")
    opts = options(tmp_path, [photos], reconcile_every=0.2)
    with Running(Service(opts, lambda: LoggingTagger(tmp_path / "log"))) as run:

        def said() -> int:
            return sum(1 for e in run.events if isinstance(e, Notice) and "broken symlink" in e.message)

        wait_until(lambda: said() == 1, what="the first warning")
        time.sleep(1.0)  # about five scans
        assert said() == 1
        link.unlink()
        time.sleep(0.5)  # a scan without it
        link.symlink_to(photos / "still-nowhere.jpg")
        wait_until(lambda: said() == 2, what="the warning again, once it came back")


def test_a_failed_file_is_tried_again_after_a_wait(tmp_path: Path) -> None:
    """A copy that was cut short when the scan saw it: the retry waits, by which time it is whole."""
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    whole = make_jpeg(tmp_path / "whole.jpg", 3).read_bytes()
    photo = photos / "IMG_0001.jpg"
    photo.write_bytes(whole[: len(whole) // 3])
    seen: list[tuple[float, object]] = []

    while_waiting: list[tuple[str, str]] = []

    def on_event(ev: object) -> None:
        seen.append((time.monotonic(), ev))
        if isinstance(ev, FileFailed):
            row = catalog_rows(tmp_path / "catalog.sqlite3")[str(photo)]
            while_waiting.append((row.status, row.error))  # not failed while a try is left
            photo.write_bytes(whole)  # the copy finishes just after the first attempt

    svc = Service(options(tmp_path, [photos], once=True, retry_delays=(1.5,)), lambda: LoggingTagger(log))
    svc.subscribe(on_event)
    assert svc.run() == 0
    fails = [(t, ev) for t, ev in seen if isinstance(ev, FileFailed)]
    tagged = [(t, ev) for t, ev in seen if isinstance(ev, FileTagged)]
    assert len(fails) == 1 and fails[0][1].will_retry and fails[0][1].retry_in == 1.5
    assert len(tagged) == 1 and tagged[0][0] - fails[0][0] >= 1.5  # not tried again before it was due
    assert while_waiting == [("pending", "truncated JPEG")]
    assert catalog_rows(tmp_path / "catalog.sqlite3")[str(photo)].status == "tagged"
    assert model_calls(log) == {str(photo): 1}


def test_gpu_out_of_memory_halves_the_batch(tmp_path: Path) -> None:
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    files = [make_jpeg(photos / f"p{i}.jpg", i) for i in range(9)]
    tagger = LoggingTagger(log, fail_above=2)
    svc = Service(options(tmp_path, [photos], once=True, batch_size=8, fill_wait=0.2), lambda: tagger)
    notices: list[object] = []
    svc.subscribe(notices.append)
    svc.run()
    assert svc.worker.model_batch == 2 and max(tagger.batch_sizes) == 2
    assert model_calls(log) == {str(f): 1 for f in files}
    assert any(isinstance(n, Notice) and "out of memory" in n.message for n in notices)


def test_pause_resume_and_stop_through_the_control_channel(tmp_path: Path) -> None:
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    cat_path = tmp_path / "catalog.sqlite3"
    svc = Service(
        options(tmp_path, [photos], settle_seconds=0.1, state_every=0.1), lambda: LoggingTagger(log)
    )
    running = Running(svc)
    with running:
        wait_until(lambda: (s := control.read_state(cat_path)) is not None and s.running, 10)
        control.request(cat_path, paused=True)
        wait_until(lambda: (s := control.read_state(cat_path)) is not None and s.paused, 10, what="paused")
        f = make_jpeg(photos / "while-paused.jpg", 3)
        wait_until(lambda: (s := control.read_state(cat_path)) is not None and s.queue_length == 1, 10)
        assert model_calls(log)[str(f)] == 0  # queued, not tagged, while paused
        control.request(cat_path, paused=False)
        wait_until(lambda: model_calls(log)[str(f)] == 1, 10, what="tagged after resume")
        control.request(cat_path, stop=True)
        running.thread.join(20)
        assert not running.thread.is_alive()
    state = control.read_state(cat_path)
    assert state is not None and not state.running and state.done == 1


def test_a_direct_pause_is_not_undone_by_the_control_file(tmp_path: Path) -> None:
    """The tray pauses its in-process Service directly; the control file still says paused=false
    from the start-up reset, and that stale value must not resume the service on the next tick."""
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    cat_path = tmp_path / "catalog.sqlite3"
    svc = Service(options(tmp_path, [photos], settle_seconds=0.1, state_every=0.05), lambda: LoggingTagger(log))
    with Running(svc) as running:
        wait_until(lambda: (s := control.read_state(cat_path)) is not None and s.running, 10)
        svc.pause()
        f = make_jpeg(photos / "while-paused.jpg", 4)
        wait_until(lambda: (s := control.read_state(cat_path)) is not None and s.queue_length == 1, 10)
        time.sleep(0.6)  # a dozen state ticks go by (nothing must happen: no event to wait for)
        assert svc.snapshot().paused and model_calls(log)[str(f)] == 0
        svc.resume()
        wait_until(lambda: model_calls(log)[str(f)] == 1, 10, what="tagged after resume")
        svc.stop()
        running.thread.join(20)


def test_journaled_result_is_applied_without_the_model(tmp_path: Path) -> None:
    """A crash after the model answered and before the catalogue recorded: the journal's result is used."""
    from autotagger.service.journal import Journal
    from autotagger.types import Tag, TagResult
    from autotagger.watch.hashing import content_hash

    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    f = make_jpeg(photos / "a.jpg", 1)
    journal = Journal(str(tmp_path / "catalog.sqlite3") + ".journal")
    journal.save_many([(str(f), content_hash(f), TagResult(str(f), caption="from the journal", tags=(Tag("x|y"),)))])
    run_once(tmp_path, photos, log)
    assert model_calls(log)[str(f)] == 0
    assert catalog_rows(tmp_path / "catalog.sqlite3")[str(f)].caption == "from the journal"
    assert read_metadata(f).caption == "from the journal"
    assert len(journal) == 0  # removed once the job finished


def test_the_taggers_preprocessing_runs_on_the_loader_threads(tmp_path: Path) -> None:
    import threading

    from PIL import Image

    class Preprocessed:
        def __init__(self, image: Image.Image) -> None:
            self.image = image

    class PreprocessingTagger(LoggingTagger):
        """Takes images or what its preprocess made of them, as the BLIP-2 tagger does."""

        def __init__(self, log: Path) -> None:
            super().__init__(log)
            self.threads: list[str] = []
            self.raw = 0

        def preprocess(self, image: Image.Image) -> Preprocessed:
            self.threads.append(threading.current_thread().name)
            return Preprocessed(image)

        def tag_images(self, images):  # type: ignore[no-untyped-def]
            self.raw += sum(not isinstance(im, Preprocessed) for _, im in images)
            return super().tag_images([(p, im.image if isinstance(im, Preprocessed) else im) for p, im in images])

    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    files = [make_jpeg(photos / f"a{i:02d}.jpg", i) for i in range(40)]
    taggers: list[PreprocessingTagger] = []
    svc = Service(
        options(tmp_path, [photos], once=True, batch_size=4),
        lambda: taggers.append(PreprocessingTagger(log)) or taggers[-1],
    )
    svc.run()
    assert svc.worker.failed == 0 and model_calls(log) == {str(f): 1 for f in files}
    (tagger,) = taggers
    # Before the model's first call the loader can be up to 4 batches ahead (one being processed, two
    # queued, one waiting to be queued); everything after is preprocessed on the decode pool.
    assert tagger.raw <= 16 and len(tagger.threads) == 40 - tagger.raw
    assert tagger.threads and all(name.startswith("autotagger-decode") for name in tagger.threads)


def test_stopped_while_the_model_loads_no_photo_is_touched(tmp_path: Path) -> None:
    """Ctrl-C during the first minutes (the model loading): the batch waiting for it is not tagged."""
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    files = [make_jpeg(photos / f"p{i}.jpg", i) for i in range(3)]
    before = {f: f.read_bytes() for f in files}
    holder: list[Service] = []

    def slow_load() -> LoggingTagger:
        holder[0].stop()  # the person gave up while the model loaded
        return LoggingTagger(log)

    svc = Service(options(tmp_path, [photos], once=True, write_mode="embed"), slow_load)
    holder.append(svc)
    svc.run()
    assert model_calls(log) == {} and all(f.read_bytes() == before[f] for f in files)
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        assert cat.pending_count() == 3  # the next start takes them
