"""The catalogue commands on a damaged catalogue and on a query too long: one line, nothing on stdout."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotagger.catalog import Catalog
from autotagger.catalog.query import MAX_TERMS
from tests.catalog.helpers import damage, result
from tests.cli.helpers import no_settings, run


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    no_settings(tmp_path, monkeypatch)
    path = tmp_path / "cat.sqlite3"
    with Catalog(path) as cat:
        for name in ("dog", "cat"):
            cat.record_result(result(f"/p/{name}.jpg", caption=f"a {name} on the beach"), camera="Canon EOS R5")
        cat.add_folder("/p")
    return path


@pytest.mark.parametrize(
    "command",
    [["search", "dog"], ["search", "tag:dog"], ["status"], ["status", "--json"], ["tags"],
     ["export", "--format", "json"], ["export", "--format", "csv"], ["export", "--format", "jsonl"],
     ["export", "--format", "json", "beach"], ["folders", "list"]],
)
def test_a_damaged_catalogue_is_said_in_one_line_naming_it(
    catalog: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    damage(catalog, "images", "tag_names", "folders")
    code, out, err = run(capsys, "--catalog", str(catalog), *command)
    assert code == 1 and out == ""  # not even the "[" of a JSON export, nor a CSV header
    assert err.count("\n") == 1 and err.startswith(
        f"autotagger: error: catalogue {catalog} is damaged (database disk image is malformed); restore a backup"
    ), err


def test_a_damaged_export_leaves_no_file(catalog: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    damage(catalog, "images")
    dest = tmp_path / "out.json"
    code, out, err = run(capsys, "--catalog", str(catalog), "export", "--format", "json", "-o", str(dest))
    assert code == 1 and out == "" and "is damaged" in err
    assert not dest.exists() and [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize("command", ["search", "export"])
def test_a_query_of_thousands_of_terms_is_a_usage_error(
    catalog: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    code, out, err = run(capsys, "--catalog", str(catalog), command, *(["camera:canon"] * 3000))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"query too long: 3000 terms, the most is {MAX_TERMS}" in err
    code, out, _ = run(capsys, "--catalog", str(catalog), command, *(["camera:canon"] * MAX_TERMS))
    assert code == 0 and "/p/dog.jpg" in out
