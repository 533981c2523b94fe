"""The persistent job queue the watcher and service use: pending -> claimed -> done | failed."""

from __future__ import annotations

import time
from collections.abc import Sequence

from autotagger.catalog._base import CatalogBase
from autotagger.catalog.records import Job
from autotagger.catalog.schema import now_iso

JOB_COLUMNS = "id, path, reason, attempts, status, error"

#: Done jobs kept, the newest: a recent history of what was queued and why (what a person or a test
#: looks at to see whether a file was queued twice). Older ones go as each job finishes: nothing reads
#: them (the counts shown are of pending, claimed and failed jobs; Retry failed reads failed ones), and
#: kept for good they grew the table by a row per file tagged for as long as the service ran.
KEEP_DONE = 1000


class JobsMixin(CatalogBase):
    def enqueue(self, path: str, *, reason: str = "new") -> int | None:
        """Queue ``path``; None if a pending or claimed job for it already exists. A pending job
        waiting to be tried again is due at once: the file has changed since it failed."""
        now = now_iso()
        with self._write() as c:
            row = c.execute(
                "INSERT OR IGNORE INTO jobs (path, reason, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id",
                (path, reason, now, now),
            ).fetchone()
            if row is None:
                c.execute(
                    "UPDATE jobs SET not_before = NULL WHERE path = ? AND status = 'pending' AND not_before IS NOT NULL",
                    (path,),
                )
            return None if row is None else int(row[0])

    def claim_jobs(self, limit: int, *, worker: str = "", now: float | None = None) -> list[Job]:
        """Atomically move up to ``limit`` of the oldest pending jobs that are due (at ``now``,
        Unix time; default the clock) to claimed."""
        if limit <= 0:
            return []
        at = time.time() if now is None else now
        with self._write() as c:
            rows = c.execute(
                "UPDATE jobs SET status = 'claimed', worker = ?, updated_at = ? WHERE id IN "
                "(SELECT id FROM jobs WHERE status = 'pending' AND (not_before IS NULL OR not_before <= ?) "
                "ORDER BY id LIMIT ?) "
                f"RETURNING {JOB_COLUMNS}",
                (worker, now_iso(), at, limit),
            ).fetchall()
        return sorted((Job(*r) for r in rows), key=lambda j: j.id)

    def finish_job(self, job_id: int) -> None:
        """Mark the job done (in the caller's transaction, when one is open) and let go of the done
        jobs beyond the newest KEEP_DONE."""
        with self._write() as c:
            c.execute(
                "UPDATE jobs SET status = 'done', error = NULL, updated_at = ? WHERE id = ?", (now_iso(), job_id)
            )
            self._prune_done()

    def _prune_done(self) -> None:
        """Delete the done jobs older than the newest KEEP_DONE: one walk of KEEP_DONE entries of the
        jobs_status index, and, once the table is at its bound, about one row deleted per job finished.
        The first call on a catalogue from before this deletes its whole backlog at once."""
        self._conn.execute(
            "DELETE FROM jobs WHERE status = 'done' AND id < "
            "(SELECT id FROM jobs WHERE status = 'done' ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (KEEP_DONE - 1,),
        )

    def fail_job(self, job_id: int, error: str, *, max_attempts: int = 3, retry_in: float = 0.0) -> None:
        """Count an attempt; back to pending, due in ``retry_in`` seconds, until ``max_attempts`` is
        reached, then failed."""
        with self._write() as c:
            c.execute(
                "UPDATE jobs SET attempts = attempts + 1, error = ?, updated_at = ?, "
                "status = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE 'pending' END, "
                "not_before = CASE WHEN ? > 0 THEN ? ELSE NULL END WHERE id = ?",
                (error, now_iso(), max_attempts, retry_in, time.time() + retry_in, job_id),
            )

    def release_claimed(self) -> int:
        """Claimed jobs back to pending (at start-up, after a crash); returns how many."""
        with self._write() as c:
            cur = c.execute(
                "UPDATE jobs SET status = 'pending', worker = '', updated_at = ? WHERE status = 'claimed'",
                (now_iso(),),
            )
            return int(cur.rowcount)

    def drop_pending_jobs(self, job_ids: Sequence[int]) -> int:
        """Delete those of these jobs that are still pending (a claimed one is in a worker's hands and
        finishes); returns how many went. The service drops what it queued under a folder no longer
        watched."""
        with self._write() as c:
            return sum(
                int(c.execute("DELETE FROM jobs WHERE id = ? AND status = 'pending'", (job_id,)).rowcount)
                for job_id in job_ids
            )

    def pending_count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM jobs WHERE status = 'pending'").fetchone()[0])

    def get_job(self, job_id: int) -> Job | None:
        row = self._conn.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else Job(*row)

    def list_jobs(self, status: str | None = None, *, limit: int = 1000) -> list[Job]:
        if status is None:
            rows = self._conn.execute(f"SELECT {JOB_COLUMNS} FROM jobs ORDER BY id LIMIT ?", (limit,))
        else:
            rows = self._conn.execute(
                f"SELECT {JOB_COLUMNS} FROM jobs WHERE status = ? ORDER BY id LIMIT ?", (status, limit)
            )
        return [Job(*r) for r in rows]

    def retry_failed(self, paths: Sequence[str] | None = None) -> int:
        """Failed jobs and failed images (all, or those in ``paths``) back to pending; returns how many paths."""
        now = now_iso()
        wanted = None if paths is None else set(paths)
        with self._write() as c:
            failed_jobs = c.execute("SELECT id, path FROM jobs WHERE status = 'failed'").fetchall()
            failed_images = [r[0] for r in c.execute("SELECT path FROM images WHERE status = 'failed'")]
            todo: set[str] = set()
            for job_id, path in failed_jobs:
                if wanted is not None and path not in wanted:
                    continue
                todo.add(path)
                if c.execute(
                    "SELECT 1 FROM jobs WHERE path = ? AND status IN ('pending', 'claimed')", (path,)
                ).fetchone():
                    c.execute("UPDATE jobs SET status = 'done', updated_at = ? WHERE id = ?", (now, job_id))
                else:
                    c.execute(
                        "UPDATE jobs SET status = 'pending', attempts = 0, error = NULL, not_before = NULL, "
                        "updated_at = ? WHERE id = ?",
                        (now, job_id),
                    )
            for path in failed_images:
                if wanted is not None and path not in wanted:
                    continue
                todo.add(path)
                c.execute(
                    "UPDATE images SET status = 'pending', updated_at = ? WHERE path = ? AND status = 'failed'",
                    (now, path),
                )
                c.execute(
                    "INSERT OR IGNORE INTO jobs (path, reason, created_at, updated_at) VALUES (?, 'retry', ?, ?)",
                    (path, now, now),
                )
            self._prune_done()
            return len(todo)
