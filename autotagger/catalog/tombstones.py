"""Tombstones: what the catalogue knew of a photo it forgot, kept for a while by content hash.

A photo moved out of the watched folders is forgotten (the watcher or a scan finds it gone), and with
its row went a person's caption and tags and the tags they removed: moved back, it was tagged again
from scratch, and a removed tag was written into the file again. Now its record is kept here (see
schema.py V6_TOMBSTONES) and a file that comes back with the same pixels gets it again, as a move, with
no model run. Tombstones are not images: nothing that lists, counts or searches images reads them.
They go when used, after ``TOMBSTONE_DAYS``, and beyond the newest ``TOMBSTONE_CAP``.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from autotagger.catalog._base import IMAGE_COLUMNS, split_path
from autotagger.catalog.cjkindex import CjkMixin
from autotagger.catalog.errors import CatalogDamaged, CatalogError, damage_error
from autotagger.catalog.records import ImageRecord
from autotagger.catalog.schema import now_iso

TOMBSTONE_DAYS = 90
TOMBSTONE_CAP = 100_000
DAY = 86_400.0

# the images row's own fields a tombstone keeps (path, hash and texts are kept apart)
_FIELDS = (
    "size", "mtime", "width", "height", "captured_at", "camera", "status", "error", "caption",
    "caption_source", "model_caption", "question_set_version", "tagged_at",
)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class TombstonesMixin(CjkMixin):
    def _prepare(self) -> None:
        """A writer opening the catalogue drops the tombstones past their time (a read finds whether
        there are any: most opens write nothing). A catalogue it cannot write to opens all the same."""
        super()._prepare()
        if self.readonly:
            return
        cutoff = time.time() - TOMBSTONE_DAYS * DAY
        try:
            old = self._conn.execute("SELECT 1 FROM tombstones WHERE forgotten_at < ? LIMIT 1", (cutoff,)).fetchone()
        except sqlite3.DatabaseError as exc:
            raise damage_error(self.path, exc) or CatalogError(f"cannot open catalogue {self.path}: {exc}") from None
        if old is not None:
            try:
                with self._write():
                    self._prune_tombstones(time.time())
            except CatalogDamaged:
                raise
            except CatalogError:  # read-only or busy: the next writer's open tries again
                pass

    def _prune_tombstones(self, now: float) -> None:
        c = self._conn
        c.execute("DELETE FROM tombstones WHERE forgotten_at < ?", (now - TOMBSTONE_DAYS * DAY,))
        # ids grow with each tombstone: those TOMBSTONE_CAP below the newest are older than the newest
        # TOMBSTONE_CAP (fewer are kept where ids were skipped, never more)
        c.execute("DELETE FROM tombstones WHERE id <= (SELECT max(id) FROM tombstones) - ?", (TOMBSTONE_CAP,))

    def _bury(self, image_id: int, now: float) -> None:
        """Inside the transaction that forgets ``image_id``, before its rows go: keep what is worth
        having back (a model's result, or any edit of a person's) under its content hash. A newer
        tombstone of the same pixels (a copy forgotten later) takes the place of an older one."""
        c = self._conn
        row = c.execute(
            f"SELECT path, content_hash, answers, model_ref, {', '.join(_FIELDS)} FROM images WHERE id = ?",
            (image_id,),
        ).fetchone()
        if row is None or not row[1]:
            return
        fields: dict[str, Any] = dict(zip(_FIELDS, row[4:], strict=True))
        tags = [
            [str(p), int(s), conf, self._text(q)]
            for p, s, conf, q in c.execute(
                "SELECT n.path, t.source, t.conf, t.question_ref FROM image_tags t "
                "JOIN tag_names n ON n.id = t.tag_id WHERE t.image_id = ? ORDER BY n.path",
                (image_id,),
            )
        ]
        removed = [
            str(r[0])
            for r in c.execute(
                "SELECT n.path FROM removed_tags r JOIN tag_names n ON n.id = r.tag_id WHERE r.image_id = ?",
                (image_id,),
            )
        ]
        edited = fields["caption_source"] == "person" or removed or any(t[1] == 1 for t in tags)
        if fields["status"] != "tagged" and fields["tagged_at"] is None and not edited:
            return  # never tagged, never touched: the file coming back is simply new
        answers = None if row[2] is None else [[q, self._text(p), *rest] for q, p, *rest in json.loads(row[2])]
        record = {**fields, "answers": answers, "model_id": self._text(row[3]), "tags": tags, "removed": removed}
        c.execute(
            "INSERT OR REPLACE INTO tombstones (content_hash, path, forgotten_at, record) VALUES (?, ?, ?, ?)",
            (row[1], row[0], now, _dumps(record)),
        )
        self._prune_tombstones(now)

    def restore_forgotten(
        self, content_hash: str, path: str, *, size: int | None = None, mtime: float | None = None
    ) -> tuple[ImageRecord, str] | None:
        """A file with these pixels appeared at ``path``, which the catalogue does not know: if it
        forgot a photo with them (within TOMBSTONE_DAYS), that record comes back at ``path``, with the
        file's ``size`` and ``mtime``; returns it and the path it was forgotten at, and the tombstone
        goes. None when there is none (or ``path`` has a record already: that one is not replaced)."""
        now = time.time()
        with self._write() as c:
            row = c.execute(
                "SELECT id, path, forgotten_at, record FROM tombstones WHERE content_hash = ?", (content_hash,)
            ).fetchone()
            if row is None or c.execute("SELECT 1 FROM images WHERE path = ?", (path,)).fetchone():
                return None
            c.execute("DELETE FROM tombstones WHERE id = ?", (int(row[0]),))
            if float(row[2]) < now - TOMBSTONE_DAYS * DAY:
                return None
            image_id = self._resurrect(json.loads(row[3]), content_hash, path, size, mtime)
            rows = c.execute(f"SELECT {IMAGE_COLUMNS} FROM images WHERE id = ?", (image_id,)).fetchall()
            return self._records(rows)[0], str(row[1])

    def _resurrect(self, rec: dict[str, Any], content_hash: str, path: str, size: int | None,
                   mtime: float | None) -> int:
        """The images row and its tag rows from a tombstone's record; returns the new id."""
        c = self._conn
        tags: dict[int, tuple[int, int | None, int | None]] = {}
        for tpath, source, conf, qid in rec["tags"]:  # tags interned again: tag ids are not kept
            tags.setdefault(self._tag_id(tpath), (source, conf, None if qid is None else self._text_id(qid)))
        removed = {self._tag_id(p) for p in rec["removed"]} - set(tags)
        names = [str(c.execute("SELECT path FROM tag_names WHERE id = ?", (t,)).fetchone()[0]) for t in tags]
        tags_text = "\n".join(sorted(set(names), key=str.lower))
        answers = None
        if rec["answers"] is not None:
            answers = _dumps([[q, self._text_id(p or ""), *rest] for q, p, *rest in rec["answers"]])
        model_ref = self._text_id(rec["model_id"]) if rec["model_id"] else None
        fields = {**{k: rec.get(k) for k in _FIELDS}, "answers": answers, "model_ref": model_ref}
        if size is not None:
            fields["size"] = size
        if mtime is not None:
            fields["mtime"] = mtime
        folder, name = split_path(path)
        columns = ", ".join(fields)
        cur = c.execute(
            f"INSERT INTO images (path, folder, name, content_hash, tags_text, updated_at, {columns}) "
            f"VALUES (?, ?, ?, ?, ?, ?, {', '.join('?' * len(fields))})",
            (path, folder, name, content_hash, tags_text, now_iso(), *fields.values()),
        )
        image_id = int(cur.lastrowid or 0)
        c.executemany(
            "INSERT INTO image_tags (image_id, tag_id, source, conf, question_ref) VALUES (?, ?, ?, ?, ?)",
            [(image_id, tid, *v) for tid, v in tags.items()],
        )
        self._count_tags(tags, +1)
        c.executemany("INSERT INTO removed_tags (image_id, tag_id) VALUES (?, ?)", [(image_id, t) for t in removed])
        c.execute(  # new rows are indexed by the catalogue code, not a trigger (schema.py V2_FTS)
            "INSERT INTO images_fts (rowid, caption, tags_text, name, folder) VALUES (?, ?, ?, ?, ?)",
            (image_id, str(fields["caption"] or ""), tags_text, name, folder),
        )
        self._index_cjk([(image_id, str(fields["caption"] or ""), tags_text, name, folder)])
        return image_id
