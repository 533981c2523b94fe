"""`autotagger tag` never leaves a photo changed but unreported: a catalogue that cannot be written is
refused before the model loads and before any photo is touched; one that fails mid-run stops the run
with every photo written so far reported; SIGINT and SIGTERM finish the writes in flight, record and
report them, and leave no temp file and no traceback."""

from __future__ import annotations

import hashlib
import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from autotagger.catalog import Catalog, CatalogError
from autotagger.catalog._base import CatalogBase
from autotagger.cli import main, tag_cmd
from autotagger.engine.fake import FakeTagger
from autotagger.metadata.safefile import TEMP_MARK
from autotagger.service.tagfiles import ResultWriter, tag_paths
from tests.service.helpers import make_jpeg


class _Fake(FakeTagger):
    batch_size = 2


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`tag` gets the fake tagger; the list says whether (and when) it was loaded."""
    loaded: list[str] = []

    def load(settings: Any) -> _Fake:
        loaded.append("model")
        return _Fake()

    monkeypatch.setattr(tag_cmd, "load_tagger", load)
    return loaded


def photos(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [make_jpeg(folder / f"img{i:02d}.jpg", i + 1) for i in range(n)]


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.jpg"))}


def changed(before: dict[str, str], folder: Path) -> set[str]:
    after = digests(folder)
    return {name for name, h in before.items() if after[name] != h}


def catalogue_rows(cat: Path) -> dict[str, str]:
    conn = sqlite3.connect(cat)
    try:
        return {Path(p).name: s for p, s in conn.execute("SELECT path, status FROM images")}
    finally:
        conn.close()


def made_catalogue(cat: Path) -> Path:
    Catalog(cat).close()
    return cat


def read_only_catalogues(monkeypatch: pytest.MonkeyPatch) -> None:
    """As a catalogue file that cannot be written (chattr +i, a read-only mount; root ignores chmod):
    SQLite opens and reads it, and refuses only the first write."""

    def connect(self: CatalogBase) -> sqlite3.Connection:
        uri = f"file:{self.path.resolve().as_posix()}?mode=ro"
        return sqlite3.connect(uri, uri=True, isolation_level=None, timeout=1)

    monkeypatch.setattr(CatalogBase, "_connect", connect)


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith("autotagger: error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "OperationalError" not in err, err
    return lines[0]


# -- the catalogue, before anything is touched ---------------------------------------------------


def test_a_read_only_catalogue_is_refused_before_the_model_loads_or_a_photo_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loads: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    cat = made_catalogue(tmp_path / "cat.sqlite3")
    photos(tmp_path / "p", 3)
    before = digests(tmp_path / "p")
    read_only_catalogues(monkeypatch)
    rc = main(["--catalog", str(cat), "tag", str(tmp_path / "p")])
    out, err = capsys.readouterr()
    assert rc == 1 and out == ""
    assert "read-only" in one_error_line(err) and "--no-catalog" in err
    assert loads == [] and changed(before, tmp_path / "p") == set()


def test_a_busy_catalogue_is_refused_before_the_model_loads_or_a_photo_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loads: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    import autotagger.catalog._base as base

    cat = made_catalogue(tmp_path / "cat.sqlite3")
    photos(tmp_path / "p", 3)
    before = digests(tmp_path / "p")
    monkeypatch.setattr(base, "BUSY_TIMEOUT_MS", 200)
    other = sqlite3.connect(cat, isolation_level=None)  # another program, in the middle of a write
    other.execute("BEGIN IMMEDIATE")
    try:
        rc = main(["--catalog", str(cat), "tag", str(tmp_path / "p")])
    finally:
        other.execute("ROLLBACK")
        other.close()
    out, err = capsys.readouterr()
    assert rc == 1 and out == ""
    assert "is busy" in one_error_line(err)
    assert loads == [] and changed(before, tmp_path / "p") == set()


def test_a_folder_as_the_catalogue_is_refused_before_the_model_loads(
    tmp_path: Path, loads: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    photos(tmp_path / "p", 1)
    before = digests(tmp_path / "p")
    rc = main(["--catalog", str(tmp_path), "tag", str(tmp_path / "p")])
    _, err = capsys.readouterr()
    assert rc == 1 and "is a folder, not a catalogue file" in one_error_line(err)
    assert loads == [] and changed(before, tmp_path / "p") == set()


def test_sqlite_errors_inside_a_write_are_one_line_catalogue_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autotagger.types import TagResult

    cat = made_catalogue(tmp_path / "cat.sqlite3")
    read_only_catalogues(monkeypatch)
    with Catalog(cat) as c:
        with pytest.raises(CatalogError, match="is read-only") as info:
            c.check_writable()
        assert "\n" not in str(info.value)
        with pytest.raises(CatalogError, match="is read-only") as info:
            c.record_result(TagResult(str(tmp_path / "a.jpg"), "a caption", model_id="fake"))
        assert "\n" not in str(info.value) and not c._conn.in_transaction
        assert c.get_image(str(tmp_path / "a.jpg")) is None  # rolled back; reads still work


# -- the catalogue, failing mid-run ---------------------------------------------------------------


@pytest.mark.parametrize("as_json", [True, False])
def test_a_catalogue_that_fails_mid_run_stops_it_and_every_photo_written_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loads: list[str], capsys: pytest.CaptureFixture[str],
    as_json: bool,
) -> None:
    cat = made_catalogue(tmp_path / "cat.sqlite3")
    photos(tmp_path / "p", 40)
    before = digests(tmp_path / "p")
    real = Catalog._record_one
    recorded: list[str] = []

    def record_one(self: Catalog, result: Any, *args: Any, **kw: Any) -> Any:
        if len(recorded) == 2:  # made read-only mid-run: the write inside the transaction fails
            raise sqlite3.OperationalError("attempt to write a readonly database")
        recorded.append(Path(result.path).name)
        return real(self, result, *args, **kw)

    monkeypatch.setattr(Catalog, "_record_one", record_one)
    rc = main(["--catalog", str(cat), "tag", str(tmp_path / "p"), *(["--json"] if as_json else [])])
    out, err = capsys.readouterr()
    assert rc == 1
    assert "is read-only" in one_error_line(err)
    written = changed(before, tmp_path / "p")
    assert 2 < len(written) < 40  # stopped before writing them all
    if as_json:
        objs = [json.loads(line) for line in out.splitlines()]
        assert {Path(o["path"]).name for o in objs} == written
        unrecorded = {Path(o["path"]).name for o in objs if "not recorded in the catalogue" in o["warnings"]}
    else:
        assert {Path(ln).name for ln in out.splitlines() if not ln.startswith(" ")} == written
        warned = [ln.split(": ") for ln in err.splitlines() if ln.startswith("autotagger: warning:")]
        unrecorded = {Path(w[2]).name for w in warned if w[3:] == ["not recorded in the catalogue"]}
    assert set(catalogue_rows(cat)) == set(recorded) and len(recorded) == 2
    assert unrecorded == written - set(recorded)


def test_the_writer_records_what_it_wrote_even_when_the_caller_fails(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    photos(folder, 6)
    before = digests(folder)
    with Catalog(tmp_path / "c.sqlite3") as cat:
        with pytest.raises(RuntimeError), ResultWriter(
            write_mode="embed", sidecar_name="ext", keep_backup=False, catalog=cat, threads=2
        ) as w:
            for result in tag_paths(sorted(str(p) for p in folder.iterdir()), _Fake(), batch_size=2):
                w.submit(result)  # the outcomes are dropped: the caller breaks before it reports them
            raise RuntimeError("the caller broke")
        recorded = {Path(r.path).name for r in cat.iter_images()}
    assert recorded and recorded == changed(before, folder)  # the writes queued were not started
    assert [p.name for p in folder.iterdir() if p.name.endswith(TEMP_MARK)] == []


# -- signals ---------------------------------------------------------------------------------------

SLOW_DISK_TAG = """\
# `autotagger tag` with the fake tagger, and every os.fsync slow (a slow card or NAS), so that a
# signal lands while files are being written.
import os, sys, time

