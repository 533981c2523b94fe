"""Crash safety: faults at every step of the replace, SIGKILL mid-write, changed files, corrupt files."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autotagger.metadata import FileChangedError, MetadataError, read_metadata, safefile, write_metadata
from tests.metadata.conftest import RECORD, make_image, picture, pixels, temp_leftovers


class Boom(Exception):
    pass


@pytest.mark.parametrize("step", ["write", "fsync", "chmod", "replace", "link"])
def test_fault_at_each_step_leaves_original_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         step: str) -> None:
    path = make_image(tmp_path, "jpeg", foreign_xmp=False)
    original = path.read_bytes()

    def fail(*args: object, **kwargs: object) -> None:
        raise Boom(step)

    monkeypatch.setattr(safefile.os, step, fail)
    with pytest.raises(Boom):
        write_metadata(path, RECORD, keep_backup=True)
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert temp_leftovers(tmp_path) == []
    # and the next attempt works
    write_metadata(path, RECORD)
    assert read_metadata(path).caption == RECORD.caption


def test_short_writes_are_completed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_image(tmp_path, "png", foreign_xmp=False)
    real_write = os.write
    monkeypatch.setattr(safefile.os, "write", lambda fd, data: real_write(fd, bytes(data[:7])))
    write_metadata(path, RECORD)
    monkeypatch.undo()
    assert read_metadata(path).caption == RECORD.caption
    assert pixels(path) == pixels(make_image(tmp_path / "..", "png", name="ref", foreign_xmp=False))


def test_file_changed_before_replace_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_image(tmp_path, "jpeg", foreign_xmp=False)
    real_fsync = os.fsync

    def someone_else_writes(fd: int) -> None:
        real_fsync(fd)
        with open(path, "ab") as f:  # another program appends while we prepare our copy
            f.write(b"\x00")

    monkeypatch.setattr(safefile.os, "fsync", someone_else_writes)
    theirs = path.read_bytes() + b"\x00"
    with pytest.raises(FileChangedError):
        write_metadata(path, RECORD)
    monkeypatch.undo()
    assert path.read_bytes() == theirs
    assert temp_leftovers(tmp_path) == []


_CHILD = """
import sys
from pathlib import Path
from autotagger.metadata import MetadataRecord, write_metadata
from autotagger.types import Tag
path = Path(sys.argv[1])
print("ready", flush=True)
i = 0
while True:
    i += 1
    rec = MetadataRecord(caption=f"caption {i} " + "x" * (i % 50), caption_source="model",
                         tags=tuple(Tag(f"t|k{j}", 0.5) for j in range(i % 7)), model_id="m")
    write_metadata(path, rec, mode="both")
"""


@pytest.mark.parametrize("fmt", ["jpeg", "tiff"])
def test_sigkill_mid_write_never_damages_the_file(tmp_path: Path, fmt: str) -> None:
    path = make_image(tmp_path, fmt, foreign_xmp=False)
    expected_pixels = pixels(path)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    delays = [0.05, 0.13, 0.21, 0.34, 0.55]
    for delay in delays:
        child = subprocess.Popen([sys.executable, "-c", _CHILD, str(path)], stdout=subprocess.PIPE, env=env)
        assert child.stdout is not None
        child.stdout.readline()  # imports done, now writing in a loop
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert path.exists()
        back = read_metadata(path)
        assert back.warnings == ()
        assert back.caption.startswith("caption") or back.caption == ""
        assert pixels(path) == expected_pixels
    write_metadata(path, RECORD)  # the next write cleans up what the killed writers left
    assert temp_leftovers(tmp_path) == []
    assert read_metadata(path).caption == RECORD.caption


def _jpeg_with_corrupt_makernote(path: Path) -> None:
    """A JPEG whose maker note entry points past the end of the EXIF data."""
    make = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08"
    ifd0 = struct.pack(">H", 1) + struct.pack(">HHII", 0x8769, 4, 1, 26) + b"\x00\x00\x00\x00"
    exif_ifd = struct.pack(">H", 1) + struct.pack(">HHII", 0x927C, 7, 5000, 4000) + b"\x00\x00\x00\x00"
    exif = make + ifd0 + exif_ifd
    picture().save(path, exif=exif)


def test_corrupt_maker_note_is_reported_left_identical_and_gets_sidecar(tmp_path: Path) -> None:
    path = tmp_path / "bad.jpg"
    _jpeg_with_corrupt_makernote(path)
    original = path.read_bytes()
    outcome = write_metadata(path, RECORD)
    assert path.read_bytes() == original
    assert not outcome.embedded and outcome.sidecar == str(tmp_path / "bad.jpg.xmp")
    assert len(outcome.warnings) == 1 and "maker note" in outcome.warnings[0]
    assert "\n" not in outcome.warnings[0]
    assert read_metadata(path).caption == RECORD.caption  # from the sidecar

    with pytest.raises(MetadataError, match="maker note") as err:
        write_metadata(path, RECORD, mode="embed")
    assert "\n" not in str(err.value)
    assert path.read_bytes() == original


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("truncated.jpg", b"\xff\xd8\xff\xe1\x40\x00Exif\x00\x00II*\x00"),
        ("garbage.png", b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + b"\x01" * 9),
        ("notes.txt", b"just some text"),
        ("bad.webp", b"RIFF\xff\x00\x00\x00WEBPVP8 "),
    ],
)
def test_unusable_files_left_identical(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(MetadataError) as err:
        write_metadata(path, RECORD, mode="embed")
    assert "\n" not in str(err.value) and name in str(err.value)
    outcome = write_metadata(path, RECORD, mode="auto")
    assert path.read_bytes() == content
    assert outcome.sidecar and outcome.warnings
    assert temp_leftovers(tmp_path) == []


def test_read_only_file_gets_sidecar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from autotagger.metadata import writer

    path = make_image(tmp_path, "jpeg", foreign_xmp=False)
    original = path.read_bytes()
    path.chmod(0o444)
    real_access = os.access
    # root may write read-only files: let the check see what a normal user would see
    monkeypatch.setattr(writer.os, "access", lambda p, m: False if Path(p) == path else real_access(p, m))
    try:
        outcome = write_metadata(path, RECORD)
        assert path.read_bytes() == original and not outcome.embedded and outcome.sidecar
        assert "read-only" in outcome.warnings[0]
    finally:
        path.chmod(0o644)


def test_keep_backup_and_mode_bits(tmp_path: Path) -> None:
    path = make_image(tmp_path, "jpeg", foreign_xmp=False)
    path.chmod(0o640)
    original = path.read_bytes()
    write_metadata(path, RECORD, keep_backup=True)
    backup = tmp_path / "photo.jpg_original"
    assert backup.read_bytes() == original
    assert path.read_bytes() != original
    assert (path.stat().st_mode & 0o777) == 0o640
    write_metadata(path, RECORD, keep_backup=True)  # the first original is never overwritten
    assert backup.read_bytes() == original
