"""What the service keeps in memory for as long as it runs stays bounded: a photographer's machine runs
it for weeks, through hundreds of thousands of photos (see benchmarks/soak.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotagger.catalog import Catalog
from autotagger.service import recorder
from autotagger.service.ingest import Ingestor
from autotagger.service.service import Service

from .helpers import LoggingTagger, make_jpeg, options


def test_completion_times_keep_the_last_ones_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rate a front end shows needs the last seconds' completions, not one time per photo ever tagged."""
    monkeypatch.setattr(recorder, "KEEP_COMPLETED", 5)
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(12):
        make_jpeg(photos / f"a{i}.jpg", i)
    svc = Service(options(tmp_path, [photos], once=True), lambda: LoggingTagger(tmp_path / "calls.log"))
    svc.run()
    assert svc.worker.done == 12
    assert len(svc.worker.recorder.completed_at) == 5
    assert svc.worker.rate(window=3600.0) > 0  # the rate still comes from what is kept


def test_files_kept_on_the_older_digest_are_let_go_when_gone(tmp_path: Path) -> None:
    """A path tried once by upgrade_hash is remembered (not read again each scan) while it is on disk;
    renamed or deleted files are let go at the next scan, so the set does not grow with every name."""
    photos = tmp_path / "photos"
    photos.mkdir()
    here = make_jpeg(photos / "here.jpg", 1)
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        ing = Ingestor(cat, lambda e: None)
        ing._kept_legacy.update({str(here), *(str(photos / f"gone{i}.tif") for i in range(50))})
        ing.reconcile([str(photos)])
        assert ing._kept_legacy == {str(here)}


def test_our_own_writes_forget_the_oldest_not_the_newest() -> None:
    from autotagger.service.service import forget_oldest
    from autotagger.watch.settle import FileStat

    own = {f"/p/{i}.jpg": FileStat(i, i) for i in range(11)}
    forget_oldest(own, 10)
    assert list(own) == [f"/p/{i}.jpg" for i in range(6, 11)]  # the newest half stays, in order
    forget_oldest(own, 10)
    assert len(own) == 5  # under the limit: nothing goes
