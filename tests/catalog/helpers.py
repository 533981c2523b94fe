"""Small builders shared by the catalogue tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from autotagger.catalog.schema import MIGRATIONS, migrate, split_statements
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


def damaged_catalogue(path: Path) -> Path:
    """A catalogue of three tagged photos and a folder whose images, tag_names, folders and jobs
    pages are overwritten: every read of them fails as a damaged disk makes it fail."""
    from autotagger.catalog import Catalog

    with Catalog(path) as cat:
        for name in ("dog", "cat", "car"):
            cat.record_result(result(f"/p/{name}.jpg", caption=f"a {name}"))
        cat.add_folder("/p")
    damage(path, "images", "tag_names", "folders", "jobs")
    return path


def build_v1(path: Path) -> None:
    """A real version-1 catalogue, as the first release wrote it, with one tagged image in it."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN")
    for statement in split_statements(MIGRATIONS[0].sql):
        conn.execute(statement)
    conn.execute("INSERT INTO schema_migrations VALUES (1, 'core tables', '2024-01-01T00:00:00Z')")
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO images (id, path, folder, name, status, caption, caption_source, updated_at) "
        "VALUES (1, '/old/lighthouse.jpg', '/old', 'lighthouse.jpg', 'tagged', 'a lighthouse on a cliff', 'person', 'x')"
    )
    conn.execute("INSERT INTO tag_names (id, path) VALUES (1, 'place|coast'), (2, 'weather|fog')")
    conn.execute("INSERT INTO image_tags (image_id, tag_id, source, conf) VALUES (1, 1, 0, 9000), (1, 2, 1, NULL)")
    conn.execute("COMMIT")
    conn.close()


def build_old(path: Path, version: int) -> None:
    """The catalogue of ``build_v1`` as a release of schema ``version`` left it (its index, counts and
    snapshot built from those rows by the migrations of the time)."""
    build_v1(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate(conn, path, MIGRATIONS[:version])
        assert conn.execute("PRAGMA user_version").fetchone()[0] == version
    finally:
        conn.close()
    for backup in path.parent.glob(f"{path.name}.v*-backup-*"):  # made by migrate: not part of the fixture
        backup.unlink()


def names(cat: Any, query: str) -> set[str]:
    """The file names ``query`` finds (search and count agree on how many)."""
    hits = cat.search(query)
    assert cat.count(query) == len(hits), query
    return {Path(h.path).name for h in hits}
