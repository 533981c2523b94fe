"""The connection, transactions and row conversion shared by the Catalog's parts."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any

from autotagger.catalog.errors import CatalogError, damage_error
from autotagger.catalog.fscheck import network_filesystem
from autotagger.catalog.opening import configure, open_writer
from autotagger.catalog.query import fold_tag
from autotagger.catalog.records import ImageRecord, TagRecord
from autotagger.catalog.schema import LATEST, schema_version
from autotagger.catalog.upgrade import upgrade_for_reader
from autotagger.types import Answer

BUSY_TIMEOUT_MS = 30_000
SOURCES = ("model", "person")  # image_tags.source: 0 = model, 1 = person

IMAGE_COLUMNS = (
    "id, path, folder, name, size, mtime, content_hash, width, height, captured_at, camera, status, "
    "error, caption, caption_source, answers, model_ref, tagged_at, question_set_version"
)
_EXIF_DATE = re.compile(r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}:\d{2}:\d{2})")


def split_path(path: str) -> tuple[str, str]:
    folder, name = os.path.split(path)
    return folder, name


def iso_date(text: str | None) -> str | None:
    """EXIF's ``2024:01:31 10:00:00`` becomes ISO ``2024-01-31T10:00:00``; ISO passes through."""
    if not text:
        return None
    m = _EXIF_DATE.match(text)
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}T{m.group(4)}" if m else text


def _refused(exc: BaseException) -> bool:
    """SQLite refusing a write (read-only, busy, full, I/O, corrupt), not a bug in our SQL (Integrity-,
    ProgrammingError): the first become CatalogError, the others stay as they are."""
    return isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError


def folder_range(folder: str) -> tuple[str, str, str]:
    """(folder, lower, upper) such that a path under ``folder`` has lower <= folder' < upper."""
    base = folder.rstrip("/")
    return base or "/", base + "/", base + "0"  # "0" sorts right after "/"


