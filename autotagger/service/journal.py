"""A write-ahead journal of model results: saved (fsynced) right after the model returns and removed
once the job is finished, so a crash between the model and the catalogue never costs a second model
run: on restart the job is claimed again and the journal's result is applied instead."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
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


class Journal:
    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def _file(self, path: str, content_hash: str) -> Path:
        key = hashlib.sha1(f"{path}\0{content_hash}".encode()).hexdigest()
        return self.folder / f"{key}.json"

    def save(self, path: str, content_hash: str, result: TagResult) -> None:
        target = self._file(path, content_hash)
        tmp = target.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"path": path, "hash": content_hash, "result": result_to_dict(result)}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)

    def load(self, path: str, content_hash: str) -> TagResult | None:
        try:
            data = json.loads(self._file(path, content_hash).read_text(encoding="utf-8"))
            if data.get("path") != path or data.get("hash") != content_hash:
                return None
            return result_from_dict(data["result"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def remove(self, path: str, content_hash: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._file(path, content_hash).unlink()

    def __len__(self) -> int:
        return sum(1 for _ in self.folder.glob("*.json"))
