"""Settle detection, capture groups, the metadata-blind content hash, scanning and reconcile planning."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from autotagger.watch.files import group_paths, is_candidate, primary_of
from autotagger.watch.hashing import content_hash
from autotagger.watch.reconcile import KnownFile, plan_reconcile
from autotagger.watch.scan import scan
from autotagger.watch.settle import FileStat, SettleTracker, stat_file


def jpeg_bytes(color: tuple[int, int, int] = (10, 20, 30), size: tuple[int, int] = (64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def insert_app1(data: bytes, payload: bytes) -> bytes:
    """Insert an APP1 (XMP-like) segment after SOI, as a metadata writer does."""
    seg = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    return data[:2] + seg + data[2:]


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_settle_waits_for_stable_stat_and_last_byte(tmp_path: Path) -> None:
    clock = Clock()
    tracker = SettleTracker(2.0, clock=clock)
    p = tmp_path / "a.jpg"
    data = jpeg_bytes()
    with open(p, "wb") as f:
        f.write(data[:100])
        f.flush()
        tracker.touch([str(p)])
        clock.t = 1.0
        assert tracker.ready() == []
        f.write(data[100:200])
        f.flush()
        os.utime(p, ns=(10**9, 10**9 + 1))
        clock.t = 2.5  # 2.5 s since first touch, but the stat just changed: clock restarts
        assert tracker.ready() == []
        clock.t = 4.0
        assert tracker.ready() == []
        f.write(data[200:])
    os.utime(p, ns=(10**9, 10**9 + 2))
    clock.t = 5.0
    assert tracker.ready() == []
    clock.t = 7.1
    ready = tracker.ready()
    assert ready == [(str(p), stat_file(str(p)))]
    assert ready[0][1] is not None and ready[0][1].size == len(data)
    assert len(tracker) == 0


def test_settle_drops_vanished_and_holds_empty(tmp_path: Path) -> None:
    clock = Clock()
    tracker = SettleTracker(1.0, clock=clock)
    gone, empty = tmp_path / "gone.jpg", tmp_path / "empty.jpg"
    gone.write_bytes(b"x")
    empty.write_bytes(b"")
    tracker.touch([str(gone), str(empty)])
    gone.unlink()
    clock.t = 5
    assert tracker.ready() == []
    assert str(empty) in tracker and str(gone) not in tracker


def test_settle_unopenable_waits() -> None:
    clock = Clock()
    opens = {"ok": False}
    tracker = SettleTracker(0.5, clock=clock, stat=lambda p: FileStat(10, 1), opener=lambda p: opens["ok"])
    tracker.touch(["/x.jpg"])
    clock.t = 1
    assert tracker.ready() == []
    opens["ok"] = True
    clock.t = 2
    assert tracker.ready() == [("/x.jpg", FileStat(10, 1))]


def test_candidates_and_groups() -> None:
    assert is_candidate("/a/IMG_1.JPG") and is_candidate("/a/IMG_1.CR2")
    for bad in (
        "/a/IMG_1.JPG.xmp",
        "/a/.IMG_1.JPG",
        "/a/IMG_1.jpg.autotagger-tmp",
        "/a/x.txt",
        "/a/y.jpg.part",
    ):
        assert not is_candidate(bad), bad
    groups = group_paths(["/a/IMG_1.CR2", "/a/img_1.jpg", "/a/IMG_2.NEF", "/b/IMG_1.CR2"])
    assert groups == {
        "/a/img_1.jpg": ["/a/IMG_1.CR2", "/a/img_1.jpg"],
        "/a/IMG_2.NEF": ["/a/IMG_2.NEF"],
        "/b/IMG_1.CR2": ["/b/IMG_1.CR2"],
    }
    assert primary_of(["/a/x.dng", "/a/x.heic", "/a/x.jpg"]) == "/a/x.jpg"


def test_hash_ignores_jpeg_metadata_but_not_pixels(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.jpg", tmp_path / "b.jpg", tmp_path / "c.jpg"
    data = jpeg_bytes()
    a.write_bytes(data)
    b.write_bytes(insert_app1(data, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>" * 50))
    c.write_bytes(jpeg_bytes((11, 20, 30)))
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash(c)
    assert content_hash(a).startswith("j")


def test_hash_png_text_chunks_and_other_files(tmp_path: Path) -> None:
    from PIL import PngImagePlugin

    img = Image.new("RGB", (40, 30), (1, 2, 3))
    info = PngImagePlugin.PngInfo()
    info.add_text("Description", "a caption")
    img.save(tmp_path / "a.png")
    img.save(tmp_path / "b.png", pnginfo=info)
    assert content_hash(tmp_path / "a.png") == content_hash(tmp_path / "b.png")
    raw = tmp_path / "x.cr2"
    raw.write_bytes(os.urandom(300_000))
    h = content_hash(raw)
    assert h.startswith("f") and h == content_hash(raw)
    with open(raw, "r+b") as f:  # a change in the middle of a big file is not seen; the edges are
        f.seek(299_999)
        f.write(b"\x00" if f.read(1) != b"\x00" else b"\x01")
    assert content_hash(raw) != h
    with pytest.raises(OSError, match="cannot read"):
        content_hash(tmp_path / "missing.jpg")


def test_scan_survives_loops_unreadable_and_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.jpg").write_bytes(b"1")
    (root / "b.JPG").write_bytes(b"22")
    (root / "b.JPG.xmp").write_bytes(b"<x/>")
    (root / "notes.txt").write_bytes(b"x")
    (root / "sub" / "loop").symlink_to(root)
    (root / "dangling.jpg").symlink_to(tmp_path / "nowhere.jpg")
    locked = root / "locked"
    locked.mkdir()
    (locked / "c.jpg").write_bytes(b"3")
    real_scandir = os.scandir

    def scandir(path: str) -> object:  # chmod 0 does not stop root, so refuse the way the kernel would
        if os.path.basename(path) == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    res = scan([str(root), str(tmp_path / "card")])
    monkeypatch.undo()
    assert sorted(res.files) == [str(root / "b.JPG"), str(root / "sub" / "a.jpg")]
    assert res.files[str(root / "b.JPG")].size == 2
    assert res.missing_roots == [str(tmp_path / "card")]
    text = "\n".join(res.errors)
    assert "loop" in text and "broken symlink" in text
    assert f"{locked}: cannot read folder: Permission denied" in text
    flat = scan([str(root)], recursive=False)
    assert sorted(flat.files) == [str(root / "b.JPG")]


def test_reconcile_plan(tmp_path: Path) -> None:
    root = str(tmp_path)
    disk = {
        f"{root}/new.jpg": FileStat(1, 10**9),
        f"{root}/same.jpg": FileStat(2, 2 * 10**9),
        f"{root}/edited.jpg": FileStat(3, 9 * 10**9),
        f"{root}/touched.jpg": FileStat(4, 9 * 10**9),
        f"{root}/renamed.jpg": FileStat(5, 5 * 10**9),
    }
    known = {
        k.path: k
        for k in (
            KnownFile(f"{root}/same.jpg", 2, 2.0, "h-same", "tagged"),
            KnownFile(f"{root}/edited.jpg", 3, 3.0, "h-old", "tagged"),
            KnownFile(f"{root}/touched.jpg", 4, 4.0, "h-touch", "tagged"),
            KnownFile(f"{root}/old-name.jpg", 5, 5.0, "h-moved", "tagged"),
            KnownFile(f"{root}/deleted.jpg", 6, 6.0, "h-del", "tagged"),
            KnownFile(f"{root}/card/x.jpg", 7, 7.0, "h-card", "tagged"),
            KnownFile("/elsewhere/y.jpg", 8, 8.0, "h-else", "tagged"),
        )
    }
    hashes = {
        f"{root}/new.jpg": "h-new",
        f"{root}/edited.jpg": "h-new-pixels",
        f"{root}/touched.jpg": "h-touch",
        f"{root}/renamed.jpg": "h-moved",
    }
    calls: list[str] = []

    def fake_hash(p: str) -> str:
        calls.append(p)
        return hashes[p]

    plan = plan_reconcile(disk, known, [root], missing_roots=[f"{root}/card"], hash_fn=fake_hash)
    assert plan.new == [f"{root}/new.jpg"]
    assert plan.changed == [f"{root}/edited.jpg"]
    assert plan.touched == [(f"{root}/touched.jpg", "h-touch")]
    assert [(m.old, m.new) for m in plan.moves] == [(f"{root}/old-name.jpg", f"{root}/renamed.jpg")]
    assert plan.deleted == [f"{root}/deleted.jpg"]  # not the card's file, not the file outside the roots
    assert f"{root}/same.jpg" not in calls  # unchanged files are not even read


def test_names_that_are_not_utf8_are_reported_and_left_alone(tmp_path: Path) -> None:
    root = os.fsencode(tmp_path)
    Image.new("RGB", (8, 8)).save(tmp_path / "good.jpg")
    for raw in (b"caf\xe9.jpg", b"notes\xe9.txt"):
        with open(os.path.join(root, raw), "wb") as f:
            f.write((tmp_path / "good.jpg").read_bytes())
    os.mkdir(os.path.join(root, b"Reise \xfc"))
    Image.new("RGB", (8, 8)).save(os.path.join(root, b"Reise \xfc", b"inside.jpg"))
    bad = os.fsdecode(os.path.join(root, b"caf\xe9.jpg"))
    assert not is_candidate(bad) and is_candidate(str(tmp_path / "good.jpg"))
    result = scan([str(tmp_path)])
    assert list(result.files) == [str(tmp_path / "good.jpg")]
    assert sorted(result.errors) == [
        f"{tmp_path}/Reise \\xfc: folder name is not valid UTF-8 (rename it to have it tagged)",
        f"{tmp_path}/caf\\xe9.jpg: file name is not valid UTF-8 (rename it to have it tagged)",
    ]  # the text file is not a photo: nothing said
    for message in result.errors:
        message.encode("utf-8")  # printable, storable
