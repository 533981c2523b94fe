from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from autotagger.catalog import (
    Catalog,
    CatalogDamaged,
    CatalogError,
    WriterLock,
    filesystem_type,
    is_network_fs,
    network_filesystem,
)
from autotagger.catalog.schema import LATEST, MIGRATIONS
from tests.catalog.helpers import build_old, build_v1, damage, result


def test_v1_opens_upgraded_with_backup_and_search(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    build_v1(path)
    with Catalog(path) as cat:
        assert cat.schema_version == LATEST
        assert cat.backup_path is not None and cat.backup_path.exists()
        rows = cat._conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
        assert [r[0] for r in rows] == [m.version for m in MIGRATIONS]
        rec = cat.get_image("/old/lighthouse.jpg")
        assert rec.caption == "a lighthouse on a cliff" and rec.caption_source == "person"
        assert rec.tag_paths == ("place|coast", "weather|fog")
        assert [h.path for h in cat.search("lighthouse fog")] == ["/old/lighthouse.jpg"]  # FTS built from old rows
        assert cat.count("tag:coast") == 1
        assert cat.integrity_check() == []
    backup = sqlite3.connect(cat.backup_path)
    assert backup.execute("PRAGMA user_version").fetchone()[0] == 1
    assert backup.execute("SELECT caption FROM images").fetchone()[0] == "a lighthouse on a cliff"
    backup.close()
    with Catalog(path) as again:  # already current: no second backup
        assert again.backup_path is None


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.v*-backup-*"))


def test_older_catalogue_is_upgraded_by_a_reader(tmp_path: Path) -> None:
    """search, status, tags, export and the window's readers open an older catalogue as a writer would:
    upgraded, backup first, then read-only as always (it said "needs an upgrade", once per user)."""
    path = tmp_path / "catalog.sqlite3"
    build_old(path, 4)
    with Catalog(path, readonly=True) as cat:
        assert cat.schema_version == LATEST
        assert cat.backup_path is not None and ".v4-backup-" in cat.backup_path.name
        assert backups(path) == [cat.backup_path]
        assert [h.path for h in cat.search("lighthouse fog")] == ["/old/lighthouse.jpg"]
        with pytest.raises(CatalogError, match="read-only"):
            cat.record_result(result("/new/a.jpg"))  # still a reader
    with Catalog(path, readonly=True) as again:  # current now: no second upgrade, no second backup
        assert again.backup_path is None and len(backups(path)) == 1
    backup = sqlite3.connect(backups(path)[0])
    assert backup.execute("PRAGMA user_version").fetchone()[0] == 4
    backup.close()


def test_a_reader_does_not_upgrade_a_catalogue_an_older_writer_holds(tmp_path: Path) -> None:
    """An older autotagger still running (the writer lock held): the reader says so in one line and
    changes nothing; once it stops, the reader upgrades."""
    path = tmp_path / "catalog.sqlite3"
    build_old(path, 4)
    with WriterLock(path), pytest.raises(CatalogError) as info:
        Catalog(path, readonly=True)
    assert str(info.value) == (
        f"catalogue {path} has schema v4 and needs an upgrade to v{LATEST}, which cannot be made now: "
        f"process {os.getpid()} is writing to it (an older autotagger?); stop it, then run this again"
    )
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 4 and backups(path) == []
    conn.close()
    with Catalog(path, readonly=True) as cat:
        assert cat.schema_version == LATEST


def test_a_reader_does_not_upgrade_a_catalogue_it_cannot_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "catalog.sqlite3"
    build_old(path, 4)
    path.chmod(0o444)
    real = os.access  # root writes to a 0444 file all the same: say no as the kernel would to a user
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: os.fspath(p) != str(path) and real(p, mode, **kw))
    with pytest.raises(CatalogError) as info:
        Catalog(path, readonly=True)
    monkeypatch.undo()
    assert str(info.value) == (
        f"catalogue {path} has schema v4 and needs an upgrade to v{LATEST}, which cannot be made now: "
        f"{path} is read-only; open it once with autotagger tag or watch where it can be written"
    )
    assert backups(path) == []


