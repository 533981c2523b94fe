"""`autotagger ... | head -1`: when whatever reads our stdout goes away, a command stops quietly with
exit 141 (128 + SIGPIPE, what a shell shows for a command killed by it): no traceback, no more photos
tagged for nobody, every photo written recorded in the catalogue, no temp file left beside a photo."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from autotagger.cli.common import EXIT_READER_GONE
from autotagger.metadata.safefile import TEMP_MARK
from tests.cli.test_tag_safety import catalogue_rows, changed, digests, photos

ROOT = Path(__file__).parents[2]

# `autotagger tag` with the fake tagger, one photo a batch. Its 20th batch waits until the test has
# closed its end of the pipe (the flag file), so that photos are still to be tagged and reported once
# the reader has gone, whatever the speed of the machine: by the 20th batch the first photo has been
# reported (the writer hands outcomes back at most 16 photos late).
WAITING_TAG = """\
import os, sys, time

from autotagger.cli import main, tag_cmd
from autotagger.engine.fake import FakeTagger

FLAG = {flag!r}


class Fake(FakeTagger):
    batch_size = 1

    def tag_images(self, images):
        if self.calls == 19:
            deadline = time.monotonic() + 120
            while not os.path.exists(FLAG) and time.monotonic() < deadline:
                time.sleep(0.01)
        return super().tag_images(images)


tag_cmd.load_tagger = lambda settings: Fake()
sys.exit(main(sys.argv[1:]))
"""


def run_with_stdout_closed(*args: str) -> subprocess.CompletedProcess[str]:
    """``autotagger ARGS`` writing into a pipe whose reader has already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "autotagger", *args], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=300)
    finally:
        os.close(write_end)


def test_tag_stops_quietly_when_the_reader_leaves_after_the_first_line(tmp_path: Path) -> None:
    folder, cat, flag = tmp_path / "p", tmp_path / "cat.sqlite3", tmp_path / "reader-gone"
    photos(folder, 40)
    before = digests(folder)
    script = tmp_path / "waiting_tag.py"
    script.write_text(textwrap.dedent(WAITING_TAG).replace("{flag!r}", repr(str(flag))))
    proc = subprocess.Popen([sys.executable, str(script), "--catalog", str(cat), "tag", str(folder), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        first = json.loads(proc.stdout.readline())  # as `head -1`: one line, then gone
        proc.stdout.close()
        flag.touch()
        err = proc.stderr.read()
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == EXIT_READER_GONE, (proc.returncode, err)
    assert err == ""  # quiet: no traceback, no "Exception ignored", no error line
    written = changed(before, folder)
    assert Path(first["path"]).name in written
    assert 0 < len(written) < 40  # stopped: not every photo tagged for a reader that left
    assert catalogue_rows(cat) == {name: "tagged" for name in written}  # each one written is recorded
    assert [p.name for p in folder.iterdir() if p.name.endswith(TEMP_MARK)] == []


@pytest.fixture
def catalogue(tmp_path: Path) -> Path:
    """A catalogue with a few tagged photos in it (the fake tagger; no model)."""
    from autotagger.catalog import Catalog
    from autotagger.types import Tag, TagResult

    path = tmp_path / "cat.sqlite3"
    cat = Catalog(path)
    try:
        for i in range(5):
            p = tmp_path / f"beach{i}.jpg"
            result = TagResult(path=str(p), caption=f"a beach {i}", tags=(Tag("outdoors", 0.9, "setting"),),
                               model_id="fake")
            cat.record_result(result, size=10, mtime=time.time(), content_hash=f"h{i}")
    finally:
        cat.close()
    return path


@pytest.mark.parametrize("argv", [
    ["search", "beach"], ["search", "--json", "beach"], ["export"], ["export", "--format", "json"],
    ["tags"], ["status", "--json"],
], ids=" ".join)
def test_readers_stop_quietly_when_stdout_is_closed(catalogue: Path, argv: list[str]) -> None:
    res = run_with_stdout_closed("--catalog", str(catalogue), *argv)
    assert (res.returncode, res.stderr) == (EXIT_READER_GONE, "")


def test_watch_stops_tagging_when_the_reader_leaves(tmp_path: Path, tiny_model: Path) -> None:
    folder, cat = tmp_path / "p", tmp_path / "cat.sqlite3"
    photos(folder, 8)
    before = digests(folder)
    res = run_with_stdout_closed("--catalog", str(cat), "watch", str(folder), "--once", "--json",
                                 "--model", str(tiny_model), "--batch-size", "1")
    assert res.returncode == EXIT_READER_GONE, res.stderr
    assert "Traceback" not in res.stderr and "error" not in res.stderr, res.stderr
    written = changed(before, folder)
    assert 0 < len(written) < 8  # the service stopped after the batch in the model, not at the end
    # each photo written is recorded; the others are still queued, for the next run
    assert catalogue_rows(cat) == {name: "tagged" if name in written else "pending" for name in before}
    conn = sqlite3.connect(cat)
    try:
        queued = conn.execute("SELECT count(*) FROM jobs WHERE status = 'pending'").fetchone()[0]
    finally:
        conn.close()
    assert queued == 8 - len(written)
