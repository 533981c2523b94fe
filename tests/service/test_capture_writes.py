"""The service writes a capture's files one after another (different captures in parallel): two files
of one capture can share a sidecar (IMG_1.JPG and IMG_1.JPEG -> IMG_1.xmp with --sidecar-name base),
and two writers at once made one of them fail with 'file changed' and come back for another round."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotagger.service.service import Service

from .helpers import LoggingTagger, catalog_rows, count_overlapping_writes, make_jpeg, options


def test_a_captures_files_are_written_one_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    most = count_overlapping_writes(monkeypatch)
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    for i in range(6):
        make_jpeg(photos / f"IMG_{i}.jpg", i)
        make_jpeg(photos / f"IMG_{i}.JPEG", i + 50)
    svc = Service(options(tmp_path, [photos], once=True, write_mode="sidecar", sidecar_name="base"),
                  lambda: LoggingTagger(log))
    svc.run()
    assert svc.exit_error is None
    rows = catalog_rows(tmp_path / "catalog.sqlite3")
    assert len(rows) == 12 and {r.status for r in rows.values()} == {"tagged"}
    assert most["all"] >= 2 and most["one capture"] == 1
    assert sorted(p.name for p in photos.glob("*.xmp")) == [f"IMG_{i}.xmp" for i in range(6)]