def test_v5_gets_tombstones_and_keeps_its_images(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    build_old(path, 5)
    with Catalog(path) as cat:
        assert cat.schema_version == LATEST and LATEST >= 6
        assert cat.backup_path is not None and ".v5-backup-" in cat.backup_path.name
        columns = [r[1] for r in cat._conn.execute("PRAGMA table_info(tombstones)")]
        assert columns == ["id", "content_hash", "path", "forgotten_at", "record"]
        assert cat._conn.execute("SELECT count(*) FROM tombstones").fetchone()[0] == 0
        assert cat.get_image("/old/lighthouse.jpg").tag_paths == ("place|coast", "weather|fog")
        assert cat.status().images == 1 and cat.integrity_check() == []


@pytest.mark.parametrize("readonly", [False, True])
def test_a_damaged_catalogue_is_not_upgraded_nor_backed_up(tmp_path: Path, readonly: bool) -> None:
    """quick_check before the backup: a backup of the damage would be the newest backup beside it, the
    one the damage message sends people to."""
    path = tmp_path / "catalog.sqlite3"
    build_old(path, 4)
    good = path.with_name(path.name + ".v3-backup-20240101T000000")
    good.write_bytes(path.read_bytes())
    damage(path, "image_tags")
    with pytest.raises(CatalogDamaged) as info:
        Catalog(path, readonly=readonly)
    text = str(info.value)
    assert "\n" not in text and text.startswith(f"catalogue {path} is damaged (")
    assert text.endswith(f"restore a backup ({good.name} beside it) or move it away")
    assert backups(path) == [good]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 4
    conn.close()


def test_quick_check_finds_damage_that_opens_and_reads(tmp_path: Path) -> None:
    """Damage that opens and reads, which only a check sees before the backup: a row breaking its table's
    rules, as a bad copy or a tool writing round SQLite leaves."""
    from autotagger.catalog.schema import quick_check

    path = tmp_path / "catalog.sqlite3"
    build_old(path, 5)
    conn = sqlite3.connect(path)
    assert quick_check(conn) == []
    conn.execute("PRAGMA ignore_check_constraints = ON")
    conn.execute("UPDATE images SET status = 'lost'")
    conn.commit()
    conn.close()
    conn = sqlite3.connect(path)
    assert quick_check(conn) == ["CHECK constraint failed in images"]
    conn.close()
    with pytest.raises(CatalogDamaged) as info:
        Catalog(path)
    assert str(info.value) == (
        f"catalogue {path} is damaged (quick_check: CHECK constraint failed in images; not upgraded to "
        f"v{LATEST}); restore a backup or move it away"
    )
    assert backups(path) == []


def test_failed_migration_rolls_back_whole(tmp_path: Path) -> None:
    from autotagger.catalog.schema import Migration, migrate

    path = tmp_path / "catalog.sqlite3"
    build_v1(path)
    conn = sqlite3.connect(path, isolation_level=None)
    broken = (*MIGRATIONS, Migration(LATEST + 1, "broken", "CREATE TABLE half (x); SELECT * FROM no_such_table;"))
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, path, broken)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST  # v2 committed, v3 not
    assert conn.execute("SELECT count(*) FROM sqlite_schema WHERE name = 'half'").fetchone()[0] == 0
    conn.close()


@pytest.mark.parametrize("readonly", [False, True])
def test_newer_schema_refused(tmp_path: Path, readonly: bool) -> None:
    path = tmp_path / "catalog.sqlite3"
    Catalog(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST + 5}")
    conn.commit()
    conn.close()
    with pytest.raises(CatalogError, match="newer than this autotagger") as info:
        Catalog(path, readonly=readonly)
    assert "\n" not in str(info.value)


MOUNTS = """\
/dev/vda1 / ext4 rw,relatime 0 0
server:/export /mnt/nas nfs4 rw,vers=4.2 0 0
//host/share /mnt/smb\\040share cifs rw 0 0
me@host:/home /mnt/ssh fuse.sshfs rw 0 0
tmpfs /tmp tmpfs rw 0 0
"""


def test_network_filesystem_detection() -> None:
    assert network_filesystem("/mnt/nas/photos/catalog.sqlite3", MOUNTS) == "nfs4"
    assert network_filesystem("/mnt/smb share/x/catalog.sqlite3", MOUNTS) == "cifs"
    assert network_filesystem("/mnt/ssh/c.sqlite3", MOUNTS) == "fuse.sshfs"
    assert network_filesystem("/home/me/catalog.sqlite3", MOUNTS) is None
    assert filesystem_type("/mnt/nasty/c.sqlite3", MOUNTS) == "ext4"  # not under /mnt/nas
    assert filesystem_type("/tmp/c.sqlite3", MOUNTS) == "tmpfs"
    assert is_network_fs("smb3") and is_network_fs("NFS") and not is_network_fs("btrfs")


