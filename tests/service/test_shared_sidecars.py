"""The service with base-named sidecars (IMG_1.xmp) that a RAW+JPEG pair shares: the RAW's sidecar,
written once, and nothing queued again by it."""

from __future__ import annotations

from pathlib import Path

from autotagger.metadata import read_metadata
from autotagger.metadata.xmp import XmpDoc
from autotagger.service.events import FileFailed, FileTagged
from autotagger.service.service import Service
from tests.service.helpers import LoggingTagger, catalog_rows, make_jpeg, model_calls, options


def _run(tmp: Path, folder: Path, log: Path) -> list[object]:
    opts = options(tmp, [folder], once=True, write_mode="sidecar", sidecar_name="base")
    svc = Service(opts, lambda: LoggingTagger(log))
    events: list[object] = []
    svc.subscribe(events.append)
    svc.run()
    assert svc.exit_error is None
    return events


def test_a_pairs_shared_sidecar_is_the_raws_and_queues_nothing_again(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    raw = make_jpeg(photos / "IMG_1.NEF", 1)  # a RAW name over JPEG bytes: decoded by its content
    jpg = make_jpeg(photos / "IMG_1.JPG", 1)
    log = tmp_path / "calls.log"
    events = _run(tmp_path, photos, log)
    assert not [e for e in events if isinstance(e, FileFailed)]
    assert sorted(e.path for e in events if isinstance(e, FileTagged)) == [str(jpg), str(raw)]
    assert sum(model_calls(log).values()) == 1  # one capture, one model run
    rows = catalog_rows(tmp_path / "catalog.sqlite3")
    assert rows[str(raw)].status == rows[str(jpg)].status == "tagged"
    doc = XmpDoc.parse((photos / "IMG_1.xmp").read_bytes())
    assert doc.get_text("{http://ns.autotagger.app/1.0/}File") == "IMG_1.NEF"  # the RAW's, for Lightroom
    assert read_metadata(raw, sidecar_name="base").caption == rows[str(raw)].caption
    sidecar_before = (photos / "IMG_1.xmp").read_bytes()

    again = _run(tmp_path, photos, log)  # nothing changed: nothing tagged, the sidecar untouched
    assert not [e for e in again if isinstance(e, (FileTagged, FileFailed))]
    assert sum(model_calls(log).values()) == 1
    assert (photos / "IMG_1.xmp").read_bytes() == sidecar_before
