"""The catalogue's CLI commands: search, status, tags, export (run in-process through autotagger.cli.main)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from autotagger.catalog import Catalog
from autotagger.types import Answer, Tag, TagResult
from tests.cli.helpers import no_settings, run


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    no_settings(tmp_path, monkeypatch)
    path = tmp_path / "cat.sqlite3"
    with Catalog(path) as cat:
        cat.record_result(
            TagResult("/p/dog.jpg", "a dog on the beach",
                      answers=(Answer("setting", "Q?", "outdoors", 0.9),),
                      tags=(Tag("setting|outdoors", 0.9, "setting"), Tag("animal|dog", 0.8, "animal")),
                      model_id="test/model"),
            captured_at="2024-06-01T10:00:00", camera="Canon EOS R5",
        )
        cat.record_result(TagResult("/p/cat.jpg", "a cat on a sofa", tags=(Tag("setting|indoors", 0.7),),
                                    model_id="test/model"))
        cat.record_failure("/p/broken.jpg", "cannot decode: truncated JPEG")
        cat.add_folder("/p")
    return path


def test_search_json_lines(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--catalog", str(catalog), "search", "tag:outdoors", "beach", "--json")
    assert code == 0 and err == ""
    hits = [json.loads(line) for line in out.splitlines()]
    assert [h["path"] for h in hits] == ["/p/dog.jpg"]
    assert hits[0]["tags"] == ["animal|dog", "setting|outdoors"] and hits[0]["camera"] == "Canon EOS R5"


def test_search_text_limit_and_env(catalog: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOTAGGER_CATALOG", str(catalog))
    code, out, _ = run(capsys, "search", "on", "--limit", "1")
    assert code == 0 and len(out.splitlines()) == 1 and out.startswith("/p/")
    code, out, _ = run(capsys, "search", "-tag:dog", "a")  # a negation is a term, not an option
    assert code == 0 and out.startswith("/p/cat.jpg")
    code, out, _ = run(capsys, "search", "--", "a", "-tag:dog")
    assert code == 0 and out.startswith("/p/cat.jpg")
    code, out, err = run(capsys, "search", "a", "--limt", "3")  # a misspelt option is still an error
    assert code == 2 and "--limt" in err
    code, out, err = run(capsys, "search")
    assert code == 2 and "needs a query" in err
    code, out, _ = run(capsys, "search", "a -tag:dog")  # or quoted
    assert code == 0 and out.startswith("/p/cat.jpg")


def test_search_errors_are_one_line(catalog: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "--catalog", str(catalog), "search", '"unbalanced')
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "unbalanced quote" in err
    code, _, err = run(capsys, "--catalog", str(catalog), "search", "after:2024-99")
    assert code == 2 and "bad date" in err
    missing = tmp_path / "none" / "cat.sqlite3"
    code, _, err = run(capsys, "--catalog", str(missing), "search", "dog")
    assert code == 1 and "no catalogue" in err and len(err.strip().splitlines()) == 1
    assert not missing.exists() and not missing.parent.exists()  # search never creates one
    code, _, err = run(capsys, "--catalog", str(catalog), "search", "dog", "--limit", "0")
    assert code == 2


def test_status(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--catalog", str(catalog), "status", "--json")
    st = json.loads(out)
    assert code == 0 and (st["images"], st["tagged"], st["failed"], st["pending"]) == (3, 2, 1, 0)
    assert st["folders"] == ["/p"] and st["model_ids"] == ["test/model"]
    assert st["last_errors"] == [{"path": "/p/broken.jpg", "error": "cannot decode: truncated JPEG"}]
    code, out, _ = run(capsys, "--catalog", str(catalog), "status")
    assert code == 0 and "tagged 2" in out and "/p/broken.jpg: cannot decode" in out


def test_status_says_what_waits_to_be_tried_again(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import time

    with Catalog(catalog) as cat:
        for name in ("a", "b"):
            cat.enqueue(f"/p/{name}.jpg")
        first, _ = cat.claim_jobs(2)
        cat.fail_job(first.id, "truncated JPEG", retry_in=30.0)
        due = time.time() + 30.0
    code, out, _ = run(capsys, "--catalog", str(catalog), "status", "--json")
    st = json.loads(out)
    assert code == 0 and (st["jobs_pending"], st["jobs_claimed"], st["jobs_waiting"]) == (1, 1, 1)
    assert abs(st["next_retry"] - due) < 5
    code, out, _ = run(capsys, "--catalog", str(catalog), "status")
    when = time.strftime("%H:%M:%S", time.localtime(st["next_retry"]))
    assert code == 0 and f"queue:     1 pending (1 to be tried again, the first at {when}), 1 in progress" in out


def test_tags(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--catalog", str(catalog), "tags", "--json")
    assert code == 0
    counts = {d["tag"]: d["count"] for d in map(json.loads, out.splitlines())}
    assert counts == {"setting|outdoors": 1, "animal|dog": 1, "setting|indoors": 1}
    code, out, _ = run(capsys, "--catalog", str(catalog), "tags")
    assert code == 0 and "animal|dog" in out


def test_export_csv_and_json(catalog: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "--catalog", str(catalog), "export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 3
    dog = next(r for r in rows if r["path"] == "/p/dog.jpg")
    assert dog["tags"] == "animal|dog; setting|outdoors" and "setting|outdoors=0.9000" in dog["confidences"]
    dest = tmp_path / "out.json"
    code, out, _ = run(capsys, "--catalog", str(catalog), "export", "--format", "json", "tag:indoors", "-o", str(dest))
    data = json.loads(dest.read_text())
    assert code == 0 and out == "" and [d["path"] for d in data] == ["/p/cat.jpg"]
    assert data[0]["confidences"] == {"setting|indoors": 0.7}
    code, out, _ = run(capsys, "--catalog", str(catalog), "export", "--format", "jsonl", "-tag:indoors")
    assert {json.loads(x)["path"] for x in out.splitlines()} == {"/p/dog.jpg", "/p/broken.jpg"}
    code, _, err = run(capsys, "--catalog", str(catalog), "export", "--format", "csv", "tag:", "-o", str(dest))
    assert code == 2 and "empty tag" in err and json.loads(dest.read_text()) == data  # old file untouched
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_global_options_work_after_the_command_too(
    catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = run(capsys, "--catalog", str(catalog), "status", "--json")
    assert before[0] == 0 and json.loads(before[1])["tagged"] == 2
    assert run(capsys, "status", "--json", "--catalog", str(catalog)) == before
    assert run(capsys, "--catalog", str(tmp_path / "other.sqlite3"), "status", "--catalog", str(catalog), "--json") == before
    code, out, _ = run(capsys, "folders", "list", "--catalog", str(catalog))  # a nested command
    assert code == 0 and out.split() == ["/p", "(missing)"]


def test_export_never_writes_over_the_catalogue_a_photo_or_a_folder(
    catalog: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    photo = tmp_path / "IMG_1.jpg"
    photo.write_bytes(b"\xff\xd8 a photo")
    before = catalog.read_bytes()
    for dest in (catalog, Path(str(catalog) + "-wal"), photo, tmp_path / "IMG_1.CR2.xmp", tmp_path):
        code, _out, err = run(capsys, "--catalog", str(catalog), "export", "-o", str(dest))
        assert code == 2 and err.count("\n") == 1 and "cannot write" in err, dest
    assert catalog.read_bytes() == before and photo.read_bytes() == b"\xff\xd8 a photo"
    code, _, _ = run(capsys, "--catalog", str(catalog), "export", "-o", str(tmp_path / "all.csv"))
    assert code == 0 and (tmp_path / "all.csv").read_text(encoding="utf-8-sig").startswith("path,")


def test_export_of_a_bad_query_prints_nothing_but_the_error(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("csv", "json", "jsonl"):
        code, out, err = run(capsys, "--catalog", str(catalog), "export", "--format", fmt, "after:notadate")
        assert code == 2 and out == "" and "bad query" in err


def test_search_prints_one_line_per_hit_whatever_the_caption(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Catalog(catalog) as cat:
        cat.set_caption("/p/cat.jpg", "a cat\non a sofa\twith a tab")
    code, out, _ = run(capsys, "--catalog", str(catalog), "search", "sofa")
    assert code == 0 and out.splitlines() == ["/p/cat.jpg\ta cat\\non a sofa\\twith a tab\tsetting|indoors"]
