"""Search (FTS5 ranked by bm25, plus tag/folder/date/camera filters), tag counts and status."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence

from autotagger.catalog.cjkindex import CjkMixin
from autotagger.catalog.planner import PlannerMixin
from autotagger.catalog.query import normalise_tag, parse_query
from autotagger.catalog.records import CatalogStatus, SearchHit

HIT_COLUMNS = "i.id, i.path, i.caption, i.tags_text, i.captured_at, i.camera"


class SearchMixin(PlannerMixin, CjkMixin):
    def search(self, query: str, *, limit: int = 100, offset: int = 0) -> list[SearchHit]:
        """Free words match whole words, except the query's last term (the word being typed), which is
        prefix-matched: "red ca" finds "red car", "ca red" does not. A plain prefix is searched as the
        OR of the whole words it stands for when the vocabulary snapshot allows (vocab.py): the same
        hits, each word then scored by bm25 on its own. A word holding Chinese, Japanese or Korean (or
        Thai, Lao, Khmer, Myanmar) is found anywhere inside a longer run of those ("タワー" in
        "東京タワーの夜景", "ทะเล" in "ชายหาดทะเลสวย", cjk.py).
        Hits best first: bm25 when the query has words (in blocks of the newest 1,000 hits when
        there are more, see planner.py; bm25 of the CJK words when they drive the search); else by
        capture date when the query has after:/before:, else newest in the catalogue first."""
        limit, offset = max(0, limit), max(0, offset)
        q = parse_query(query)
        if limit == 0:
            return []
        if q.fts_match is not None or q.cjk_match is not None:
            rows = self._query(query, f"{HIT_COLUMNS}, f.rank", ranked=(limit, offset))
        else:
            order = "i.captured_at DESC, i.id DESC" if q.after or q.before else "i.id DESC"
            rows = self._query(query, f"{HIT_COLUMNS}, 0.0", f" ORDER BY {order} LIMIT ? OFFSET ?", (limit, offset))
        return [
            SearchHit(r[0], r[1], r[2], tuple(t for t in r[3].split("\n") if t), r[4], r[5], float(r[6]))
            for r in rows or ()
        ]

    def count(self, query: str) -> int:
        rows = self._query(query, "count(*)")
        return int(rows[0][0]) if rows else 0

    def tag_counts(self) -> list[tuple[str, int]]:
        """Every effective tag path with how many images carry it, most used first."""
        rows = self._conn.execute("SELECT path, n FROM tag_names WHERE n > 0 ORDER BY n DESC, path").fetchall()
        return [(str(p), int(k)) for p, k in rows]

    def tag_term_counts(self, tags: Sequence[str]) -> list[int]:
        """For each tag (as written after ``tag:``), how many images ``count("tag:...")`` finds: the
        same tags matched (_tag_ids_matching), their images counted straight from image_tags, in one
        read. The GUI's tag tree counts its parent nodes so after every change while the service tags;
        ``count`` takes the general plan (an EXISTS per image), tens of ms per node at 100,000 images."""
        out: list[int] = []
        with self._read() as c:
            for tag in tags:
                ids = self._tag_ids_matching(normalise_tag(tag))
                row = c.execute("SELECT count(DISTINCT image_id) FROM image_tags WHERE tag_id IN "
                                "(SELECT value FROM json_each(?))", (json.dumps(ids),)).fetchone()
                out.append(int(row[0]) if ids else 0)
        return out

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
            waiting, next_retry = c.execute(
                "SELECT count(*), min(not_before) FROM jobs WHERE status = 'pending' AND not_before > ?",
                (time.time(),),
            ).fetchone()
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
            jobs_waiting=int(waiting),
            next_retry=None if next_retry is None else float(next_retry),
        )

    def optimize(self) -> None:
        """Maintenance after a big import: merge the FTS indexes, rebuild the vocabulary snapshot
        (vocab.py), index CJK text another tool wrote (cjkindex.py), refresh planner statistics,
        checkpoint."""
        with self._write() as c:
            self._catch_up_cjk()
            c.execute("INSERT INTO images_fts (images_fts) VALUES ('optimize')")
            c.execute("INSERT INTO images_cjk (images_cjk) VALUES ('optimize')")
            self.refresh_vocab()
            c.execute("ANALYZE")
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def integrity_check(self) -> list[str]:
        """Problems found by SQLite's and FTS5's integrity checks (empty when all is well)."""
        problems = [str(r[0]) for r in self._conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        for table in ("images_fts", "images_cjk"):
            try:
                self._conn.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)")
            except sqlite3.DatabaseError as exc:
                problems.append(f"fts5 {table}: {exc}")
        return problems
