from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from autotagger.catalog import Catalog, CatalogError, filesystem_type, is_network_fs, network_filesystem
from autotagger.catalog.schema import LATEST, MIGRATIONS, split_statements


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


def test_older_catalogue_refused_readonly(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    build_v1(path)
    with pytest.raises(CatalogError, match="needs an upgrade"):
        Catalog(path, readonly=True)


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
