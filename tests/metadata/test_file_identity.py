"""A write keeps the file what it was: a symlink stays a link, owner and xattrs stay, read-only means read-only.

From the QA repros in /tmp/hunt-meta (05 symlink, 06 owner and xattrs, 04 read-only as root, 09 undo of a
read-only file). As root, the permission checks must follow the mode bits, not access().
"""

from __future__ import annotations

import dataclasses
import errno
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autotagger.cli import main
from autotagger.metadata import MetadataError, read_metadata, undo_metadata, write_metadata
from tests.metadata.conftest import RECORD, make_image, temp_leftovers

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
posix_only = pytest.mark.skipif(os.name != "posix", reason="symlinks, owners and mode bits as on POSIX")
pytestmark = posix_only


@pytest.fixture
def album(tmp_path: Path) -> tuple[Path, Path]:
    """library/ with the photos, album/ with links into it, as a person arranges an album."""
    (tmp_path / "library").mkdir()
    (tmp_path / "album").mkdir()
    return tmp_path / "library", tmp_path / "album"


@pytest.fixture
def restore_modes(tmp_path: Path) -> Iterator[None]:
    """Make everything writable again so pytest can clean tmp_path up."""
    yield
    for p in [tmp_path, *tmp_path.rglob("*")]:
        if not p.is_symlink():
            p.chmod(0o755 if p.is_dir() else 0o644)


# ---- 05: symlinks -------------------------------------------------------------------------------


def test_symlinked_photo_tags_the_target_and_stays_a_link(album: tuple[Path, Path]) -> None:
    library, links = album
    real = make_image(library, "jpeg", name="IMG_1", foreign_xmp=False)
    link = links / "IMG_1.jpg"
    link.symlink_to(Path("..") / "library" / "IMG_1.jpg")
    original = real.read_bytes()

    outcome = write_metadata(link, RECORD, keep_backup=True)
    assert outcome.embedded and outcome.sidecar is None
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert real.read_bytes() != original and read_metadata(real).caption == RECORD.caption
    assert (library / "IMG_1.jpg_original").read_bytes() == original  # the backup is beside the real file
    assert sorted(p.name for p in links.iterdir()) == ["IMG_1.jpg"]
    assert temp_leftovers(library) == [] and temp_leftovers(links) == []

    undone = undo_metadata(link)
    assert undone.embedded and link.is_symlink()
    assert read_metadata(real).provenance is None


def test_symlinked_raw_sidecar_stays_beside_the_link(album: tuple[Path, Path]) -> None:
    library, links = album
    raw = library / "IMG_2.dng"
    raw.write_bytes(b"II*\x00\x08\x00\x00\x00" + bytes(range(256)))
    link = links / "IMG_2.dng"
    link.symlink_to(raw)
    outcome = write_metadata(link, RECORD)
    assert outcome.sidecar == str(links / "IMG_2.dng.xmp")  # where the album's reader looks, as before
    assert link.is_symlink() and not (library / "IMG_2.dng.xmp").exists()


def test_symlinked_sidecar_is_written_through_and_stays_a_link(album: tuple[Path, Path]) -> None:
    library, links = album
    raw = library / "IMG_3.dng"
    raw.write_bytes(b"II*\x00\x08\x00\x00\x00" + bytes(range(256)))
    write_metadata(raw, RECORD)  # library/IMG_3.dng.xmp
    (links / "IMG_3.dng").symlink_to(raw)
    sc_link = links / "IMG_3.dng.xmp"
    sc_link.symlink_to(library / "IMG_3.dng.xmp")

    write_metadata(links / "IMG_3.dng", dataclasses.replace(RECORD, caption="through the album"))
    assert sc_link.is_symlink()
    assert read_metadata(raw).caption == "through the album"

    undo_metadata(links / "IMG_3.dng")
    assert sc_link.is_symlink() and not (library / "IMG_3.dng.xmp").exists()  # the real sidecar went


# ---- 06: xattrs and owner -----------------------------------------------------------------------


def _set_xattr_or_skip(path: Path, name: str, value: bytes) -> None:
    if not hasattr(os, "setxattr"):
        pytest.skip("no os.setxattr on this platform")
    try:
        os.setxattr(path, name, value)
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
            pytest.skip(f"this filesystem takes no {name} ({exc.strerror})")
        raise


def test_embedded_write_keeps_xattrs(tmp_path: Path) -> None:
    path = make_image(tmp_path, "jpeg", foreign_xmp=False)
    _set_xattr_or_skip(path, "user.xdg.tags", b"family,holiday")
    write_metadata(path, RECORD)
    assert os.getxattr(path, "user.xdg.tags") == b"family,holiday"
    undo_metadata(path)
    assert os.getxattr(path, "user.xdg.tags") == b"family,holiday"


