"""`autotagger undo` finds the sidecars `tag` wrote: the sidecar name comes from the settings, and a
sidecar under the other name (the setting changed since) is undone too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autotagger.cli import main
from autotagger.metadata import write_metadata
from tests.metadata.conftest import RECORD


def _raw(tmp: Path) -> Path:
    raw = tmp / "IMG_0002.CR2"
    raw.write_bytes(b"II*\x00\x10\x00\x00\x00CR\x02\x00" + bytes(range(256)))
    return raw


def test_undo_uses_the_sidecar_name_of_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('sidecar_name = "base"\n', encoding="utf-8")
    monkeypatch.setenv("AUTOTAGGER_CONFIG", str(config))
    raw = _raw(tmp_path)
    write_metadata(raw, RECORD, sidecar_name="base")
    assert (tmp_path / "IMG_0002.xmp").exists()
    assert main(["undo", str(raw)]) == 0
    assert not (tmp_path / "IMG_0002.xmp").exists()  # it held only ours


def test_undo_also_finds_a_sidecar_under_the_other_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUTOTAGGER_SIDECAR_NAME", "base")
    raw = _raw(tmp_path)
    write_metadata(raw, RECORD, sidecar_name="ext")  # tagged before the setting changed
    assert main(["undo", str(raw)]) == 0
    assert not (tmp_path / "IMG_0002.CR2.xmp").exists()
    assert "nothing written by autotagger found" not in capsys.readouterr().err


def test_undo_makes_the_catalogue_forget_the_models_tags(tmp_path: Path) -> None:
    from autotagger.catalog import Catalog
    from tests.catalog.helpers import result
    from tests.metadata.conftest import make_image

    photo = make_image(tmp_path, "jpeg")
    write_metadata(photo, RECORD)
    catalog = tmp_path / "catalog.sqlite3"
    with Catalog(catalog) as cat:
        cat.record_result(result(str(photo)), size=1, mtime=1.0, content_hash="h")
        assert cat.search("tag:animal")
    assert main(["undo", str(photo), "--catalog", str(catalog)]) == 0
    with Catalog(catalog) as cat:
        rec = cat.get_image(str(photo))
        assert cat.search("tag:animal") == [] and rec is not None and rec.caption == ""


def test_when_the_first_sidecar_cannot_be_undone_the_other_name_still_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUTOTAGGER_SIDECAR_NAME", "ext")
    monkeypatch.setenv("AUTOTAGGER_CATALOG", str(tmp_path / "no-catalog.sqlite3"))
    raw = _raw(tmp_path)
    write_metadata(raw, RECORD, sidecar_name="ext")
    write_metadata(raw, RECORD, sidecar_name="base")
    locked = tmp_path / "locked"  # the ext sidecar is a link into a read-only folder
    locked.mkdir()
    ext = tmp_path / "IMG_0002.CR2.xmp"
    ext.rename(locked / ext.name)
    ext.symlink_to(locked / ext.name)
    locked.chmod(0o555)  # no write bit: read-only even for root (metadata/writer.py _folder_read_only)
    try:
        assert main(["undo", str(raw)]) == 1
    finally:
        locked.chmod(0o755)
    out, err = capsys.readouterr()
    assert err.splitlines() == [f"autotagger: error: {ext}: folder is read-only, nothing written"]
    assert out.splitlines() == [f"{tmp_path / 'IMG_0002.xmp'}: autotagger's tags removed"]
    assert not (tmp_path / "IMG_0002.xmp").exists()  # it held only ours
    assert (locked / ext.name).read_bytes() == ext.read_bytes() and b"autotagger" in ext.read_bytes()


def test_an_unreadable_sidecar_does_not_stop_the_other_and_json_says_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUTOTAGGER_SIDECAR_NAME", "base")
    monkeypatch.setenv("AUTOTAGGER_CATALOG", str(tmp_path / "no-catalog.sqlite3"))
    raw = _raw(tmp_path)
    write_metadata(raw, RECORD, sidecar_name="ext")
    base = tmp_path / "IMG_0002.xmp"
    base.write_bytes(b"\x00\x01 not XMP at all")
    assert main(["undo", "--json", str(raw)]) == 1
    out, err = capsys.readouterr()
    assert len(err.splitlines()) == 1 and f"{base}: existing sidecar is unreadable, left alone" in err
    row = json.loads(out)
    ext = str(tmp_path / "IMG_0002.CR2.xmp")
    assert (row["sidecar"], row["sidecars"], row["warnings"]) == (ext, [ext], [])
    assert len(row["errors"]) == 1 and row["errors"][0] in err
    assert not (tmp_path / "IMG_0002.CR2.xmp").exists() and base.read_bytes() == b"\x00\x01 not XMP at all"
