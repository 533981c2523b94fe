"""The write-ahead journal: a batch of results in one file, each leaving when its job is done, and a
new Journal (a restart) sees exactly the results still waiting."""

from __future__ import annotations

import json
from pathlib import Path

from autotagger.service.journal import Journal
from autotagger.types import Tag, TagResult


def _result(name: str) -> TagResult:
    return TagResult(f"/p/{name}.jpg", caption=f"caption {name}", tags=(Tag("setting|outdoors", 0.9),), model_id="m")


def test_a_batch_is_one_file_and_leaves_when_its_jobs_are_done(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j")
    j.save_many((f"/p/{n}.jpg", f"h{n}", _result(n)) for n in "abc")
    files = list((tmp_path / "j").glob("*.json"))
    assert len(files) == 1 and len(j) == 3
    assert j.load("/p/b.jpg", "hb") == _result("b")
    assert j.load("/p/b.jpg", "other hash") is None and j.load("/p/x.jpg", "hb") is None
    assert Journal(tmp_path / "j").load("/p/c.jpg", "hc") == _result("c")  # after a restart too
    j.remove_many([("/p/a.jpg", "ha"), ("/p/c.jpg", "hc")])  # b failed to be written: it stays
    assert len(j) == 1 and j.load("/p/a.jpg", "ha") is None
    again = Journal(tmp_path / "j")  # a restart sees b only: a done result never comes back
    assert again.load("/p/b.jpg", "hb") == _result("b") and again.load("/p/a.jpg", "ha") is None
    j.remove_many([("/p/b.jpg", "hb")])
    assert len(j) == 0 and list((tmp_path / "j").iterdir()) == []


def test_a_newer_result_wins_and_old_single_files_torn_and_foreign_ones(tmp_path: Path) -> None:
    folder = tmp_path / "j"
    folder.mkdir()
    old = {"path": "/p/a.jpg", "hash": "ha", "result": {"path": "/p/a.jpg", "caption": "from an older version"}}
    (folder / "0123abcd.json").write_text(json.dumps(old))  # one result a file, as before batches
    (folder / "torn.json").write_text('{"entries": [{"path": "/p/x.jpg", "ha')
    (folder / "batch-1.json.tmp").write_text("a write cut short")
    j = Journal(folder)
    result = j.load("/p/a.jpg", "ha")
    assert result is not None and result.caption == "from an older version"
    assert j.load("/p/x.jpg", "ha") is None and not (folder / "batch-1.json.tmp").exists()
    j.save_many([("/p/a.jpg", "ha", _result("a"))])  # the model ran again: its newer result wins
    assert j.load("/p/a.jpg", "ha") == _result("a")
    assert not (folder / "0123abcd.json").exists()  # the replaced result is gone from the disk too
    j.remove_many([("/p/a.jpg", "ha")])
    assert Journal(folder).load("/p/a.jpg", "ha") is None


def test_a_result_replaced_in_a_later_file_does_not_come_back_after_a_restart(tmp_path: Path) -> None:
    import os

    j = Journal(tmp_path / "j")
    j.save_many([("/p/a.jpg", "ha", _result("a")), ("/p/b.jpg", "hb", _result("b"))])
    (first,) = list((tmp_path / "j").glob("*.json"))
    os.utime(first, (1, 1))  # older
    newer = TagResult("/p/a.jpg", caption="the second run", model_id="m")
    other = tmp_path / "j" / "batch-later.json"
    (tmp_path / "other").mkdir()
    Journal(tmp_path / "other").save_many([("/p/a.jpg", "ha", newer)])
    (moved,) = list((tmp_path / "other").glob("*.json"))
    moved.rename(other)  # as a crashed run left it: two files, both with a.jpg
    restarted = Journal(tmp_path / "j")
    assert restarted.load("/p/a.jpg", "ha") == newer and restarted.load("/p/b.jpg", "hb") == _result("b")
    restarted.remove_many([("/p/a.jpg", "ha")])
    assert Journal(tmp_path / "j").load("/p/a.jpg", "ha") is None  # the first file lost a.jpg on the restart
