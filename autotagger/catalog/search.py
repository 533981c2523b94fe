"""Search (FTS5 ranked by bm25, plus tag/folder/date/camera filters), tag counts and status."""

from __future__ import annotations

import sqlite3
from typing import Any

from autotagger.catalog._base import CatalogBase, folder_range
from autotagger.catalog.errors import CatalogError, QueryError
from autotagger.catalog.query import ParsedQuery, parse_query
from autotagger.catalog.records import CatalogStatus, SearchHit

# a positive tag filter matching fewer images than this drives the query from the tag index;
# more, and images are scanned newest first until enough hits are found
TAG_DRIVE_LIMIT = 20_000
HIT_COLUMNS = "i.id, i.path, i.caption, i.tags_text, i.captured_at, i.camera"


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SearchMixin(CatalogBase):
    def _tag_ids_matching(self, tag: str) -> list[int]:
        """tag:a|b matches that path and its children; tag:b matches b at any level."""
        c = self._conn
        if "|" in tag:
            rows = c.execute(
                "SELECT id FROM tag_names WHERE path = ? OR substr(path, 1, ?) = ? COLLATE NOCASE",
                (tag, len(tag) + 1, tag + "|"),
            )
        else:
            rows = c.execute(
                "SELECT id FROM tag_names WHERE '|' || path || '|' LIKE ? ESCAPE '\\'",
                (f"%|{_like_escape(tag)}|%",),
            )
        return [int(r[0]) for r in rows]

    def _filters(self, q: ParsedQuery) -> tuple[list[str], list[Any], list[int]] | None:
        """SQL conditions on images ``i`` and their parameters; None when nothing can match.

        The third item is the tag ids of the most selective positive tag filter (to drive from)."""
        where: list[str] = []
        params: list[Any] = []
        drive: list[int] = []
        best = -1
        for tag in q.tags:
            ids = self._tag_ids_matching(tag)
            if not ids:
                return None
            marks = ",".join("?" * len(ids))
            where.append(f"EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id AND t.tag_id IN ({marks}))")
            params.extend(ids)
            n = self._conn.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM image_tags WHERE tag_id IN ({marks}) LIMIT ?)",
                (*ids, TAG_DRIVE_LIMIT),
            ).fetchone()[0]
            if n < TAG_DRIVE_LIMIT and (best < 0 or n < best):
                best, drive = n, ids
        for tag in q.not_tags:
            ids = self._tag_ids_matching(tag)
            if ids:
                marks = ",".join("?" * len(ids))
                where.append(
                    f"NOT EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id AND t.tag_id IN ({marks}))"
                )
                params.extend(ids)
        for folders, neg in ((q.folders, False), (q.not_folders, True)):
            for folder in folders:
                base, lo, hi = folder_range(folder)
                cond = "(i.folder = ? OR (i.folder >= ? AND i.folder < ?))"
                where.append(f"NOT {cond}" if neg else cond)
                params.extend((base, lo, hi))
        for cameras, neg in ((q.cameras, False), (q.not_cameras, True)):
            for camera in cameras:
                cond = "i.camera LIKE ? ESCAPE '\\'"
                where.append(f"coalesce(NOT {cond}, 1)" if neg else cond)
                params.append(f"%{_like_escape(camera)}%")
        if q.after:
            where.append("i.captured_at >= ?")
            params.append(q.after)
        if q.before:
            where.append("i.captured_at < ?")
            params.append(q.before)
        if q.fts_exclude:
            where.append("i.id NOT IN (SELECT rowid FROM images_fts WHERE images_fts MATCH ?)")
            params.append(q.fts_exclude)
        return where, params, drive

    def _select(self, query: str, what: str, tail: str, tail_params: tuple[Any, ...]) -> list[Any] | None:
        q = parse_query(query)
        with self._read() as c:
            built = self._filters(q)
            if built is None:
                return None
            where, params, drive = built
            match = q.fts_match
            if match is not None:
                sql = f"SELECT {what} FROM images_fts f CROSS JOIN images i ON i.id = f.rowid WHERE images_fts MATCH ?"
                params = [match, *params]
            elif drive:
                marks = ",".join("?" * len(drive))
                sql = f"SELECT {what} FROM images i WHERE i.id IN (SELECT image_id FROM image_tags WHERE tag_id IN ({marks}))"
                params = [*drive, *params]
            else:
                sql = f"SELECT {what} FROM images i WHERE 1"
            if where:
                sql += " AND " + " AND ".join(where)
            try:
                return c.execute(sql + tail, (*params, *tail_params)).fetchall()
            except sqlite3.OperationalError as exc:
                if "fts5" in str(exc).lower() or "syntax" in str(exc).lower():
                    raise QueryError(f"cannot search for {query!r}: {exc}") from None
                raise CatalogError(f"search failed: {exc}") from None

    def search(self, query: str, *, limit: int = 100, offset: int = 0) -> list[SearchHit]:
        """Hits best first (bm25 when the query has words, else newest first)."""
        q = parse_query(query)
        if q.fts_match is not None:
            what, order = f"{HIT_COLUMNS}, f.rank", " ORDER BY f.rank LIMIT ? OFFSET ?"
        else:
            what, order = f"{HIT_COLUMNS}, 0.0", " ORDER BY i.id DESC LIMIT ? OFFSET ?"
        rows = self._select(query, what, order, (max(0, limit), max(0, offset)))
        return [
            SearchHit(r[0], r[1], r[2], tuple(t for t in r[3].split("\n") if t), r[4], r[5], float(r[6]))
            for r in rows or ()
        ]

    def count(self, query: str) -> int:
        rows = self._select(query, "count(*)", "", ())
        return int(rows[0][0]) if rows else 0

    def tag_counts(self) -> list[tuple[str, int]]:
        """Every effective tag path with how many images carry it, most used first."""
        rows = self._conn.execute(
            "SELECT n.path, c.k FROM (SELECT tag_id, count(*) AS k FROM image_tags GROUP BY tag_id) c "
            "JOIN tag_names n ON n.id = c.tag_id ORDER BY c.k DESC, n.path"
        ).fetchall()
        return [(str(p), int(k)) for p, k in rows]

    def status(self) -> CatalogStatus:
        with self._read() as c:
            total = int(c.execute("SELECT count(*) FROM images").fetchone()[0])
            counts = dict(
                c.execute("SELECT status, count(*) FROM images WHERE status != 'tagged' GROUP BY status").fetchall()
            )
            jobs = dict(
                c.execute(
                    "SELECT status, count(*) FROM jobs WHERE status IN ('pending', 'claimed', 'failed') GROUP BY status"
                ).fetchall()
            )
            errors = c.execute(
                "SELECT path, coalesce(error, '') FROM images WHERE status = 'failed' "
                "ORDER BY updated_at DESC, id DESC LIMIT 10"
            ).fetchall()
            folders = [r[0] for r in c.execute("SELECT path FROM folders ORDER BY path")]
            models = [
                r[0]
                for r in c.execute(
                    "SELECT t.text FROM models m JOIN texts t ON t.id = m.text_id ORDER BY m.last_used DESC, t.text"
                )
            ]
            version = int(c.execute("PRAGMA user_version").fetchone()[0])
        return CatalogStatus(
            path=str(self.path),
            schema_version=version,
            images=total,
            tagged=total - sum(counts.values()),
            pending=counts.get("pending", 0),
            failed=counts.get("failed", 0),
            folders=tuple(folders),
            last_errors=tuple((str(p), str(e)) for p, e in errors),
            model_ids=tuple(models),
            jobs_pending=jobs.get("pending", 0),
            jobs_claimed=jobs.get("claimed", 0),
            jobs_failed=jobs.get("failed", 0),
        )

    def optimize(self) -> None:
        """Maintenance after a big import: merge the FTS index, refresh planner statistics, checkpoint."""
        with self._write() as c:
            c.execute("INSERT INTO images_fts (images_fts) VALUES ('optimize')")
            c.execute("ANALYZE")
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def integrity_check(self) -> list[str]:
        """Problems found by SQLite's and FTS5's integrity checks (empty when all is well)."""
        problems = [str(r[0]) for r in self._conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        try:
            self._conn.execute("INSERT INTO images_fts (images_fts, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError as exc:
            problems.append(f"fts5: {exc}")
        return problems
