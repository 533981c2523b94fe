"""A catalogue over months of service: the WAL file, the done jobs and the reconcile scan's listing stay
bounded (benchmarks/results/soak-cpu-2026-12-05.txt found all three growing)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from autotagger.catalog import Catalog, FileInfo, opening
from autotagger.catalog import jobs as jobs_module
from tests.catalog.helpers import result


def wal_size(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_the_wal_is_cut_back_to_the_limit_after_a_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    limit = 256 * 1024
    monkeypatch.setattr(opening, "WAL_SIZE_LIMIT", limit)
    path = tmp_path / "c.sqlite3"
    with Catalog(path) as cat:
        # one big transaction (an import, a copied folder): the WAL grows well past the limit
        cat.bulk_record(result(f"/photos/{i:05d}.jpg", caption=f"photo number {i}") for i in range(3000))
        assert wal_size(path) > 4 * limit
        other = sqlite3.connect(path)  # any connection's checkpoint (SQLite's automatic one, another
        try:  # program's, the service's) copies the WAL back into the catalogue...
            assert other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[0] == 0
        finally:
            other.close()
        assert wal_size(path) > 4 * limit  # ...and leaves the file as it was
        cat.enqueue("/photos/next.jpg")  # the next write starts the WAL over: cut to the limit
        assert wal_size(path) <= limit
        cat.enqueue("/photos/after.jpg")
        assert wal_size(path) <= limit


def test_every_connection_gets_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    with Catalog(path) as writer, Catalog(path, readonly=True) as reader:
        for cat in (writer, reader):
            assert cat._conn.execute("PRAGMA journal_size_limit").fetchone()[0] == opening.WAL_SIZE_LIMIT


def test_checkpoint_empties_the_wal_and_gives_way_to_a_reader(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    with Catalog(path) as cat:
        cat.bulk_record(result(f"/p/{i}.jpg") for i in range(200))
        assert wal_size(path) > 0
        assert cat.checkpoint() is True and wal_size(path) == 0
        reader = sqlite3.connect(path, isolation_level=None)
        try:
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM images").fetchone()  # the GUI, mid-read
            cat.record_result(result("/p/late.jpg"))  # a commit the reader's snapshot does not hold
            assert cat.checkpoint() is False  # busy_timeout is 30 s: it would have waited, not failed
            assert wal_size(path) > 0
            reader.execute("COMMIT")
        finally:
            reader.close()
        assert cat.checkpoint() is True and wal_size(path) == 0
        assert cat._conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000  # put back
        assert cat.get_image("/p/late.jpg") is not None
    with Catalog(path, readonly=True) as ro:
        assert ro.checkpoint() is False


def test_done_jobs_are_kept_to_the_newest_few(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs_module, "KEEP_DONE", 5)
    with Catalog(tmp_path / "c.sqlite3") as cat:
        failed = cat.enqueue("/bad.jpg")
        (job,) = cat.claim_jobs(1)
        cat.fail_job(job.id, "truncated JPEG", max_attempts=1)
        waiting = cat.enqueue("/later.jpg")
        finished = []
        for i in range(40):  # the service tagging photo after photo
            jid = cat.enqueue(f"/p/{i}.jpg", reason="scan")
            for claimed in cat.claim_jobs(10):
                if claimed.path == "/later.jpg":
                    continue
                cat.record_result(result(claimed.path))
                cat.finish_job(claimed.id)
                finished.append(claimed.id)
            assert jid in finished
        cat.enqueue("/later.jpg")  # still queued (claimed above and never finished)
        done = cat.list_jobs("done", limit=-1)
        assert [j.id for j in done] == finished[-5:]
        assert [j.id for j in cat.list_jobs("failed")] == [failed]  # Retry failed still finds it
        assert cat.get_job(waiting) is not None and cat.get_job(waiting).status == "claimed"
        assert cat.status().jobs_failed == 1 and cat.status().tagged == 40
        assert cat.retry_failed() == 1 and cat.get_job(failed).status == "pending"
        assert len(cat.list_jobs("done", limit=-1)) == 5


def test_a_backlog_of_done_jobs_goes_at_the_next_finish(tmp_path: Path) -> None:
    """A catalogue from before the bound holds a done row for every file ever queued."""
    path = tmp_path / "c.sqlite3"
    Catalog(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executemany(
        "INSERT INTO jobs (path, status, created_at, updated_at) VALUES (?, 'done', 'x', 'x')",
        [(f"/old/{i}.jpg",) for i in range(jobs_module.KEEP_DONE + 500)],
    )
    conn.close()
    with Catalog(path) as cat:
        cat.enqueue("/first.jpg")
        (job,) = cat.claim_jobs(1)
        cat.finish_job(job.id)
        done = cat.list_jobs("done", limit=-1)
        assert len(done) == jobs_module.KEEP_DONE and done[-1].id == job.id


def test_iter_known_lists_what_iter_images_does_without_the_tags(tmp_path: Path) -> None:
    paths = [
        "/photos/a.jpg", "/photos/2024/b.jpg", "/photos/2024/deep/c.jpg", "/photos/z.jpg",
        "/photos0/sibling.jpg", "/photos-old/d.jpg", "/photosx.jpg", "/other/e.jpg", "/top.jpg",
    ]
    with Catalog(tmp_path / "c.sqlite3") as cat:
        for i, p in enumerate(paths):
            cat.record_result(result(p), size=100 + i, mtime=1000.5 + i, content_hash=f"j{i:04x}")
        cat.record_failure("/photos/2024/broken.jpg", "truncated JPEG")
        cat.upsert_file("/photos/new.jpg", size=7, mtime=2.0)
        for folder in ("/photos", "/photos/", "/photos/2024", "/other", "/", "/missing"):
            want = sorted(
                (r.path, r.size, r.mtime, r.content_hash, r.status) for r in cat.iter_images(folder=folder)
            )
            for page in (1, 2, 5000):  # pages end anywhere: nothing twice, nothing left out
                got = [tuple(k) for k in cat.iter_known(folder, page=page)]
                assert got == want, (folder, page)
        assert {k.path for k in cat.iter_known("/photos")} == {
            "/photos/a.jpg", "/photos/2024/b.jpg", "/photos/2024/deep/c.jpg", "/photos/z.jpg",
            "/photos/2024/broken.jpg", "/photos/new.jpg",
        }
        known = {k.path: k for k in cat.iter_known("/photos/2024")}
        assert known["/photos/2024/b.jpg"] == ("/photos/2024/b.jpg", 101, 1001.5, "j0001", "tagged")
        assert known["/photos/2024/broken.jpg"].status == "failed"


def test_iter_known_reads_no_tags(tmp_path: Path) -> None:
    """The point of it: a scan of a big catalogue must not build tag and answer records."""
    with Catalog(tmp_path / "c.sqlite3") as cat:
        cat.bulk_record((result(f"/p/{i}.jpg"), FileInfo(size=i, mtime=float(i))) for i in range(10))
        statements: list[str] = []
        cat._conn.set_trace_callback(statements.append)
        assert len(list(cat.iter_known("/p"))) == 10
        cat._conn.set_trace_callback(None)
        assert statements and not any("image_tags" in s or "texts" in s for s in statements)
