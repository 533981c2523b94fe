"""A service whose queue has run dry folds the WAL into the catalogue: a quiet service leaves no WAL
file behind (it stayed at its largest size for as long as the service ran)."""

from __future__ import annotations

import os
from pathlib import Path

from autotagger.service.service import Service

from .helpers import LoggingTagger, Running, catalog_rows, make_jpeg, options, wait_until


def test_the_wal_is_emptied_once_the_queue_runs_dry(tmp_path: Path) -> None:
    photos, log = tmp_path / "photos", tmp_path / "calls.log"
    photos.mkdir()
    for i in range(12):
        make_jpeg(photos / f"IMG_{i}.jpg", i)
    cat_path = tmp_path / "catalog.sqlite3"
    wal = Path(str(cat_path) + "-wal")
    with Running(Service(options(tmp_path, [photos]), lambda: LoggingTagger(log))):
        wait_until(lambda: len(catalog_rows(cat_path)) == 12
                   and {r.status for r in catalog_rows(cat_path).values()} == {"tagged"}, what="all tagged")
        wait_until(lambda: wal.exists() and os.path.getsize(wal) == 0, what="the WAL emptied")
        make_jpeg(photos / "IMG_new.jpg", 99)  # work again, then idle again: emptied again
        wait_until(lambda: str(photos / "IMG_new.jpg") in catalog_rows(cat_path)
                   and catalog_rows(cat_path)[str(photos / "IMG_new.jpg")].status == "tagged", what="new one")
        wait_until(lambda: os.path.getsize(wal) == 0, what="the WAL emptied again")
