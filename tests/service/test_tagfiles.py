"""ResultWriter, the `tag` command's writer: files written on threads while the model goes on,
outcomes recorded and returned in the order given, a capture's files written one at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotagger.catalog import Catalog
from autotagger.engine.fake import FakeTagger
from autotagger.metadata import read_metadata
from autotagger.service.tagfiles import ResultWriter, tag_paths
from autotagger.types import TagResult
from tests.service.helpers import count_overlapping_writes, make_jpeg


def test_outcomes_come_in_order_and_are_recorded_failures_included(tmp_path: Path) -> None:
    photos = [make_jpeg(tmp_path / f"p{i:02d}.jpg", i) for i in range(20)]
    (tmp_path / "p05.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")  # fails to decode
    paths = [str(p) for p in photos]
    with Catalog(tmp_path / "c.sqlite3") as cat:
        got = []
        with ResultWriter(write_mode="embed", sidecar_name="ext", keep_backup=False, catalog=cat, threads=3) as w:
            for result in tag_paths(paths, FakeTagger(), batch_size=4):
                got += w.submit(result)
            got += w.finish()
        assert [o.result.path for o in got] == paths
        assert [o.ok for o in got] == [i != 5 for i in range(20)]
        rows = {r.path: r for r in cat.iter_images()}
    assert rows[paths[5]].status == "failed" and rows[paths[5]].error
    for i, p in enumerate(paths):
        if i != 5:
            assert rows[p].status == "tagged" and rows[p].content_hash
            assert "test" in read_metadata(Path(p)).hierarchical


def test_files_are_written_in_parallel_but_a_captures_files_one_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    most = count_overlapping_writes(monkeypatch)
    files = []
    for i in range(6):  # IMG_i.jpg and IMG_i.JPEG: one capture, one sidecar IMG_i.xmp between them
        files += [make_jpeg(tmp_path / f"IMG_{i}.jpg", i), make_jpeg(tmp_path / f"IMG_{i}.JPEG", i + 50)]
    results = [TagResult(str(f), f"caption {f.stem}", model_id="fake") for f in files]  # one per capture
    with ResultWriter(write_mode="sidecar", sidecar_name="base", keep_backup=False, catalog=None, threads=4) as w:
        got = [o for r in results for o in w.submit(r)] + w.finish()
    assert [o.result.path for o in got] == [str(f) for f in files] and all(o.ok for o in got)
    assert most["all"] >= 2 and most["one capture"] == 1
    for i in range(6):  # the first written owns the sidecar; the second finds the same result there
        back = read_metadata(tmp_path / f"IMG_{i}.jpg", sidecar_name="base")
        assert back.sidecar == str(tmp_path / f"IMG_{i}.xmp") and back.caption == f"caption IMG_{i}"


def test_a_raw_and_jpeg_pair_is_one_model_run_and_one_result(tmp_path: Path) -> None:
    """`tag IMG_1.NEF IMG_1.JPG` gives both files the caption and tags of the JPEG (as the watcher does):
    two results from one image seen by the model, and a damaged JPEG gives way to the RAW's preview."""
    raw = make_jpeg(tmp_path / "IMG_1.NEF", 1)  # a RAW name over JPEG bytes: decoded by its content
    jpeg = make_jpeg(tmp_path / "IMG_1.JPG", 2)
    other = make_jpeg(tmp_path / "IMG_2.JPG", 3)
    tagger = FakeTagger()
    got = list(tag_paths([str(raw), str(jpeg), str(other)], tagger, batch_size=4, workers=1))
    assert [r.path for r in got] == [str(raw), str(jpeg), str(other)]
    assert tagger.images_seen == 2
    alone = next(tag_paths([str(jpeg)], FakeTagger(), batch_size=1, workers=1))
    assert got[0].caption == got[1].caption == alone.caption  # the JPEG's, for both
    assert got[0].tags == got[1].tags and got[2].caption != got[1].caption

    jpeg.write_bytes(b"\xff\xd8\xff\xe0 damaged")
    tagger = FakeTagger()
    got = list(tag_paths([str(jpeg), str(raw)], tagger, batch_size=4, workers=1))
    from_raw = next(tag_paths([str(raw)], FakeTagger(), batch_size=1, workers=1))
    assert [r.path for r in got] == [str(jpeg), str(raw)] and tagger.images_seen == 1
    assert all(r.ok and r.caption == from_raw.caption for r in got)