class CatalogBase:
    """Opens the file (refusing network filesystems and newer schemas) and runs transactions."""

    def __init__(self, path: Path | str, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self.backup_path: Path | None = None
        self._in_txn = False
        self._tag_ids: dict[str, int] = {}
        self._text_ids: dict[str, int] = {}
        self._texts: dict[int, str] = {}
        if self.path.is_dir():
            raise CatalogError(f"{self.path} is a folder, not a catalogue file (give --catalog FOLDER/catalog.sqlite3)")
        net = network_filesystem(self.path)
        if net:
            raise CatalogError(
                f"catalogue {self.path} is on a network filesystem ({net}); SQLite's WAL is unsafe there, "
                "keep the catalogue on a local disk (--catalog)"
            )
        self._conn = self._connect()
        try:
            self._prepare()
        except BaseException:
            self._conn.close()
            raise

    def _connect(self) -> sqlite3.Connection:
        try:
            if self.readonly:
                if not self.path.exists():
                    raise CatalogError(f"no catalogue at {self.path}")
                uri = f"file:{self.path.resolve().as_posix()}?mode=ro"
                conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        except (sqlite3.Error, OSError) as exc:
            raise CatalogError(f"cannot open catalogue {self.path}: {exc}") from None
        return conn

    def check_writable(self) -> None:
        """Raise CatalogError unless a write would go through now. SQLite opens a file it cannot write
        (chattr +i, a read-only mount) read-only without a word, and even grants BEGIN IMMEDIATE: only
        the first write is refused. So a command that changes files and then records them (``tag``)
        asks first, with a write that changes nothing, rolled back."""
        if self.readonly:
            raise CatalogError(f"catalogue {self.path} is open read-only")
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.execute("UPDATE images SET id = id WHERE 0")
        except sqlite3.Error as exc:
            raise self._write_error(exc) from None
        finally:
            self._rollback()

    def _write_error(self, exc: BaseException, doing: str = "") -> CatalogError:
        """One line for a write SQLite refused, naming the cause the user can act on."""
        damaged = damage_error(self.path, exc)
        if damaged is not None:
            return damaged
        text = " ".join(str(exc).split())
        name = getattr(exc, "sqlite_errorname", "")  # Python 3.11+; before, the message tells
        if name.startswith("SQLITE_READONLY") or "readonly database" in text:
            return CatalogError(
                f"catalogue {self.path} is read-only: check the permissions of the file and its folder"
            )
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text:
            return CatalogError(f"catalogue {self.path} is busy: {text}, another program is writing to it")
        return CatalogError(f"catalogue {self.path}: {doing}{text}")

    def _prepare(self) -> None:
        try:
            version = self._pragmas()
            if self.readonly:
                if version == 0:  # an empty file (or no file: a device such as /dev/null)
                    raise CatalogError(
                        f"no catalogue at {self.path}: the file is empty (tag some photos first, or give "
                        "--catalog FILE)"
                    )
                if 0 < version < LATEST:  # an older catalogue: upgraded here when it can be (upgrade.py)
                    self.backup_path = upgrade_for_reader(self.path, version)
                    self._conn.close()
                    self._conn = self._connect()
                    version = self._pragmas()
                if version > LATEST:
                    raise CatalogError(
                        f"catalogue {self.path} has schema v{version}, newer than this autotagger knows "
                        f"(v{LATEST}); upgrade autotagger"
                    )
                if version < LATEST:
                    raise CatalogError(
                        f"catalogue {self.path} has schema v{version} and needs an upgrade to v{LATEST}; "
                        "open it once with a writer (autotagger tag or watch)"
                    )
                return
            self.backup_path = open_writer(self._conn, self.path)
        except sqlite3.DatabaseError as exc:
            raise damage_error(self.path, exc) or CatalogError(f"cannot open catalogue {self.path}: {exc}") from None

    def _pragmas(self) -> int:
        """The connection's settings (opening.py); returns the file's schema version."""
        return configure(self._conn, BUSY_TIMEOUT_MS, self.path)

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is None:
            return
        try:
            if not self.readonly:
                conn.execute("PRAGMA optimize")
        except sqlite3.Error:
            pass
        conn.close()
        self._conn = None  # type: ignore[assignment]

    def __enter__(self) -> CatalogBase:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return schema_version(self._conn)

    # -- transactions ------------------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction (nested calls join the outer one)."""
        if self.readonly:
            raise CatalogError(f"catalogue {self.path} is open read-only")
        if self._in_txn:
            yield self._conn
            return
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise self._write_error(exc) from None
        self._in_txn = True
        try:
            yield self._conn
        except BaseException as exc:
            self._in_txn = False
            self._rollback()
            if _refused(exc):  # a statement inside (read-only file, busy, disk full): one line, as BEGIN's
                raise self._write_error(exc) from None
            raise
        self._in_txn = False
        try:
            self._conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self._rollback()
            if not _refused(exc):
                raise
            raise self._write_error(exc, "commit failed: ") from None

    def _rollback(self) -> None:
        """After a failed write: ids made in the rolled-back transaction are gone. A ROLLBACK that fails
        too (the disk gone) must not hide the error that brought us here."""
        self._tag_ids.clear()
        self._text_ids.clear()
        if self._conn.in_transaction:
            with suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Many writes, one commit: every call inside joins this one write transaction (all or none)."""
        with self._write():
            yield

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several statements (joins a write transaction if one is open)."""
        if self._in_txn:
            yield self._conn
            return
        self._conn.execute("BEGIN")
        try:
            yield self._conn
        finally:
            if self._conn.in_transaction:
                self._conn.execute("COMMIT")

    # -- interning ---------------------------------------------------------------------------------
    def _tag_id(self, path: str) -> int:
        """The id of tag ``path`` in any case (its first spelling's: see schema.py V5_TAG_FOLD),
        created with this spelling when the tag is new."""
        key = fold_tag(path)
        cached = self._tag_ids.get(key)
        if cached is not None:
            return cached
        c = self._conn
        row = c.execute("SELECT id FROM tag_names WHERE fold = ? AND twin = 0", (key,)).fetchone()
        if row is None:
            row = c.execute("INSERT INTO tag_names (path, fold) VALUES (?, ?) RETURNING id", (path, key)).fetchone()
        self._tag_ids[key] = int(row[0])
        return int(row[0])

    def _twins(self, tag_id: int) -> list[int]:
        """``tag_id`` and the other spellings of its tag a v4 catalogue kept (usually none), which an
        edit of the tag must change too."""
        rows = self._conn.execute(
            "SELECT id FROM tag_names WHERE fold = (SELECT fold FROM tag_names WHERE id = ?) ORDER BY twin",
            (tag_id,),
        )
        return [int(r[0]) for r in rows] or [tag_id]

    def _count_tags(self, tag_ids: Iterable[int], delta: int) -> None:
        """Keep tag_names.n (images per tag) in step with image_tags rows added (+1) or removed (-1)."""
        counts = Counter(list(tag_ids))  # list(): a dict passed in counts its keys
        if counts:
            self._conn.executemany(
                "UPDATE tag_names SET n = n + ? WHERE id = ?", [(delta * k, tid) for tid, k in counts.items()]
            )

    def _uncount_image(self, image_id: int) -> None:
        """Before an image row goes (its tag rows cascade), take its tags off the counts."""
        self._conn.execute(
            "UPDATE tag_names SET n = n - 1 WHERE id IN (SELECT tag_id FROM image_tags WHERE image_id = ?)",
            (image_id,),
        )

    def _existing_tag_id(self, path: str) -> int | None:
        row = self._conn.execute("SELECT id FROM tag_names WHERE fold = ? AND twin = 0", (fold_tag(path),)).fetchone()
        return None if row is None else int(row[0])

    def _text_id(self, text: str) -> int:
        cached = self._text_ids.get(text)
        if cached is not None:
            return cached
        c = self._conn
        row = c.execute("SELECT id FROM texts WHERE text = ?", (text,)).fetchone()
        if row is None:
            row = c.execute("INSERT INTO texts (text) VALUES (?) RETURNING id", (text,)).fetchone()
        self._text_ids[text] = int(row[0])
        return int(row[0])

    def _text(self, tid: int | None) -> str | None:
        if tid is None:
            return None
        text = self._texts.get(tid)
        if text is None:
            row = self._conn.execute("SELECT text FROM texts WHERE id = ?", (tid,)).fetchone()
            if row is None:
                return ""
            text = self._texts[tid] = str(row[0])
        return text

    # -- rows -> records ---------------------------------------------------------------------------
    def _image_id(self, key: int | str) -> int:
        if isinstance(key, int):
            row = self._conn.execute("SELECT id FROM images WHERE id = ?", (key,)).fetchone()
        else:
            row = self._conn.execute("SELECT id FROM images WHERE path = ?", (key,)).fetchone()
        if row is None:
            raise CatalogError(f"no image {key} in the catalogue")
        return int(row[0])

    def _tags_for(self, ids: Sequence[int]) -> dict[int, list[TagRecord]]:
        out: dict[int, list[TagRecord]] = {i: [] for i in ids}
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start : chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                "SELECT t.image_id, n.path, t.source, t.conf, t.question_ref FROM image_tags t "
                f"JOIN tag_names n ON n.id = t.tag_id WHERE t.image_id IN ({marks}) ORDER BY n.path",
                tuple(chunk),
            )
            for image_id, path, source, conf, qid in rows:
                confidence = None if conf is None else conf / 10000
                out[image_id].append(TagRecord(path, SOURCES[source], confidence, self._text(qid)))
        return out

    def _answers(self, text: str | None) -> tuple[Answer, ...]:
        if not text:
            return ()
        out = []
        for qid, pid, answer, conf, raw in json.loads(text):
            out.append(Answer(qid, self._text(pid) or "", answer, conf, raw))
        return tuple(out)

    def _records(self, rows: Sequence[Any]) -> list[ImageRecord]:
        tags = self._tags_for([int(r[0]) for r in rows])
        return [
            ImageRecord(
                id=r[0], path=r[1], folder=r[2], name=r[3], size=r[4], mtime=r[5], content_hash=r[6],
                width=r[7], height=r[8], captured_at=r[9], camera=r[10], status=r[11], error=r[12],
                caption=r[13], caption_source=r[14], tags=tuple(tags[r[0]]), answers=self._answers(r[15]),
                model_id=self._text(r[16]) or "", tagged_at=r[17], question_set_version=r[18] or "",
            )
            for r in rows
        ]
