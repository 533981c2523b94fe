"""Readers during writes, a writer killed mid-transaction, and the writer lock across processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from autotagger.catalog import AlreadyRunning, Catalog, WriterLock
from tests.catalog.helpers import result

ROOT = Path(__file__).resolve().parents[2]


def child(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_readers_never_see_locked_while_writer_commits(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    with Catalog(path) as cat:
        cat.bulk_record([result(f"/seed/{i}.jpg", caption=f"seed photo {i}") for i in range(200)])
    stop = threading.Event()
    errors: list[BaseException] = []
    reads = [0]

    def writer() -> None:
        try:
            with Catalog(path) as w:
                for i in range(150):
                    w.record_result(result(f"/new/{i}.jpg", caption=f"fresh beach photo {i}"))
                    if i % 10 == 0:
                        w.bulk_record([result(f"/bulk/{i}-{k}.jpg") for k in range(50)])
        except BaseException as exc:
            errors.append(exc)
        finally:
            stop.set()

    def reader() -> None:
        try:
            with Catalog(path, readonly=True) as r:
                while not stop.is_set():
                    n = r.count("photo")
                    hits = r.search("beach", limit=20)
                    assert n >= 200 and len(hits) <= 20
                    r.status()
                    r.get_image("/seed/1.jpg")
                    reads[0] += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [], errors
    assert reads[0] > 0
    with Catalog(path) as cat:
        assert cat.count("fresh") == 150 and cat.integrity_check() == []


KILL_CHILD = """
import sys, time
from autotagger.catalog import Catalog
from autotagger.types import Tag, TagResult
cat = Catalog(sys.argv[1])
def items():
    for i in range(10**6):
        if i == 1500:
            print("mid", flush=True)  # batch 1 (1000) committed, batch 2 half written
            time.sleep(600)
        yield TagResult(f"/k/{i}.jpg", f"killed writer photo {i}", tags=(Tag("a|b", 0.5), Tag(f"n|{i % 7}")))
cat.bulk_record(items(), batch_size=1000)
"""


def test_sigkill_mid_transaction_leaves_a_sound_catalogue(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    proc = child(KILL_CHILD, str(path))
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "mid", proc.stderr.read() if proc.stderr else ""
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with Catalog(path) as cat:
        assert cat.integrity_check() == []
        assert [r[0] for r in cat._conn.execute("PRAGMA integrity_check")] == ["ok"]
        cat._conn.execute("INSERT INTO images_fts (images_fts, rank) VALUES ('integrity-check', 1)")
        assert cat.status().images == 1000  # the committed batch, none of the killed one
        assert cat.count("killed") == 1000 and cat.count("tag:a|b") == 1000
        cat.record_result(result("/after.jpg"))  # and it is writable again
        assert cat.count("tag:dog") == 1


LOCK_CHILD = """
import sys, time
from autotagger.catalog import WriterLock
with WriterLock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(600)
"""


def test_writer_lock_between_processes(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    proc = child(LOCK_CHILD, str(path))
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        lock = WriterLock(path)
        assert lock.holder_pid() == proc.pid
        with pytest.raises(AlreadyRunning, match=str(proc.pid)) as info:
            lock.acquire()
        assert info.value.pid == proc.pid and "\n" not in str(info.value)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with WriterLock(path) as lock:  # the kernel released the dead holder's lock
        assert lock.holder_pid() == os.getpid()
        with pytest.raises(AlreadyRunning):
            WriterLock(path).acquire()  # a second lock in the same process is refused too
    assert WriterLock(path).holder_pid() is None
