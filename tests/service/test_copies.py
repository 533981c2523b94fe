"""Copies of a photo (same pixels, any metadata) get the tagged twin's result without the model, when it
came from the model and question set in use; copies arriving together go through the model once."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from autotagger.catalog import Catalog
from autotagger.metadata import read_metadata
from autotagger.service.events import FileTagged
from autotagger.service.service import Service

from .helpers import LoggingTagger, Running, catalog_rows, make_jpeg, model_calls, options, wait_until


def _run(tmp: Path, folders: list[Path], log: Path, model_id: str = "fake/instant") -> Service:
    def factory() -> LoggingTagger:
        tagger = LoggingTagger(log)
        tagger.model_id = model_id
        return tagger

    svc = Service(options(tmp, folders, once=True, settle_seconds=0.0, write_mode="embed"), factory)
    svc.run()
    return svc


def _setup(tmp: Path) -> tuple[Path, Path, Path, Path]:
    photos, backup, log = tmp / "photos", tmp / "backup", tmp / "calls.log"
    photos.mkdir()
    backup.mkdir()
    original = make_jpeg(photos / "a.jpg", 1, size=(64, 48))
    make_jpeg(photos / "other.jpg", 2, size=(64, 48))
    return photos, backup, log, original


def test_a_copy_of_a_tagged_photo_gets_its_tags_without_the_model(tmp_path: Path) -> None:
    photos, backup, log, original = _setup(tmp_path)
    _run(tmp_path, [photos], log)
    copy = Path(shutil.copy2(original, backup / "a-copy.jpg"))  # carries our XMP: same pixels, so a twin
    svc = _run(tmp_path, [photos, backup], log)
    calls = model_calls(log)
    assert calls[str(copy)] == 0 and calls[str(original)] == 1
    assert svc.worker.failed == 0 and svc.worker.done == 1
    rows = catalog_rows(tmp_path / "catalog.sqlite3")
    assert rows[str(copy)].status == "tagged"
    assert rows[str(copy)].caption == rows[str(original)].caption
    assert sorted(rows[str(copy)].tag_paths) == sorted(rows[str(original)].tag_paths)
    assert rows[str(copy)].question_set_version == rows[str(original)].question_set_version == "fake"
    back = read_metadata(copy)
    assert back.caption == rows[str(original)].caption and "test" in back.subjects


def test_copies_arriving_together_go_through_the_model_once(tmp_path: Path) -> None:
    photos, backup, log, original = _setup(tmp_path)
    copy = Path(shutil.copy2(original, backup / "a.jpg"))  # a card copied to two places: neither tagged yet
    _run(tmp_path, [photos, backup], log)
    calls = model_calls(log)
    assert calls[str(original)] + calls[str(copy)] == 1
    rows = catalog_rows(tmp_path / "catalog.sqlite3")
    assert rows[str(copy)].status == rows[str(original)].status == "tagged"
    assert rows[str(copy)].caption == rows[str(original)].caption
    assert read_metadata(copy).caption == read_metadata(original).caption == rows[str(copy)].caption


def test_a_twin_from_another_model_or_with_a_persons_caption_is_not_used(tmp_path: Path) -> None:
    photos, backup, log, original = _setup(tmp_path)
    _run(tmp_path, [photos], log, model_id="fake/old-model")
    first = Path(shutil.copy2(original, backup / "first.jpg"))
    _run(tmp_path, [photos, backup], log)  # another model now: the twin's tags are not its
    assert model_calls(log)[str(first)] == 1
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        cat.set_caption(str(first), "Our first house")  # now the only twin from this model has a person's caption
    second = Path(shutil.copy2(original, backup / "second.jpg"))
    _run(tmp_path, [photos, backup], log)
    assert model_calls(log)[str(second)] == 1


def test_tag_again_on_a_copy_runs_the_model(tmp_path: Path) -> None:
    photos, backup, log, original = _setup(tmp_path)
    _run(tmp_path, [photos], log)
    copy = Path(shutil.copy2(original, backup / "a.jpg"))
    _run(tmp_path, [photos, backup], log)
    assert model_calls(log)[str(copy)] == 0
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        cat.enqueue(str(copy), reason="retag")
    _run(tmp_path, [photos, backup], log)
    assert model_calls(log)[str(copy)] == 1


def test_a_copy_found_once_the_model_is_loaded_is_not_even_decoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import autotagger.imageio

    decoded: list[str] = []
    real = autotagger.imageio.load_image

    def counting(path: str, **kw: Any) -> Any:
        decoded.append(str(path))
        return real(path, **kw)

    monkeypatch.setattr(autotagger.imageio, "load_image", counting)
    photos, backup, log, original = _setup(tmp_path)
    opts = options(tmp_path, [photos, backup], settle_seconds=0.1, write_mode="embed")
    with Running(Service(opts, lambda: LoggingTagger(log))) as run:
        wait_until(lambda: run.service.worker.done == 2, what="the first two photos")
        copy = Path(shutil.copy2(original, backup / "a-copy.jpg"))
        wait_until(lambda: run.service.worker.done == 3, what="the copy")
    reused = [e for e in run.events if isinstance(e, FileTagged) and e.path == str(copy)]
    assert len(reused) == 1 and reused[0].reused
    assert model_calls(log)[str(copy)] == 0
    assert str(copy) not in decoded and str(original) in decoded  # the loader knew it was a copy


def test_a_copy_one_batch_behind_its_unrecorded_original_does_not_run_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autotagger.service.recorder import Recorder

    real = Recorder.record_batch

    def slow(self: Recorder, cat: Any, handed: Any) -> None:  # the original's batch is still being recorded
        time.sleep(0.5)
        real(self, cat, handed)

    monkeypatch.setattr(Recorder, "record_batch", slow)
    photos, backup, log, original = _setup(tmp_path)
    (photos / "other.jpg").unlink()
    copy = Path(shutil.copy2(original, backup / "a.jpg"))
    opts = options(tmp_path, [photos, backup], once=True, settle_seconds=0.0, write_mode="embed", batch_size=1)
    svc = Service(opts, lambda: LoggingTagger(log))
    svc.run()
    calls = model_calls(log)
    assert calls[str(original)] + calls[str(copy)] == 1 and svc.worker.model_calls == 1
    rows = catalog_rows(tmp_path / "catalog.sqlite3")
    assert rows[str(copy)].status == rows[str(original)].status == "tagged"
    assert rows[str(copy)].caption == rows[str(original)].caption
    assert read_metadata(copy).caption == read_metadata(original).caption


def test_twins_remember_only_the_newest_results() -> None:
    from autotagger.service.twins import Twins
    from autotagger.types import TagResult

    twins = Twins(keep=2)
    twins.remember([("h1", TagResult(path="a", caption="one")), ("h2", TagResult(path="b", caption="two"))])
    twins.remember([("h3", TagResult(path="c", caption="three")), ("h4", TagResult(path="d", error="bad"))])
    assert twins.fresh("h1") is None  # the oldest went
    assert twins.fresh("h2") is not None and twins.fresh("h3") is not None
    assert twins.fresh("h4") is None  # a failure is not a result to copy
