"""The vocabulary snapshot (vocab.py): a prefix searched as the OR of whole words finds exactly what
the plain FTS5 prefix finds, whatever happened to the catalogue after the snapshot was taken."""

from __future__ import annotations

from pathlib import Path

from autotagger.catalog import Catalog
from autotagger.catalog.query import parse_query
from autotagger.catalog.schema import LATEST
from tests.catalog.helpers import result
from tests.catalog.test_migrations import build_v1

WORDS = ["couple", "country", "count", "courage", "cousin", "cow", "coral", "copper", "bright", "bridge"]
PREFIXES = ["c", "co", "cou", "coun", "cow", "br", "bri", "zeb", "zebra", "lig", "im", "imag", "2024", "x"]


def fill(cat: Catalog, start: int, n: int, extra: str = "") -> None:
    cat.bulk_record(
        result(f"/p/{k // 7}/img{k}.jpg", caption=f"a {WORDS[k % len(WORDS)]} and {WORDS[(k * 3) % len(WORDS)]} {extra}",
               tags=(f"thing|{WORDS[(k * 7) % len(WORDS)]}",))
        for k in range(start, start + n)
    )


def plain(cat: Catalog, query: str) -> set[int]:
    """What the search finds with the plain FTS5 prefix (the expansion switched off)."""
    cat._fts_match = lambda q: q.fts_match  # type: ignore[method-assign]
    try:
        return found(cat, query)
    finally:
        del cat._fts_match


def found(cat: Catalog, query: str) -> set[int]:
    hits = {h.id for h in cat.search(query, limit=100_000)}
    assert cat.count(query) == len(hits)
    return hits


def expanded(cat: Catalog, query: str) -> bool:
    q = parse_query(query)
    with cat._read():
        match = cat._fts_match(q)
    return match != q.fts_match


def check_all(cat: Catalog) -> None:
    for p in PREFIXES:
        for query in (p, f"and {p}", f"-tag:thing|cow {p}"):
            assert found(cat, query) == plain(cat, query), query
        expr = parse_query(p).fts_match
        rows = {int(r[0]) for r in cat._conn.execute("SELECT rowid FROM images_fts WHERE images_fts MATCH ?", (expr,))}
        assert found(cat, p) == rows, p


def test_prefix_expansion_matches_plain_prefix(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    with Catalog(path) as cat:
        fill(cat, 0, 300)
        cat.optimize()  # the snapshot covers everything
        assert expanded(cat, "cou")
        check_all(cat)
        # after the snapshot: new rows with new words, deletions (of the newest row too, whose id
        # SQLite hands out again), and old rows whose text changes
        fill(cat, 300, 40, extra="zebra lighthouse")
        cat.remove_image("/p/48/img339.jpg")
        cat.remove_image("/p/0/img3.jpg")
        cat.set_caption("/p/1/img10.jpg", "a zebrafish beside a coelacanth")
        cat.move_image("/p/2/img20.jpg", "/p/imaginary/img20.jpg")
    with Catalog(path, readonly=True) as ro:  # cannot update the snapshot: plain prefix, same rows
        assert not expanded(ro, "cou")
        check_all(ro)
    with Catalog(path) as cat:
        check_all(cat)  # the writer adds the fresh rows' words first
        assert expanded(cat, "cou") and expanded(cat, "zeb") and expanded(cat, "imag")
        # the newest row goes and its id is reused by a row with a word nobody had before
        newest = cat._conn.execute("SELECT path FROM images ORDER BY id DESC LIMIT 1").fetchone()[0]
        cat.remove_image(newest)
        cat.record_result(result("/p/new/img.jpg", caption="a zebu in the countryside"))
        assert found(cat, "zebu") == plain(cat, "zebu") != set()
        check_all(cat)
        assert {h.path for h in cat.search("coel")} == {"/p/1/img10.jpg"}
        cat.optimize()
        assert expanded(cat, "coel")
        check_all(cat)
        assert cat.integrity_check() == []


def test_many_words_fall_back_to_plain_prefix(tmp_path: Path) -> None:
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        cat.bulk_record(result(f"/p/{k}.jpg", caption=f"word{k}") for k in range(100))
        cat.optimize()
        assert not expanded(cat, "word")  # 100 words start with it
        assert expanded(cat, "word5")  # word5, word50..word59
        assert found(cat, "word") == plain(cat, "word") and len(found(cat, "word")) == 100
        assert found(cat, "word5") == plain(cat, "word5") and len(found(cat, "word5")) == 11


def test_v1_catalogue_upgrades_with_a_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    build_v1(path)
    with Catalog(path) as cat:
        assert cat.schema_version == LATEST
        assert cat._conn.execute("SELECT upto FROM vocab_state").fetchone()[0] == 1
        assert "lighthouse" in {r[0] for r in cat._conn.execute("SELECT term FROM vocab")}
        assert expanded(cat, "lig")
        assert [h.path for h in cat.search("ligh")] == ["/old/lighthouse.jpg"]
