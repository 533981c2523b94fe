"""Keeping cjk_grams and its index ``images_cjk`` (see cjk.py, schema.py V7_CJK) in step with the images."""

from __future__ import annotations

from collections.abc import Iterable

from autotagger.catalog._base import CatalogBase
from autotagger.catalog.cjk import FIELDS, grams_row

_COLUMNS = ", ".join(FIELDS)
_INSERT = f"INSERT INTO cjk_grams (id, {_COLUMNS}) VALUES (?, ?, ?, ?, ?)"
_INDEX = f"INSERT INTO images_cjk (rowid, {_COLUMNS}) VALUES (?, ?, ?, ?, ?)"


class CjkMixin(CatalogBase):
    def _index_cjk(self, docs: Iterable[tuple[int, str, str, str, str]]) -> None:
        """New images rows (id, caption, tags_text, name, folder): the bigram rows of those with CJK,
        and their index entries (deletes go by trigger, see schema.py V7_CJK)."""
        rows = [row for doc in docs if (row := grams_row(*doc)) is not None]
        if rows:
            self._conn.executemany(_INSERT, rows)
            self._conn.executemany(_INDEX, rows)

    def _reindex_cjk(self, image_id: int) -> None:
        """After the caption, tags, name or folder of an existing image changed (inside the write
        transaction): its bigram row again from its text (the update trigger dropped the old one)."""
        c = self._conn
        c.execute("DELETE FROM cjk_grams WHERE id = ?", (image_id,))
        doc = c.execute(f"SELECT id, {_COLUMNS} FROM images WHERE id = ?", (image_id,)).fetchone()
        if doc is not None:
            self._index_cjk([doc])

    def _catch_up_cjk(self) -> int:
        """Bigram rows for images whose text holds CJK but has none: text another SQLite tool wrote
        (its update trigger dropped the row, nothing could write the new one). A scan of the images
        table, SQLite itself skipping the rows of plain ASCII; returns how many were added."""
        c = self._conn
        docs = c.execute(
            f"SELECT id, {_COLUMNS} FROM images i WHERE NOT EXISTS (SELECT 1 FROM cjk_grams g WHERE g.id = i.id) "
            "AND (caption || tags_text || name || folder) GLOB '*[^' || char(1) || '-' || char(127) || ']*'"
        ).fetchall()
        rows = [row for doc in docs if (row := grams_row(*doc)) is not None]
        c.executemany(_INSERT, rows)
        c.executemany(_INDEX, rows)
        return len(rows)
