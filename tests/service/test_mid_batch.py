"""A person working on the photos while a batch is in the worker's hands: a RAW+JPEG pair whose jobs
land in two batches is written once; a photo renamed while its batch runs is tagged at its new name
with no false warning, no extra try and no record left behind at the old name."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autotagger.engine.base import ImageInput
from autotagger.service.events import FileFailed, FileTagged, Notice
from autotagger.service.service import Service
from autotagger.types import TagResult

from .helpers import LoggingTagger, Running, catalog_rows, make_jpeg, model_calls, options, wait_until


def test_a_raw_and_jpeg_pair_claimed_in_two_batches_is_written_once(tmp_path: Path) -> None:
    """Batches of two, jobs in name order: [A.JPG, IMG_0001.CR2] and [IMG_0001.JPG]. The loader
    prepares the second while the first is in the model; the first batch writes both files of the
    pair, and the second must not write (and announce) them again."""
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    other = make_jpeg(photos / "A.JPG", 9)
    jpg = make_jpeg(photos / "IMG_0001.JPG", 5)
    raw = photos / "IMG_0001.CR2"
    raw.write_bytes(b"II*\x00" + os.urandom(4000))
    from autotagger.catalog import Catalog

    with Catalog(tmp_path / "catalog.sqlite3") as cat:  # queued before the worker starts: claims are known
        for p in (other, raw, jpg):
            cat.enqueue(str(p))
    svc = Service(options(tmp_path, [photos], once=True, batch_size=2), lambda: LoggingTagger(log, delay=0.5))
    events: list[Any] = []
    svc.subscribe(events.append)
    writes: Counter[str] = Counter()
    write = svc.worker.recorder.write_member

    def counted(member: str, result: TagResult, edits: Any) -> Any:
        writes[member] += 1
        return write(member, result, edits)

    svc.worker.recorder.write_member = counted  # type: ignore[method-assign]
    svc.run()
    tagged = Counter(e.path for e in events if isinstance(e, FileTagged))
    assert model_calls(log) == {str(other): 1, str(jpg): 1}
    assert writes == {str(other): 1, str(jpg): 1, str(raw): 1}  # not twice, nor two writers at once
    assert tagged == {str(other): 1, str(jpg): 1, str(raw): 1}
    assert svc.worker.done == 3
    rows = catalog_rows(tmp_path / "catalog.sqlite3")
    assert rows[str(raw)].status == rows[str(jpg)].status == "tagged"


class RenamingTagger(LoggingTagger):
    """Renames a photo while the model looks at it (a person in a file browser, mid-batch), and waits
    until the service has seen the rename before answering."""

    def __init__(self, log: Path, renames: dict[str, str], seen: threading.Event) -> None:
        super().__init__(log)
        self.renames = renames
        self.seen = seen

    def tag_images(self, images: Sequence[ImageInput]) -> list[TagResult]:
        out = super().tag_images(images)
        moved = [p for p, _ in images if p in self.renames]
        for p in moved:
            os.rename(p, self.renames[p])
        if moved:
            assert self.seen.wait(10), "the rename was not seen"
        return out


def test_a_photo_renamed_while_its_batch_runs_is_tagged_at_its_new_name_without_a_warning(
    tmp_path: Path,
) -> None:
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    cat_path = tmp_path / "catalog.sqlite3"
    seen = threading.Event()
    old, new = photos / "IMG_0001.jpg", photos / "holiday.jpg"
    tagger = RenamingTagger(log, {str(old): str(new)}, seen)
    svc = Service(options(tmp_path, [photos]), lambda: tagger)

    def on_event(event: Any) -> None:
        if getattr(event, "new", None) == str(new):
            seen.set()

    svc.subscribe(on_event)
    with Running(svc) as running:
        make_jpeg(old, 1)
        wait_until(lambda: (r := catalog_rows(cat_path).get(str(new))) is not None and r.status == "tagged",
                   20, what="the renamed photo tagged")
        marker = make_jpeg(photos / "zz-marker.jpg", 2)  # events go in order: once it is done, so are ours
        wait_until(lambda: (r := catalog_rows(cat_path).get(str(marker))) is not None and r.status == "tagged",
                   20, what="marker")
        said = [e.message for e in running.events if isinstance(e, Notice) and e.level != "info"]
        failed = [e for e in running.events if isinstance(e, FileFailed)]
    rows = catalog_rows(cat_path)
    assert sorted(rows) == [str(new), str(marker)]  # no record left at the old name
    assert model_calls(log)[str(old)] == 1 and model_calls(log)[str(new)] == 0  # the model ran once
    assert not failed and not said, (failed, said)
    from autotagger.metadata import read_metadata

    assert read_metadata(new).caption == rows[str(new)].caption  # the file at its new name has our tags


def test_a_photo_renamed_after_its_write_leaves_no_record_at_its_old_name(tmp_path: Path) -> None:
    """The rename comes between our write and the batch's commit: the record moved with the file
    must not be joined by a tagged record at the old name (a search hit for a file that is not there)."""
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    cat_path = tmp_path / "catalog.sqlite3"
    old, new = photos / "IMG_0001.jpg", photos / "holiday.jpg"
    seen = threading.Event()
    svc = Service(options(tmp_path, [photos]), lambda: LoggingTagger(log))
    write = svc.worker.recorder.write_member

    def write_then_rename(member: str, result: TagResult, edits: Any) -> Any:
        done = write(member, result, edits)
        if member == str(old):
            os.rename(old, new)
            assert seen.wait(10), "the rename was not seen"
        return done

    svc.worker.recorder.write_member = write_then_rename  # type: ignore[method-assign]
    svc.subscribe(lambda e: seen.set() if getattr(e, "new", None) == str(new) else None)
    with Running(svc) as running:
        make_jpeg(old, 1)
        wait_until(lambda: (r := catalog_rows(cat_path).get(str(new))) is not None and r.status == "tagged",
                   20, what="the renamed photo tagged")
        marker = make_jpeg(photos / "zz-marker.jpg", 2)
        wait_until(lambda: (r := catalog_rows(cat_path).get(str(marker))) is not None and r.status == "tagged",
                   20, what="marker")
        failed = [e for e in running.events if isinstance(e, FileFailed)]
    assert sorted(catalog_rows(cat_path)) == [str(new), str(marker)]
    assert model_calls(log)[str(old)] == 1 and model_calls(log)[str(new)] == 0
    assert not failed
