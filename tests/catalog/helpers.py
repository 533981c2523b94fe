"""Small builders shared by the catalogue tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from autotagger.types import Answer, Tag, TagResult


def result(
    path: str,
    caption: str = "a dog on the beach",
    tags: tuple[str, ...] = ("setting|outdoors", "animal|dog"),
    model_id: str = "test/model",
    error: str | None = None,
) -> TagResult:
    return TagResult(
        path=path,
        caption=caption,
        answers=(Answer("setting", "Question: Is this indoors or outdoors? Answer:", "outdoors", 0.91),),
        tags=tuple(Tag(t, 0.75, t.split("|")[0]) for t in tags),
        model_id=model_id,
        question_set_version="1",
        error=error,
    )


def damage(path: Path, *tables: str) -> None:
    """Overwrite the first page of each of ``tables`` with garbage, as a bad sector or a file half
    copied does: the catalogue still opens, and the first statement that reads the page fails."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = [int(conn.execute("SELECT rootpage FROM sqlite_schema WHERE name = ?", (t,)).fetchone()[0])
             for t in tables]
    size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    conn.close()
    with open(path, "r+b") as f:
        for page in pages:
            f.seek((page - 1) * size)
            f.write(b"\xa5" * size)