def test_an_xattr_that_cannot_be_copied_does_not_fail_the_write(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_image(tmp_path, "jpeg", foreign_xmp=False)
    _set_xattr_or_skip(path, "user.xdg.tags", b"family")
    _set_xattr_or_skip(path, "user.other", b"kept")
    real_setxattr = os.setxattr

    def refuse_tags(target: Path, name: str, value: bytes, *args: Any, **kwargs: Any) -> None:
        if name == "user.xdg.tags":  # as security.* is refused without the privilege
            raise PermissionError(errno.EPERM, "Operation not permitted")
        real_setxattr(target, name, value, *args, **kwargs)

    monkeypatch.setattr(os, "setxattr", refuse_tags)
    assert write_metadata(path, RECORD).embedded
    monkeypatch.undo()
    assert os.getxattr(path, "user.other") == b"kept"
    assert temp_leftovers(tmp_path) == []


@pytest.mark.skipif(not IS_ROOT, reason="only root can give a file to another user")
def test_root_write_keeps_owner_group_and_mode(tmp_path: Path) -> None:
    path = make_image(tmp_path, "jpeg", foreign_xmp=False)
    path.chmod(0o664)
    os.chown(path, 1000, 1000)
    write_metadata(path, RECORD)
    st = path.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (1000, 1000, 0o664)
    undo_metadata(path)
    st = path.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (1000, 1000, 0o664)


# ---- 04: read-only is read-only, for root too ---------------------------------------------------


@pytest.mark.usefixtures("restore_modes")
def test_read_only_file_gets_sidecar_even_as_root(tmp_path: Path) -> None:
    path = make_image(tmp_path, "jpeg", foreign_xmp=False)
    path.chmod(0o444)
    original = path.read_bytes()
    outcome = write_metadata(path, RECORD)
    assert path.read_bytes() == original
    assert not outcome.embedded and outcome.sidecar == str(tmp_path / "photo.jpg.xmp")
    assert outcome.warnings == ("not embedded (file is read-only); wrote sidecar instead",)
    outcome = write_metadata(path, RECORD, mode="embed")  # as a normal user gets it today: sidecar + warning
    assert path.read_bytes() == original and not outcome.embedded and "read-only" in outcome.warnings[0]


@pytest.mark.usefixtures("restore_modes")
@pytest.mark.parametrize("mode", ["auto", "embed", "both", "sidecar"])
def test_read_only_folder_is_left_alone_even_as_root(tmp_path: Path, mode: str) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    path = make_image(folder, "jpeg", foreign_xmp=False)
    original = path.read_bytes()
    folder.chmod(0o555)
    with pytest.raises(MetadataError, match="folder is read-only") as err:
        write_metadata(path, RECORD, mode=mode)
    assert "\n" not in str(err.value)
    assert path.read_bytes() == original
    assert sorted(p.name for p in folder.iterdir()) == ["photo.jpg"]


@pytest.mark.usefixtures("restore_modes")
def test_symlink_into_read_only_folder_gets_sidecar_beside_the_link(album: tuple[Path, Path]) -> None:
    library, links = album
    real = make_image(library, "jpeg", name="IMG_4", foreign_xmp=False)
    original = real.read_bytes()
    link = links / "IMG_4.jpg"
    link.symlink_to(real)
    library.chmod(0o555)
    outcome = write_metadata(link, RECORD)
    assert not outcome.embedded and outcome.sidecar == str(links / "IMG_4.jpg.xmp")
    assert "folder is read-only" in outcome.warnings[0]
    assert real.read_bytes() == original and link.is_symlink()


# ---- 09: undo of a read-only file that still holds our tags -------------------------------------


@pytest.mark.usefixtures("restore_modes")
def test_undo_of_read_only_file_with_our_tags_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_image(tmp_path, "jpeg", foreign_xmp=False)
    write_metadata(path, RECORD)
    path.chmod(0o444)
    tagged = path.read_bytes()
    with pytest.raises(MetadataError, match="file is read-only: our tags are still in it") as err:
        undo_metadata(path)
    assert "\n" not in str(err.value)
    assert path.read_bytes() == tagged

    assert main(["undo", str(path)]) == 1
    out = capsys.readouterr()
    assert "our tags are still in it" in out.err and "nothing written by autotagger found" not in out.err + out.out
    assert path.read_bytes() == tagged


@pytest.mark.usefixtures("restore_modes")
def test_undo_of_read_only_file_without_our_tags_still_says_nothing_found(tmp_path: Path) -> None:
    path = make_image(tmp_path, "jpeg", foreign_xmp=False)
    path.chmod(0o444)
    assert undo_metadata(path).warnings == ("nothing written by autotagger found",)