from autotagger.cli import main, tag_cmd
from autotagger.engine.fake import FakeTagger

_fsync = os.fsync


def slow_fsync(fd):
    time.sleep({delay})
    return _fsync(fd)


class Fake(FakeTagger):
    batch_size = 2


os.fsync = slow_fsync
tag_cmd.load_tagger = lambda settings: Fake()
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize(
    ("sig", "times"), [(signal.SIGINT, 1), (signal.SIGTERM, 1), (signal.SIGINT, 3)], ids=["int", "term", "int3"]
)
def test_a_signal_finishes_the_writes_in_flight_and_reports_and_records_each(
    tmp_path: Path, sig: signal.Signals, times: int
) -> None:
    folder, cat = tmp_path / "p", made_catalogue(tmp_path / "cat.sqlite3")
    photos(folder, 12)
    before = digests(folder)
    script = tmp_path / "slow_tag.py"
    script.write_text(textwrap.dedent(SLOW_DISK_TAG).replace("{delay}", "0.8"))
    proc = subprocess.Popen(
        [sys.executable, str(script), "--catalog", str(cat), "tag", str(folder), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2],
    )
    try:
        deadline = time.monotonic() + 120
        while not any(p.name.endswith(TEMP_MARK) for p in folder.iterdir()):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.02)
        for _ in range(times):
            proc.send_signal(sig)
            time.sleep(0.3)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + sig, (proc.returncode, err)
    assert "Traceback" not in err and "Exception ignored" not in err, err
    reported = {Path(json.loads(line)["path"]).name for line in out.splitlines()}
    written = changed(before, folder)
    assert reported == written and 0 < len(written) < 12
    assert catalogue_rows(cat) == {name: "tagged" for name in written}
    assert one_error_line(err) == f"autotagger: error: interrupted after {len(written)} of 12 photos"
    assert [p.name for p in folder.iterdir() if p.name.endswith(TEMP_MARK)] == []


def test_a_signal_while_the_model_runs_stops_it_at_once_and_the_photos_written_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import os
    import threading

    class SlowModel(_Fake):
        """The first batch at once; the second one takes a minute, unless stopped."""

        def tag_images(self, images: Any) -> Any:
            if self.calls:
                threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
                time.sleep(60)
            return super().tag_images(images)

    monkeypatch.setattr(tag_cmd, "load_tagger", lambda settings: SlowModel())
    cat = made_catalogue(tmp_path / "cat.sqlite3")
    photos(tmp_path / "p", 6)
    before = digests(tmp_path / "p")
    start = time.monotonic()
    rc = main(["--catalog", str(cat), "tag", str(tmp_path / "p"), "--json"])
    out, err = capsys.readouterr()
    assert rc == 130 and time.monotonic() - start < 30
    written = changed(before, tmp_path / "p")
    assert {Path(json.loads(line)["path"]).name for line in out.splitlines()} == written == set(catalogue_rows(cat))
    assert len(written) == 2  # the first batch; the second was never written
    assert one_error_line(err) == "autotagger: error: interrupted after 2 of 6 photos"