def test_catalogue_on_network_fs_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import autotagger.catalog._base as base

    monkeypatch.setattr(base, "network_filesystem", lambda p: "nfs4")
    with pytest.raises(CatalogError, match="network filesystem"):
        Catalog(tmp_path / "catalog.sqlite3")
    assert not (tmp_path / "catalog.sqlite3").exists()


def build_v4_with_two_spellings(path: Path) -> None:
    """A v4 catalogue holding one tag under three spellings, as NOCASE (ASCII only) let it: Église on
    /old/a.jpg (the model's), église on /old/b.jpg (a person's), both on /old/c.jpg, and on /old/d.jpg
    Église kept where a person took the duplicate église away."""
    from autotagger.catalog.schema import migrate

    build_v1(path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    for i, name in enumerate("abcd", start=2):
        conn.execute(
            "INSERT INTO images (id, path, folder, name, status, caption, caption_source, updated_at) "
            f"VALUES ({i}, '/old/{name}.jpg', '/old', '{name}.jpg', 'tagged', 'a church', 'model', 'x')"
        )
    conn.execute("INSERT INTO tag_names (id, path) VALUES (3, 'place|Église'), (4, 'place|église'), (5, 'ÉGLISE')")
    conn.execute(
        "INSERT INTO image_tags (image_id, tag_id, source, conf) VALUES "
        "(2, 3, 0, 8000), (3, 4, 1, NULL), (4, 3, 0, 7000), (4, 4, 0, 6000), (5, 3, 0, 5000)"
    )
    conn.execute("INSERT INTO removed_tags (image_id, tag_id) VALUES (5, 4)")
    conn.execute("COMMIT")
    migrate(conn, path, MIGRATIONS[:4])  # tags_text, counts and the index built from those rows
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 4
    conn.close()


def test_v4_with_two_spellings_of_a_tag_keeps_every_tag_and_matches_them_all(tmp_path: Path) -> None:
    from tests.catalog.helpers import result

    path = tmp_path / "catalog.sqlite3"
    build_v4_with_two_spellings(path)
    with Catalog(path) as cat:
        assert cat.schema_version == LATEST and LATEST >= 5
        assert cat.backup_path is not None and ".v4-backup-" in cat.backup_path.name
        before = {p: cat.get_image(p).tag_paths for p in ("/old/a.jpg", "/old/b.jpg", "/old/c.jpg", "/old/d.jpg")}
        assert before == {  # no image lost or changed a tag
            "/old/a.jpg": ("place|Église",), "/old/b.jpg": ("place|église",),
            "/old/c.jpg": ("place|Église", "place|église"), "/old/d.jpg": ("place|Église",),
        }
        for query in ("tag:église", "tag:Église", "tag:ÉGLISE", "tag:place|église", "tag:PLACE|Église"):
            assert cat.count(query) == 4, query
        assert cat.count("tag:Église -tag:place") == 0
        assert cat.count("tag:ÉGLISE -tag:place|église") == 0
        assert cat.integrity_check() == []
        # new tags take the first spelling, and never a third row
        cat.record_result(result("/new/e.jpg", tags=("place|ÉGLISE",)))
        assert cat.get_image("/new/e.jpg").tag_paths == ("place|Église",)
        # the model's tag does not come beside a person's other spelling of it
        cat.record_result(result("/old/b.jpg", tags=("place|Église", "weather|fog")))
        assert cat.get_image("/old/b.jpg").tag_paths == ("place|église", "weather|fog")
        # a duplicate spelling a person took away did not take the tag with it
        cat.record_result(result("/old/d.jpg", tags=("place|Église",)))
        assert cat.get_image("/old/d.jpg").tag_paths == ("place|Église",)
        # an edit changes every spelling an image carries
        cat.add_tags("/old/c.jpg", ["place|église"])
        assert {(t.path, t.source) for t in cat.get_image("/old/c.jpg").tags} == {
            ("place|Église", "person"), ("place|église", "person")
        }
        cat.remove_tags("/old/c.jpg", ["PLACE|ÉGLISE"])
        assert cat.get_image("/old/c.jpg").tag_paths == ()
        cat.record_result(result("/old/c.jpg", tags=("place|église",)))  # removed: not brought back
        assert cat.get_image("/old/c.jpg").tag_paths == ()
        assert dict(cat.tag_counts())["place|Église"] == 3  # a, d, e
        assert cat.count("tag:église") == 4  # a, b, d, e
    backup = sqlite3.connect(cat.backup_path)
    assert backup.execute("PRAGMA user_version").fetchone()[0] == 4
    backup.close()
