"""The vocabulary snapshot that makes a short prefix fast.

FTS5 answers ``"cou"*`` by merging every posting of every word starting with ``cou`` before it can
return the newest hit (at 1,000,000 images a p95 of ~70 ms). The table ``vocab`` holds every term
of the index up to image id ``vocab_state.upto`` (a superset: words of deleted rows stay), so the
prefix can be searched as ``("couple" OR "count" OR ...)``, which FTS5 walks newest first and stops
early. The same rows match; bm25 then scores each whole word (its own idf) instead of the prefix.

The snapshot is exact for rows ``<= upto`` whose text did not change since (an update trigger lists
changed rows in ``vocab_stale``; a trigger lowers ``upto`` when the newest rows are deleted, since
their ids can be reused). Rows outside it are "fresh"; a search that meets fresh rows either adds
their words first (a writer, at most ``CATCH_UP_LIMIT`` of them: they are re-tokenized in a
temporary FTS5 table: 0.9 s for 50,000 rows at 300,000 images) or uses the plain prefix (a read-only
catalogue, a busy writer, or more fresh rows than that). ``optimize()`` rebuilds the snapshot from
the index (``fts5vocab`` reads every posting once: seconds at a million images).
"""

from __future__ import annotations

import sqlite3

from autotagger.catalog._base import BUSY_TIMEOUT_MS, CatalogBase
from autotagger.catalog.errors import CatalogError
from autotagger.catalog.query import ParsedQuery, fts_string

CATCH_UP_LIMIT = 50_000
MAX_EXPANSION = 64  # more whole words than this: the plain prefix is as quick
TOKENIZE = "unicode61 remove_diacritics 2"  # as images_fts (schema.py V2_FTS)


def successor(prefix: str) -> str:
    """The smallest string above every string that starts with ``prefix`` (ASCII ``prefix``)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


class VocabMixin(CatalogBase):
    def _fresh_rows(self) -> int:
        """How many rows the snapshot does not cover (ids above it plus changed rows), roughly."""
        c = self._conn
        upto = int(c.execute("SELECT upto FROM vocab_state").fetchone()[0])
        top = int(c.execute("SELECT coalesce(max(id), 0) FROM images").fetchone()[0])
        stale = int(c.execute("SELECT count(*) FROM (SELECT 1 FROM vocab_stale LIMIT ?)", (CATCH_UP_LIMIT + 1,))
                    .fetchone()[0])
        return max(0, top - upto) + stale

    def refresh_vocab(self) -> None:
        """Rebuild the snapshot from the whole index (drops the words of deleted rows)."""
        with self._write() as c:
            c.execute("DELETE FROM vocab")
            c.execute("INSERT INTO vocab (term) SELECT term FROM images_fts_terms")
            c.execute("UPDATE vocab_state SET upto = (SELECT coalesce(max(id), 0) FROM images)")
            c.execute("DELETE FROM vocab_stale")

    def _catch_up_vocab(self) -> None:
        """Add the words of the fresh rows to the snapshot (re-tokenized in a temporary FTS5 table)."""
        with self._write() as c:
            upto = int(c.execute("SELECT upto FROM vocab_state").fetchone()[0])
            c.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab_fresh USING fts5 "
                      f"(caption, tags_text, name, folder, content = '', tokenize = '{TOKENIZE}')")
            c.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab_fresh_terms USING fts5vocab (temp, vocab_fresh, row)")
            for sql in ("SELECT id, caption, tags_text, name, folder FROM images WHERE id > ?",
                        "SELECT id, caption, tags_text, name, folder FROM images WHERE id IN "
                        "(SELECT id FROM vocab_stale) AND id <= ?"):
                c.execute(f"INSERT INTO temp.vocab_fresh (rowid, caption, tags_text, name, folder) {sql}", (upto,))
            c.execute("INSERT OR IGNORE INTO vocab (term) SELECT term FROM temp.vocab_fresh_terms")
            c.execute("INSERT INTO temp.vocab_fresh (vocab_fresh) VALUES ('delete-all')")
            c.execute("UPDATE vocab_state SET upto = (SELECT coalesce(max(id), 0) FROM images)")
            c.execute("DELETE FROM vocab_stale")

    def _prepare_vocab(self, q: ParsedQuery) -> None:
        """Before a search with a prefix: bring the snapshot up to date when that is cheap."""
        if q.prefix is None or self.readonly or self._in_txn:
            return
        fresh = self._fresh_rows()
        if not 0 < fresh <= CATCH_UP_LIMIT:
            return
        self._conn.execute("PRAGMA busy_timeout = 0")  # a busy writer elsewhere: search without it
        try:
            self._catch_up_vocab()
        except (sqlite3.Error, CatalogError):
            pass  # the search uses the plain prefix
        finally:
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

    def _fts_match(self, q: ParsedQuery) -> str | None:
        """The query's FTS5 expression, its prefix expanded into whole words when the snapshot
        covers every row (call inside the search's read transaction)."""
        if q.prefix is None or self._fresh_rows() > 0:
            return q.fts_match
        terms = [
            str(r[0])
            for r in self._conn.execute(
                "SELECT term FROM vocab WHERE term >= ? AND term < ? LIMIT ?",
                (q.prefix, successor(q.prefix), MAX_EXPANSION + 1),
            )
        ]
        if not terms or len(terms) > MAX_EXPANSION:
            return q.fts_match
        return q.match_with_prefix("(" + " OR ".join(fts_string(t, prefix=False) for t in terms) + ")")
