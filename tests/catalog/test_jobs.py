from __future__ import annotations

import threading
import time
from pathlib import Path

from autotagger.catalog import Catalog
from tests.catalog.helpers import result


def test_enqueue_dedupes_active_jobs(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite3") as cat:
        a = cat.enqueue("/a.jpg")
        assert a is not None and cat.enqueue("/a.jpg") is None
        (job,) = cat.claim_jobs(5, worker="w1")
        assert (job.id, job.path, job.status, job.reason) == (a, "/a.jpg", "claimed", "new")
        assert cat.enqueue("/a.jpg", reason="changed") is None  # claimed counts as active
        cat.finish_job(a)
        assert cat.enqueue("/a.jpg", reason="changed") is not None  # done: may be queued again
        assert cat.pending_count() == 1


def test_claim_oldest_first_and_release(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite3") as cat:
        ids = [cat.enqueue(f"/{i}.jpg") for i in range(5)]
        assert [j.id for j in cat.claim_jobs(2)] == ids[:2]
        assert [j.id for j in cat.claim_jobs(2)] == ids[2:4]
        assert cat.pending_count() == 1
        assert cat.release_claimed() == 4  # a crash: claimed go back
        assert cat.pending_count() == 5 and cat.status().jobs_claimed == 0
        assert cat.claim_jobs(0) == []


def test_fail_until_max_attempts_then_retry(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite3") as cat:
        jid = cat.enqueue("/x.jpg")
        for attempt in (1, 2):
            (job,) = cat.claim_jobs(1)
            cat.fail_job(job.id, f"boom {attempt}", max_attempts=3)
            job = cat.get_job(jid)
            assert (job.status, job.attempts, job.error) == ("pending", attempt, f"boom {attempt}")
        cat.claim_jobs(1)
        cat.fail_job(jid, "boom 3", max_attempts=3)
        assert cat.get_job(jid).status == "failed" and cat.claim_jobs(1) == []
        cat.record_failure("/x.jpg", "boom 3")
        cat.record_failure("/y.jpg", "bad file")  # failed image without a job (from `tag`)
        assert cat.status().jobs_failed == 1
        assert cat.retry_failed(["/x.jpg"]) == 1
        job = cat.get_job(jid)
        assert (job.status, job.attempts, job.error) == ("pending", 0, None)
        assert cat.get_image("/x.jpg").status == "pending"
        assert cat.get_image("/y.jpg").status == "failed"
        assert cat.retry_failed() == 1  # /y.jpg: queued
        assert {j.path for j in cat.claim_jobs(10)} == {"/x.jpg", "/y.jpg"}


def test_claim_is_atomic_across_connections(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    with Catalog(path) as cat:
        cat.bulk_record([])  # nothing, but exercises an empty batch
        for i in range(300):
            cat.enqueue(f"/{i}.jpg")
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            with Catalog(path) as c:
                while True:
                    jobs = c.claim_jobs(7, worker=name)
                    if not jobs:
                        return
                    claimed[name].extend(j.id for j in jobs)
                    for j in jobs:
                        c.record_result(result(j.path))
                        c.finish_job(j.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    both = claimed["a"] + claimed["b"]
    assert len(both) == 300 and len(set(both)) == 300
    with Catalog(path) as cat:
        assert cat.status().tagged == 300 and cat.pending_count() == 0


def test_a_failed_job_waits_before_it_is_claimed_again(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite3") as cat:
        jid = cat.enqueue("/x.jpg")
        other = cat.enqueue("/y.jpg")
        (job, _) = cat.claim_jobs(2)
        t0 = time.time()
        cat.fail_job(job.id, "truncated JPEG", max_attempts=3, retry_in=30.0)
        assert cat.get_job(jid).status == "pending" and cat.pending_count() == 1
        assert cat.claim_jobs(5) == [] and cat.claim_jobs(5, now=t0 + 29) == []
        due = cat.status().next_retry
        assert due is not None and t0 + 29 < due < time.time() + 31
        assert [j.id for j in cat.claim_jobs(5, now=t0 + 31)] == [jid]
        cat.fail_job(jid, "truncated JPEG", max_attempts=3, retry_in=30.0)
        assert cat.enqueue("/x.jpg", reason="changed") is None  # the file changed: due at once
        assert cat.status().next_retry is None and [j.id for j in cat.claim_jobs(5)] == [jid]
        cat.fail_job(jid, "boom", max_attempts=3, retry_in=60.0)
        assert cat.get_job(jid).status == "failed" and cat.retry_failed() == 1
        assert [j.id for j in cat.claim_jobs(5)] == [jid]  # "retry failed" means now
        cat.fail_job(other, "boom", max_attempts=3)  # no wait given: due at once
        assert cat.status().next_retry is None and [j.id for j in cat.claim_jobs(5)] == [other]
