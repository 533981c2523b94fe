"""Folders and images: files seen, results recorded (person edits win), moves and removals."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from autotagger.catalog._base import (
    IMAGE_COLUMNS,
    folder_range,
    iso_date,
    split_path,
)
from autotagger.catalog.query import fold_tag
from autotagger.catalog.records import FileInfo, FolderRecord, ImageRecord, KnownRow
from autotagger.catalog.schema import now_iso
from autotagger.catalog.tombstones import TombstonesMixin
from autotagger.types import TagResult

RecordItem = TagResult | tuple[TagResult, FileInfo]
TagRow = tuple[int, int, int | None, int | None]
FtsDoc = tuple[int, str, str, str, str]  # rowid, caption, tags_text, name, folder


@dataclass
class Batch:
    tags: list[TagRow] = field(default_factory=list)
    docs: list[FtsDoc] = field(default_factory=list)
    models: set[int] = field(default_factory=set)

_INSERT_TAGS = "INSERT INTO image_tags (image_id, tag_id, source, conf, question_ref) VALUES (?, ?, 0, ?, ?)"


class ImagesMixin(TombstonesMixin):
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
                cur = c.execute(
                    "INSERT INTO images (path, folder, name, size, mtime, content_hash, status, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                    (path, folder, name, size, mtime, content_hash, now),
                )
                new_id = int(cur.lastrowid or 0)
                self._index_new([(new_id, "", "", name, folder)])
                return new_id
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
            with self._write():
                now = now_iso()
                batch = Batch()
                for _ in range(batch_size):
                    item = next(it, None)
                    if item is None:
                        done = True
                        break
                    result, info = item if isinstance(item, tuple) else (item, FileInfo())
                    self._record_one(result, info, now, batch)
                    n += 1
                self._flush(batch, now)
            if done:
                return n

    def record_failure(self, path: str, error: str, *, final: bool = True) -> int:
        """Mark ``path`` failed with its last error (its earlier caption and tags are kept).
        ``final=False``: it will be tried again, so it is not failed yet: the error is kept, and the
        image stays pending (or tagged, with its earlier result, when it had one)."""
        with self._write():
            return self._record_failure(path, error, now_iso(), final=final)

    def _record_failure(
        self, path: str, error: str, now: str, batch: Batch | None = None, *, final: bool = True
    ) -> int:
        if batch is not None:
            self._flush(batch, now)
        c = self._conn
        folder, name = split_path(path)
        status = "failed" if final else "pending"
        cur = c.execute(
            "INSERT INTO images (path, folder, name, status, error, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (path) DO NOTHING",
            (path, folder, name, status, error, now),
        )
        if cur.rowcount == 1 and cur.lastrowid:
            self._index_new([(int(cur.lastrowid), "", "", name, folder)])
            return int(cur.lastrowid)
        row = c.execute(
            "UPDATE images SET status = CASE WHEN ? OR status != 'tagged' THEN ? ELSE status END, "
            "error = ?, updated_at = ? WHERE path = ? RETURNING id",
            (final, status, error, now, path),
        ).fetchone()
        return int(row[0])

    def _index_new(self, docs: list[FtsDoc]) -> None:
        """Add new images rows to the FTS index (updates and deletes are kept in sync by triggers),
        and those whose text holds CJK to its bigram index (cjk.py)."""
        self._conn.executemany(
            "INSERT INTO images_fts (rowid, caption, tags_text, name, folder) VALUES (?, ?, ?, ?, ?)", docs
        )
        self._index_cjk(docs)

    def _flush(self, batch: Batch, now: str) -> None:
        """Write what a batch held back: new images' tag rows and index entries, models used."""
        self._conn.executemany(_INSERT_TAGS, batch.tags)
        self._count_tags((row[1] for row in batch.tags), +1)
        self._index_new(batch.docs)
        self._touch_models(batch.models, now)
        batch.tags.clear()
        batch.docs.clear()
        batch.models.clear()

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
        batch: Batch | None = None,
    ) -> int:
        """Record one result inside the open transaction; person edits of an existing image are respected.
        With ``batch``, new images' tag rows and index entries wait there for ``_flush``."""
        if result.error is not None:
            return self._record_failure(result.path, result.error, now, batch)
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
            if batch is None:
                self._touch_models({model_ref}, now)
            else:
                batch.models.add(model_ref)
        common = (
            answers, model_ref, result.question_set_version, now, now, info.size, info.mtime,
            info.content_hash, info.width, info.height, iso_date(info.captured_at), info.camera,
        )
        folder, name = split_path(path)
        tags_text = "\n".join(sorted({v[0] for v in model.values()}, key=str.lower))
        cur = c.execute(
            "INSERT INTO images (answers, model_ref, question_set_version, tagged_at, updated_at, size, mtime, "
            "content_hash, width, height, captured_at, camera, caption, caption_source, tags_text, path, "
            "folder, name, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'tagged') "
            "ON CONFLICT (path) DO NOTHING",
            (*common, result.caption, "model" if result.caption else "", tags_text, path, folder, name),
        )
        if cur.rowcount == 1 and cur.lastrowid:  # a new image: nothing of a person's to respect
            image_id = int(cur.lastrowid)
            rows = [(image_id, tid, conf, qref) for tid, (_, conf, qref) in model.items()]
            doc = (image_id, result.caption, tags_text, name, folder)
            if batch is None:
                c.executemany(_INSERT_TAGS, rows)
                self._count_tags(model, +1)
                self._index_new([doc])
            else:
                batch.tags.extend(rows)
                batch.docs.append(doc)
            return image_id
        if batch is not None:  # this path may be new earlier in the batch: its rows must be in first
            self._flush(batch, now)
        row = c.execute("SELECT id, caption_source, caption FROM images WHERE path = ?", (path,)).fetchone()
        image_id = int(row[0])
        # a person's tag by fold: a v4 catalogue may hold it under another spelling (schema.py V5), and
        # the model's must not come beside it. A removal by id: one of a v4 catalogue's two spellings
        # removed was a duplicate taken away, not the tag (a removal now records the first spelling).
        person = dict(
            c.execute(
                "SELECT n.fold, n.path FROM image_tags t JOIN tag_names n ON n.id = t.tag_id "
                "WHERE t.image_id = ? AND t.source = 1",
                (image_id,),
            ).fetchall()
        )
        removed = {r[0] for r in c.execute("SELECT tag_id FROM removed_tags WHERE image_id = ?", (image_id,))}
        keep = {tid: v for tid, v in model.items() if tid not in removed and fold_tag(v[0]) not in person}
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
        self._reindex_cjk(image_id)
        gone = c.execute("DELETE FROM image_tags WHERE image_id = ? AND source = 0 RETURNING tag_id", (image_id,))
        self._count_tags([int(r[0]) for r in gone.fetchall()], -1)
        c.executemany(_INSERT_TAGS, [(image_id, tid, conf, qref) for tid, (_, conf, qref) in keep.items()])
        self._count_tags(keep, +1)
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

    def iter_known(self, folder: str, *, page: int = 5000) -> Iterator[KnownRow]:
        """Path, size, mtime, digest and status of every image under ``folder`` (at any depth), by path,
        a page at a time: the reconcile scan's listing, without the tags and answers of
        ``iter_images``. Paged on the path index: a path is under ``folder`` exactly when it sorts
        in ``folder_range``'s [lower, upper)."""
        _, last, hi = folder_range(folder)  # "F/" itself is no file's path: "> F/" is the lower bound
        while True:
            with self._read() as c:
                rows = c.execute(
                    "SELECT path, size, mtime, content_hash, status FROM images "
                    "WHERE path > ? AND path < ? ORDER BY path LIMIT ?",
                    (last, hi, page),
                ).fetchall()
            yield from map(KnownRow._make, rows)
            if len(rows) < page:
                return
            last = str(rows[-1][0])

    # -- moves and removals ------------------------------------------------------------------------
    def move_image(self, old_path: str, new_path: str) -> None:
        """A rename: caption, tags, answers and edits follow the file."""
        if old_path == new_path:
            return
        folder, name = split_path(new_path)
        with self._write() as c:
            old_id = self._image_id(old_path)
            target = c.execute("SELECT id FROM images WHERE path = ?", (new_path,)).fetchone()
            if target is not None:
                self._uncount_image(int(target[0]))
                c.execute("DELETE FROM images WHERE id = ?", (int(target[0]),))
            c.execute(
                "UPDATE images SET path = ?, folder = ?, name = ?, updated_at = ? WHERE id = ?",
                (new_path, folder, name, now_iso(), old_id),
            )
            self._reindex_cjk(old_id)
            active = "status IN ('pending', 'claimed')"
            if c.execute(f"SELECT 1 FROM jobs WHERE path = ? AND {active}", (new_path,)).fetchone():
                c.execute(f"DELETE FROM jobs WHERE path = ? AND {active}", (old_path,))
            else:
                c.execute(f"UPDATE jobs SET path = ? WHERE path = ? AND {active}", (new_path, old_path))

    def remove_image(self, path: str, *, remember: bool = True) -> None:
        """Forget ``path`` (its pending job too); a path not in the catalogue is not an error. With
        ``remember`` its record is kept as a tombstone (tombstones.py): the same pixels coming back get
        it again, a person's edits included; ``remember=False`` forgets it for good."""
        with self._write() as c:
            row = c.execute("SELECT id FROM images WHERE path = ?", (path,)).fetchone()
            if row is not None:
                if remember:
                    self._bury(int(row[0]), time.time())
                self._uncount_image(int(row[0]))
                c.execute("DELETE FROM images WHERE id = ?", (int(row[0]),))
            c.execute("DELETE FROM jobs WHERE path = ? AND status = 'pending'", (path,))
