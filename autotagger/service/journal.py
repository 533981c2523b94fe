"""A write-ahead journal of model results: saved (fsynced) right after the model returns and removed
once the job is finished, so a crash between the model and the catalogue never costs a second model
run: on restart the job is claimed again and the journal's result is applied instead.

One file per batch (one fsync for all its results, not one per photo: at GPU speed an fsync per photo
was most of the model thread's own time). A result leaves the journal when its job is done; a file
goes when none of its results is left, and is written again, smaller, when only some are (the rest
failed to be written and wait for a retry)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from autotagger.types import Answer, Tag, TagResult


def result_to_dict(result: TagResult) -> dict[str, Any]:
    return dataclasses.asdict(result)


def result_from_dict(data: dict[str, Any]) -> TagResult:
    return TagResult(
        path=str(data["path"]),
        caption=str(data.get("caption", "")),
        caption_prompt=str(data.get("caption_prompt", "")),
        answers=tuple(Answer(**a) for a in data.get("answers", ())),
        tags=tuple(Tag(**t) for t in data.get("tags", ())),
        model_id=str(data.get("model_id", "")),
        question_set_version=str(data.get("question_set_version", "")),
        error=data.get("error"),
    )


Key = tuple[str, str]  # (path, metadata-blind content hash)


class Journal:
    """Thread-safe (the worker's loader loads, its model thread saves, its finish thread removes);
    ``load`` is a lookup in memory (the files are read once, when it is made)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self._lock = threading.RLock()
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._results: dict[Key, TagResult] = {}
        self._file_of: dict[Key, Path] = {}
        self._keys_in: dict[Path, set[Key]] = {}
        older: set[Path] = set()
        for f in sorted(self.folder.glob("*.json"), key=_mtime):
            older |= self._read(f)
        self._rewrite(older)  # a result a newer file replaced is not left to come back
        for tmp in self.folder.glob("*.json.tmp"):  # a write a crash cut short: never renamed, never used
            with contextlib.suppress(OSError):
                tmp.unlink()

    def _read(self, file: Path) -> set[Path]:
        """Take in ``file``'s results; returns the files read before that held one of them."""
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            entries = data["entries"] if isinstance(data, dict) and "entries" in data else [data]  # one-result files
            found = {(str(e["path"]), str(e["hash"])): result_from_dict(e["result"]) for e in entries}
        except (OSError, ValueError, KeyError, TypeError):
            return set()  # a torn or foreign file: nothing in it can be trusted
        older = {self._file_of[key] for key in found if key in self._file_of}
        for key, result in found.items():
            self._forget(key)  # a newer file's result for the same photo wins
            self._results[key], self._file_of[key] = result, file
            self._keys_in.setdefault(file, set()).add(key)
        return older

    def save_many(self, entries: Iterable[tuple[str, str, TagResult]]) -> None:
        """Results of one batch, durable when this returns (one file, one fsync)."""
        rows = [(path, h, result) for path, h, result in entries if h]
        if not rows:
            return
        target = self.folder / f"batch-{uuid.uuid4().hex}.json"
        _write_durably(target, [(p, h, r) for p, h, r in rows])
        with self._lock:
            self._took(rows, target)

    def _took(self, rows: list[tuple[str, str, TagResult]], target: Path) -> None:
        older: set[Path] = set()  # files holding an earlier result for one of these photos
        for path, h, result in rows:
            key = (path, h)
            if key in self._file_of:
                older.add(self._file_of[key])
            self._forget(key)
            self._results[key], self._file_of[key] = result, target
            self._keys_in.setdefault(target, set()).add(key)
        self._rewrite(older)

    def load(self, path: str, content_hash: str) -> TagResult | None:
        with self._lock:
            return self._results.get((path, content_hash))

    def remove_many(self, keys: Iterable[Key]) -> None:
        """These jobs are done: their results leave; files left with none are deleted, files left with
        some are written again with those only (so a stale result never comes back after a restart)."""
        with self._lock:
            touched: set[Path] = set()
            for key in keys:
                file = self._file_of.get(key)
                if file is not None:
                    self._forget(key)
                    touched.add(file)
            self._rewrite(touched)

    def _rewrite(self, files: set[Path]) -> None:
        """Files that lost results: deleted when none is left, else written again with the rest."""
        for file in files:
            left = self._keys_in.get(file)
            if not left:
                self._keys_in.pop(file, None)
                with contextlib.suppress(FileNotFoundError):
                    file.unlink()
            else:
                _write_durably(file, [(p, h, self._results[(p, h)]) for p, h in sorted(left)])

    def _forget(self, key: Key) -> None:
        file = self._file_of.pop(key, None)
        self._results.pop(key, None)
        if file is not None:
            self._keys_in.get(file, set()).discard(key)

    def __len__(self) -> int:
        """How many results the journal's files hold on disk now (whoever wrote them)."""
        n = 0
        for f in self.folder.glob("*.json"):
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                data = json.loads(f.read_text(encoding="utf-8"))
                n += len(data["entries"]) if isinstance(data, dict) and "entries" in data else 1
        return n


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _write_durably(target: Path, rows: list[tuple[str, str, TagResult]]) -> None:
    tmp = target.with_name(target.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"entries": [{"path": p, "hash": h, "result": result_to_dict(r)} for p, h, r in rows]}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)
