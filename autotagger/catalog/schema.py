"""Numbered schema migrations: each runs in one transaction and is recorded; the file is backed up first."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from autotagger.catalog.cjk import has_cjk, has_sea, index_text
from autotagger.catalog.errors import CatalogError, damaged
from autotagger.catalog.query import fold_tag


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


V1_CORE = """
CREATE TABLE schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
);
CREATE TABLE folders (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    recursive INTEGER NOT NULL DEFAULT 1,
    added_at TEXT NOT NULL
);
CREATE TABLE images (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    folder TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER,
    mtime REAL,
    content_hash TEXT,
    width INTEGER,
    height INTEGER,
    captured_at TEXT,
    camera TEXT,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'tagged', 'failed')),
    error TEXT,
    caption TEXT NOT NULL DEFAULT '',
    caption_source TEXT NOT NULL DEFAULT '' CHECK (caption_source IN ('', 'model', 'person')),
    model_caption TEXT,  -- the model's caption when a person's differs, else NULL
    answers TEXT,  -- JSON [[question_id, prompt text id, answer, confidence, raw], ...]
    model_ref INTEGER,  -- texts.id of the model id
    question_set_version TEXT NOT NULL DEFAULT '',
    tagged_at TEXT,
    updated_at TEXT
);
CREATE INDEX images_folder ON images (folder);
CREATE INDEX images_hash ON images (content_hash) WHERE content_hash IS NOT NULL;
CREATE INDEX images_captured ON images (captured_at) WHERE captured_at IS NOT NULL;
CREATE INDEX images_status ON images (status) WHERE status != 'tagged';
CREATE TABLE tag_names (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE COLLATE NOCASE
);
CREATE TABLE image_tags (
    image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tag_names (id),
    source INTEGER NOT NULL,  -- 0 = model, 1 = person
    conf INTEGER,  -- confidence in 1/10000 (kept to four decimals), NULL when none
    question_ref INTEGER,  -- texts.id of the question id
    PRIMARY KEY (image_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX image_tags_tag ON image_tags (tag_id, image_id);
CREATE TABLE removed_tags (  -- a person removed this tag: the model may not bring it back
    image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tag_names (id),
    PRIMARY KEY (image_id, tag_id)
) WITHOUT ROWID;
CREATE TABLE texts (  -- interned short strings: prompts, question ids, model ids
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE
);
CREATE TABLE models (
    text_id INTEGER PRIMARY KEY REFERENCES texts (id),
    last_used TEXT NOT NULL
);
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT 'new',
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'claimed', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    worker TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX jobs_active_path ON jobs (path) WHERE status IN ('pending', 'claimed');
CREATE INDEX jobs_status ON jobs (status, id);
"""

V2_FTS = """
ALTER TABLE images ADD COLUMN tags_text TEXT NOT NULL DEFAULT '';
UPDATE images SET tags_text = coalesce((
    SELECT group_concat(p, char(10)) FROM (
        SELECT n.path AS p FROM image_tags t JOIN tag_names n ON n.id = t.tag_id
        WHERE t.image_id = images.id ORDER BY n.path)), '');
CREATE VIRTUAL TABLE images_fts USING fts5 (
    caption, tags_text, name, folder,
    content = 'images', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
-- New rows are indexed by the catalogue code itself (Catalog._index_new), in batches: a per-row
-- AFTER INSERT trigger made bulk inserts three times slower. Updates and deletes use triggers.
CREATE TRIGGER images_fts_ad AFTER DELETE ON images BEGIN
    INSERT INTO images_fts (images_fts, rowid, caption, tags_text, name, folder)
    VALUES ('delete', old.id, old.caption, old.tags_text, old.name, old.folder);
END;
CREATE TRIGGER images_fts_au AFTER UPDATE OF caption, tags_text, name, folder ON images BEGIN
    INSERT INTO images_fts (images_fts, rowid, caption, tags_text, name, folder)
    VALUES ('delete', old.id, old.caption, old.tags_text, old.name, old.folder);
    INSERT INTO images_fts (rowid, caption, tags_text, name, folder)
    VALUES (new.id, new.caption, new.tags_text, new.name, new.folder);
END;
INSERT INTO images_fts (images_fts) VALUES ('rebuild');
-- how many images carry each tag, kept by the catalogue code (tag_counts, query planning)
ALTER TABLE tag_names ADD COLUMN n INTEGER NOT NULL DEFAULT 0;
UPDATE tag_names SET n = (SELECT count(*) FROM image_tags t WHERE t.tag_id = tag_names.id);
INSERT INTO images_fts (images_fts, rank) VALUES ('rank', 'bm25(4.0, 2.0, 1.0, 0.5)');
"""

# A snapshot of the index's terms, so that a short prefix ("cou*") can be searched as the OR of the
# whole words it stands for (FTS5 reads only the newest postings of each) instead of a prefix query
# (which merges every posting of every such word first). See vocab.py. Rows with ids above
# vocab_state.upto, and rows whose text changed since (vocab_stale), are not in the snapshot yet.
V3_VOCAB = """
CREATE VIRTUAL TABLE images_fts_terms USING fts5vocab (images_fts, row);
CREATE TABLE vocab (term TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE vocab_state (id INTEGER PRIMARY KEY CHECK (id = 1), upto INTEGER NOT NULL);
CREATE TABLE vocab_stale (id INTEGER PRIMARY KEY);
INSERT INTO vocab (term) SELECT term FROM images_fts_terms;
INSERT INTO vocab_state (id, upto) VALUES (1, coalesce((SELECT max(id) FROM images), 0));
CREATE TRIGGER vocab_stale_au AFTER UPDATE OF caption, tags_text, name, folder ON images
WHEN new.id <= (SELECT upto FROM vocab_state) BEGIN
    INSERT OR IGNORE INTO vocab_stale (id) VALUES (new.id);
END;
-- deleting the newest rows lets SQLite hand their ids out again: the snapshot then covers less
CREATE TRIGGER vocab_state_ad AFTER DELETE ON images
WHEN old.id <= (SELECT upto FROM vocab_state) AND NOT EXISTS (SELECT 1 FROM images WHERE id > old.id) BEGIN
    UPDATE vocab_state SET upto = coalesce((SELECT max(id) FROM images), 0);
END;
"""

# A failed job waits before its next attempt (a file still being copied, a share that dropped, a
# file another program holds): it is not claimed before not_before (Unix time; NULL: at once).
V4_RETRY_AT = """
ALTER TABLE jobs ADD COLUMN not_before REAL;
"""

# Tags are one tag whatever their case, in any script: tag_names.path is UNIQUE COLLATE NOCASE, which
# folds ASCII letters only ("Église" and "église" were two tags, and tag:église missed Église).
# fold = tag_fold(path) (query.fold_tag: casefold, NFC) is what tags are looked up and matched by.
# A v4 catalogue may already hold two spellings of one tag: both rows stay, so that no image loses
# or changes a tag; the later ones are twins (twin = their own id; 0 for the first spelling), which
# searches match like the first and new tags never reuse. UNIQUE (fold, twin): one first spelling.
V5_TAG_FOLD = """
ALTER TABLE tag_names ADD COLUMN fold TEXT NOT NULL DEFAULT '';
ALTER TABLE tag_names ADD COLUMN twin INTEGER NOT NULL DEFAULT 0;
UPDATE tag_names SET fold = tag_fold(path);
UPDATE tag_names SET twin = id WHERE id NOT IN (SELECT min(id) FROM tag_names GROUP BY fold);
CREATE UNIQUE INDEX tag_names_fold ON tag_names (fold, twin);
"""

# What the catalogue knew of a photo it forgot (the watcher or a scan found it gone from the watched
# folders), kept by content hash, so that the photo coming back (moved out and back, or copied back in)
# gets its record again, a person's edits and removed tags with it, without the model. ``record`` is
# JSON (tombstones.py): the images row's fields, tags and removed tags by name, texts by value, so no
# other row is referenced and the tag counts never see them. ``id`` grows with each: the newest are kept.
V6_TOMBSTONES = """
CREATE TABLE tombstones (
    id INTEGER PRIMARY KEY,
    content_hash TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    forgotten_at REAL NOT NULL,  -- Unix time
    record TEXT NOT NULL
);
CREATE INDEX tombstones_age ON tombstones (forgotten_at);
"""

# Chinese, Japanese and Korean words inside longer runs (cjk.py): the words of an image's text that hold
# CJK, as overlapping bigrams, in cjk_grams (only images with such text have a row) and its own FTS5
# index, so that images_fts, and with it every Latin search and its ranking, stays as it was. New rows
# are indexed by the catalogue code (as images_fts); when an image's text changes or the image goes, its
# row goes by trigger (plain SQL: any SQLite tool can still write the file) and the catalogue code
# writes the new one. cjk_bigrams() and has_cjk() exist only while migrating (schema.migrate).
V7_CJK = """
CREATE TABLE cjk_grams (
    id INTEGER PRIMARY KEY,  -- images.id
    caption TEXT NOT NULL DEFAULT '',
    tags_text TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    folder TEXT NOT NULL DEFAULT ''
);
CREATE VIRTUAL TABLE images_cjk USING fts5 (
    caption, tags_text, name, folder,
    content = 'cjk_grams', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '1'
);
CREATE TRIGGER images_cjk_ad AFTER DELETE ON cjk_grams BEGIN
    INSERT INTO images_cjk (images_cjk, rowid, caption, tags_text, name, folder)
    VALUES ('delete', old.id, old.caption, old.tags_text, old.name, old.folder);
END;
CREATE TRIGGER images_cjk_au AFTER UPDATE ON cjk_grams BEGIN
    INSERT INTO images_cjk (images_cjk, rowid, caption, tags_text, name, folder)
    VALUES ('delete', old.id, old.caption, old.tags_text, old.name, old.folder);
    INSERT INTO images_cjk (rowid, caption, tags_text, name, folder)
    VALUES (new.id, new.caption, new.tags_text, new.name, new.folder);
END;
CREATE TRIGGER cjk_grams_image_ad AFTER DELETE ON images BEGIN
    DELETE FROM cjk_grams WHERE id = old.id;
END;
CREATE TRIGGER cjk_grams_image_au AFTER UPDATE OF caption, tags_text, name, folder ON images BEGIN
    DELETE FROM cjk_grams WHERE id = old.id;
END;
INSERT INTO cjk_grams (id, caption, tags_text, name, folder)
SELECT id, cjk_bigrams(caption), cjk_bigrams(tags_text), cjk_bigrams(name), cjk_bigrams(folder) FROM images
WHERE (caption || tags_text || name || folder) GLOB '*[^' || char(1) || '-' || char(127) || ']*'  -- not ASCII
AND (has_cjk(caption) OR has_cjk(tags_text) OR has_cjk(name) OR has_cjk(folder));
INSERT INTO images_cjk (images_cjk) VALUES ('rebuild');
INSERT INTO images_cjk (images_cjk, rank) VALUES ('rank', 'bm25(4.0, 2.0, 1.0, 0.5)');
"""

# Thai, Lao, Khmer and Myanmar words inside longer runs too (cjk.py): the images whose text holds them get
# their cjk_grams row and its index entries again, now with those words (a v7 catalogue has no row for them,
# or one with only their CJK words). The rows are found once, into a temporary table gone at the end.
# cjk_bigrams() and has_sea() exist only while migrating (schema.migrate).
V8_SEA = """
CREATE TEMP TABLE v8_sea (id INTEGER PRIMARY KEY);
INSERT INTO temp.v8_sea (id) SELECT id FROM images
WHERE (caption || tags_text || name || folder) GLOB '*[^' || char(1) || '-' || char(127) || ']*'  -- not ASCII
AND (has_sea(caption) OR has_sea(tags_text) OR has_sea(name) OR has_sea(folder));
DELETE FROM cjk_grams WHERE id IN (SELECT id FROM temp.v8_sea);  -- and their index entries, by trigger
INSERT INTO cjk_grams (id, caption, tags_text, name, folder)
SELECT id, cjk_bigrams(caption), cjk_bigrams(tags_text), cjk_bigrams(name), cjk_bigrams(folder) FROM images
WHERE id IN (SELECT id FROM temp.v8_sea);
INSERT INTO images_cjk (rowid, caption, tags_text, name, folder)
SELECT id, caption, tags_text, name, folder FROM cjk_grams WHERE id IN (SELECT id FROM temp.v8_sea);
DROP TABLE temp.v8_sea;
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "core tables", V1_CORE),
    Migration(2, "full-text index over caption, tags, name and folder", V2_FTS),
    Migration(3, "vocabulary snapshot for fast short prefixes", V3_VOCAB),
    Migration(4, "failed jobs wait before they are tried again", V4_RETRY_AT),
    Migration(5, "tags match and stay one tag whatever their case, beyond ASCII", V5_TAG_FOLD),
    Migration(6, "forgotten photos' records kept by content hash, to come back with the photo", V6_TOMBSTONES),
    Migration(7, "Chinese, Japanese and Korean words found inside longer runs of text", V7_CJK),
    Migration(8, "Thai, Lao, Khmer and Myanmar words found inside longer runs of text", V8_SEA),
)
LATEST = MIGRATIONS[-1].version


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def split_statements(script: str) -> list[str]:
    """Split a script into complete statements (triggers included) without executescript's COMMIT."""
    out: list[str] = []
    buf = ""
    for piece in script.split(";"):
        buf += piece + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n\t;"):
                out.append(buf.strip())
            buf = ""
    if buf.strip(" \n\t;"):
        out.append(buf.strip())
    return out


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def quick_check(conn: sqlite3.Connection) -> list[str]:
    """SQLite's quick_check (pages, records, no index-to-table cross check: about as fast as reading
    the file once); the problems found, [] when all is well. A damaged page SQLite cannot even walk
    raises sqlite3.DatabaseError instead (the caller turns it into CatalogDamaged)."""
    return [" ".join(str(r[0]).split()) for r in conn.execute("PRAGMA quick_check") if r[0] != "ok"]


def backup_file(conn: sqlite3.Connection, path: Path, version: int) -> Path:
    """A consistent copy of the catalogue (the backup API sees through WAL) beside it."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    dest = path.with_name(f"{path.name}.v{version}-backup-{stamp}")
    n = 1
    while dest.exists():
        n += 1
        dest = path.with_name(f"{path.name}.v{version}-backup-{stamp}-{n}")
    target = sqlite3.connect(dest)
    try:
        conn.backup(target)
    finally:
        target.close()
    return dest


def apply_migration(conn: sqlite3.Connection, migration: Migration) -> bool:
    """Run one migration in its own IMMEDIATE transaction; False if another process already did."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if schema_version(conn) >= migration.version:
            conn.execute("ROLLBACK")
            return False
        for statement in split_statements(migration.sql):
            conn.execute(statement)
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (migration.version, migration.name, now_iso()),
        )
        conn.execute(f"PRAGMA user_version = {int(migration.version)}")
        conn.execute("COMMIT")
        return True
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def migrate(
    conn: sqlite3.Connection, path: Path, migrations: tuple[Migration, ...] = MIGRATIONS
) -> Path | None:
    """Bring the schema up to the last migration; returns the backup made (None when none was needed).
    An existing catalogue is checked first (quick_check): a damaged one is refused with CatalogDamaged,
    before its backup could take the place of the good backups beside it."""
    latest = migrations[-1].version
    current = schema_version(conn)
    if current > latest:
        raise CatalogError(
            f"catalogue {path} has schema v{current}, newer than this autotagger knows (v{latest}); "
            "upgrade autotagger"
        )
    if current == latest:
        return None
    conn.create_function("tag_fold", 1, fold_tag, deterministic=True)  # for V5_TAG_FOLD
    conn.create_function("cjk_bigrams", 1, index_text, deterministic=True)  # for V7_CJK and V8_SEA
    conn.create_function("has_cjk", 1, has_cjk, deterministic=True)
    conn.create_function("has_sea", 1, has_sea, deterministic=True)
    backup = None
    if current > 0:
        problems = quick_check(conn)
        if problems:  # a backup of the damage would be the newest backup, the one we tell people to restore
            more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
            raise damaged(path, f"quick_check: {problems[0]}{more}; not upgraded to v{latest}")
        backup = backup_file(conn, path, current)
    for migration in migrations:
        if migration.version > current:
            apply_migration(conn, migration)
    return backup
