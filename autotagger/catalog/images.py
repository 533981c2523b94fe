"""Folders and images: files seen, results recorded (person edits win), moves and removals."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from autotagger.catalog._base import (
    IMAGE_COLUMNS,
    CatalogBase,
    folder_range,
    iso_date,
    split_path,
)
from autotagger.catalog.records import FileInfo, FolderRecord, ImageRecord
from autotagger.catalog.schema import now_iso
from autotagger.types import TagResult

RecordItem = TagResult | tuple[TagResult, FileInfo]
TagRow = tuple[int, int, int | None, int | None]
_INSERT_TAGS = "INSERT INTO image_tags (image_id, tag_id, source, conf, question_ref) VALUES (?, ?, 0, ?, ?)"


class ImagesMixin(CatalogBase):
    # -- folders -----------------------------------------------------------------------------------
    def add_folder(self, path: str, *, recursive: bool = True) -> None:
        with self._write() as c:
            c.execute(
                "INSERT INTO folders (path, recursive, added_at) VALUES (?, ?, ?) "
                "ON CONFLICT (path) DO UPDATE SET recursive = excluded.recursive",
                (path, int(recursive), now_iso()),
            )

    def remove_folder(self, path: str) -> None:
        """Stop watching ``path`` (its images stay in the catalogue)."""
        with self._write() as c:
            c.execute("DELETE FROM folders WHERE path = ?", (path,))

    def list_folders(self) -> list[FolderRecord]:
        rows = self._conn.execute("SELECT path, recursive, added_at FROM folders ORDER BY path").fetchall()
        return [FolderRecord(p, bool(r), a) for p, r, a in rows]

    # -- files -------------------------------------------------------------------------------------
    def upsert_file(self, path: str, *, size: int, mtime: float, content_hash: str | None = None) -> int:
        """The image id for ``path``; a new file or a changed size/mtime becomes "pending"."""
        folder, name = split_path(path)
        now = now_iso()
        with self._write() as c:
            row = c.execute("SELECT id, size, mtime FROM images WHERE path = ?", (path,)).fetchone()
            if row is None:
                got = c.execute(
                    "INSERT INTO images (path, folder, name, size, mtime, content_hash, status, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?) RETURNING id",
                    (path, folder, name, size, mtime, content_hash, now),
                ).fetchone()
                return int(got[0])
            image_id = int(row[0])
            if row[1] != size or row[2] != mtime:
                c.execute(
                    "UPDATE images SET size = ?, mtime = ?, content_hash = ?, status = 'pending', "
                    "error = NULL, updated_at = ? WHERE id = ?",
                    (size, mtime, content_hash, now, image_id),
                )
            elif content_hash is not None:
                c.execute("UPDATE images SET content_hash = ? WHERE id = ?", (content_hash, image_id))
            return image_id

    # -- results -----------------------------------------------------------------------------------
    def record_result(
        self,
        result: TagResult,
        *,
        size: int | None = None,
        mtime: float | None = None,
        content_hash: str | None = None,
        width: int | None = None,
        height: int | None = None,
        captured_at: str | None = None,
        camera: str | None = None,
    ) -> int:
        """Store a tagger's result (or its failure); a person's caption and tag edits win."""
        info = FileInfo(size, mtime, content_hash, width, height, captured_at, camera)
        with self._write():
            return self._record_one(result, info, now_iso())

    def bulk_record(self, items: Iterable[RecordItem], *, batch_size: int = 5000) -> int:
        """The fast path for many results: one transaction per ``batch_size``, tag rows of new images
        inserted together, the FTS index filled in the same pass; returns how many were recorded."""
        n = 0
        it = iter(items)
        while True:
            done = False
            with self._write() as c:
                now = now_iso()
                pending: list[TagRow] = []
                models: set[int] = set()
                for _ in range(batch_size):
                    item = next(it, None)
                    if item is None:
                        done = True
                        break
                    result, info = item if isinstance(item, tuple) else (item, FileInfo())
                    self._record_one(result, info, now, pending, models)
                    n += 1
                c.executemany(_INSERT_TAGS, pending)
                self._touch_models(models, now)
            if done:
                return n

    def record_failure(self, path: str, error: str) -> int:
        """Mark ``path`` failed with its last error (its earlier caption and tags are kept)."""
        with self._write():
            return self._record_failure(path, error, now_iso())

    def _record_failure(self, path: str, error: str, now: str) -> int:
        folder, name = split_path(path)
        row = self._conn.execute(
            "INSERT INTO images (path, folder, name, status, error, updated_at) VALUES (?, ?, ?, 'failed', ?, ?) "
            "ON CONFLICT (path) DO UPDATE SET status = 'failed', error = excluded.error, "
            "updated_at = excluded.updated_at RETURNING id",
            (path, folder, name, error, now),
        ).fetchone()
        return int(row[0])

    def _touch_models(self, models: set[int], now: str) -> None:
        self._conn.executemany(
            "INSERT INTO models (text_id, last_used) VALUES (?, ?) "
            "ON CONFLICT (text_id) DO UPDATE SET last_used = excluded.last_used",
            [(m, now) for m in models],
        )

    def _record_one(
        self,
        result: TagResult,
        info: FileInfo,
        now: str,
        pending: list[TagRow] | None = None,
        models: set[int] | None = None,
    ) -> int:
        """Record one result inside the open transaction. New images' tag rows go to ``pending``
        (inserted by the caller) when given; person edits of an existing image are respected."""
        if result.error is not None:
            return self._record_failure(result.path, result.error, now)
        c = self._conn
        path = result.path
        model: dict[int, tuple[str, int | None, int | None]] = {}
        for tag in result.tags:
            tpath = "|".join(p.strip() for p in tag.path.split("|") if p.strip())
            if tpath:
                conf = None if tag.confidence is None else round(tag.confidence * 10000)
                qref = None if tag.question_id is None else self._text_id(tag.question_id)
                model.setdefault(self._tag_id(tpath), (tpath, conf, qref))
        answers = json.dumps(
            [
                [a.question_id, self._text_id(a.prompt), a.answer,
                 None if a.confidence is None else round(a.confidence, 4), a.raw]
                for a in result.answers
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        model_ref = self._text_id(result.model_id) if result.model_id else None
        if model_ref is not None:
            if models is None:
                self._touch_models({model_ref}, now)
            else:
                models.add(model_ref)
        common = (
            answers, model_ref, result.question_set_version, now, now, info.size, info.mtime,
            info.content_hash, info.width, info.height, iso_date(info.captured_at), info.camera,
        )
        folder, name = split_path(path)
        tags_text = "\n".join(sorted({v[0] for v in model.values()}, key=str.lower))
        got = c.execute(
            "INSERT INTO images (answers, model_ref, question_set_version, tagged_at, updated_at, size, mtime, "
            "content_hash, width, height, captured_at, camera, caption, caption_source, tags_text, path, "
            "folder, name, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'tagged') "
            "ON CONFLICT (path) DO NOTHING RETURNING id",
            (*common, result.caption, "model" if result.caption else "", tags_text, path, folder, name),
        ).fetchone()
        if got is not None:  # a new image: nothing of a person's to respect
            image_id = int(got[0])
            rows = [(image_id, tid, conf, qref) for tid, (_, conf, qref) in model.items()]
            if pending is None:
                c.executemany(_INSERT_TAGS, rows)
            else:
                pending.extend(rows)
            return image_id
        if pending:  # this path was recorded earlier in the batch: its rows must be in first
            c.executemany(_INSERT_TAGS, pending)
            pending.clear()
        row = c.execute("SELECT id, caption_source, caption FROM images WHERE path = ?", (path,)).fetchone()
        image_id = int(row[0])
        person = dict(
            c.execute(
                "SELECT t.tag_id, n.path FROM image_tags t JOIN tag_names n ON n.id = t.tag_id "
                "WHERE t.image_id = ? AND t.source = 1",
                (image_id,),
            ).fetchall()
        )
        removed = {r[0] for r in c.execute("SELECT tag_id FROM removed_tags WHERE image_id = ?", (image_id,))}
        keep = {tid: v for tid, v in model.items() if tid not in removed and tid not in person}
        tags_text = "\n".join(sorted({v[0] for v in keep.values()} | set(person.values()), key=str.lower))
        if row[1] == "person":
            caption, source = str(row[2]), "person"
            model_caption: str | None = result.caption if result.caption != row[2] else None
        else:
            caption, source, model_caption = result.caption, ("model" if result.caption else ""), None
        c.execute(
            "UPDATE images SET answers = ?, model_ref = ?, question_set_version = ?, tagged_at = ?, "
            "updated_at = ?, size = coalesce(?, size), mtime = coalesce(?, mtime), "
            "content_hash = coalesce(?, content_hash), width = coalesce(?, width), "
            "height = coalesce(?, height), captured_at = coalesce(?, captured_at), "
            "camera = coalesce(?, camera), caption = ?, caption_source = ?, model_caption = ?, "
            "tags_text = ?, status = 'tagged', error = NULL WHERE id = ?",
            (*common, caption, source, model_caption, tags_text, image_id),
        )
        c.execute("DELETE FROM image_tags WHERE image_id = ? AND source = 0", (image_id,))
        c.executemany(_INSERT_TAGS, [(image_id, tid, conf, qref) for tid, (_, conf, qref) in keep.items()])
        return image_id

    # -- reading -----------------------------------------------------------------------------------
    def get_image(self, key: int | str) -> ImageRecord | None:
        col = "id" if isinstance(key, int) else "path"
        with self._read() as c:
            rows = c.execute(f"SELECT {IMAGE_COLUMNS} FROM images WHERE {col} = ?", (key,)).fetchall()
            return self._records(rows)[0] if rows else None

    def find_by_hash(self, content_hash: str) -> list[ImageRecord]:
        with self._read() as c:
            rows = c.execute(
                f"SELECT {IMAGE_COLUMNS} FROM images WHERE content_hash = ? ORDER BY id", (content_hash,)
            ).fetchall()
            return self._records(rows)

    def iter_images(self, folder: str | None = None, *, page: int = 500) -> Iterator[ImageRecord]:
        """Every image (or those in ``folder`` and below), by id, a page at a time."""
        where: str = ""
        params: tuple[Any, ...] = ()
        if folder is not None:
            base, lo, hi = folder_range(folder)
            where, params = " AND (folder = ? OR (folder >= ? AND folder < ?))", (base, lo, hi)
        last = 0
        while True:
            with self._read() as c:
                rows = c.execute(
                    f"SELECT {IMAGE_COLUMNS} FROM images WHERE id > ?{where} ORDER BY id LIMIT ?",
                    (last, *params, page),
                ).fetchall()
                records = self._records(rows)
            yield from records
            if len(rows) < page:
                return
            last = int(rows[-1][0])

    # -- moves and removals ------------------------------------------------------------------------
    def move_image(self, old_path: str, new_path: str) -> None:
        """A rename: caption, tags, answers and edits follow the file."""
        if old_path == new_path:
            return
        folder, name = split_path(new_path)
        with self._write() as c:
            old_id = self._image_id(old_path)
            c.execute("DELETE FROM images WHERE path = ?", (new_path,))
            c.execute(
                "UPDATE images SET path = ?, folder = ?, name = ?, updated_at = ? WHERE id = ?",
                (new_path, folder, name, now_iso(), old_id),
            )
            active = "status IN ('pending', 'claimed')"
            if c.execute(f"SELECT 1 FROM jobs WHERE path = ? AND {active}", (new_path,)).fetchone():
                c.execute(f"DELETE FROM jobs WHERE path = ? AND {active}", (old_path,))
            else:
                c.execute(f"UPDATE jobs SET path = ? WHERE path = ? AND {active}", (new_path, old_path))

    def remove_image(self, path: str) -> None:
        """Forget ``path`` (its pending job too); a path not in the catalogue is not an error."""
        with self._write() as c:
            c.execute("DELETE FROM images WHERE path = ?", (path,))
            c.execute("DELETE FROM jobs WHERE path = ? AND status = 'pending'", (path,))
