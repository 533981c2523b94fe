"""Chinese, Japanese and Korean words are found inside longer runs of text (cjk.py), in captions, tags,
names and folders, while Latin-script search finds and ranks exactly as before."""

from __future__ import annotations

import random
import sqlite3
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autotagger.catalog.cjkindex as cjkindex
from autotagger.catalog import Catalog, QueryError
from autotagger.catalog.query import parse_query
from tests.catalog.helpers import build_old, result

IMAGES = [
    # path, caption, tags
    ("/photos/2024年 京都旅行/IMG_0001.jpg", "東京タワーの夜景", ("場所|東京タワー", "setting|outdoors")),
    ("/photos/2024年 京都旅行/IMG_0002.jpg", "a temple garden in autumn", ("setting|outdoors", "季節|秋")),
    ("/photos/上海/外滩.jpg", "上海外滩的夜景很美", ("地点|上海外滩",)),
    ("/photos/서울/남산타워.jpg", "남산타워에서 본 서울 야경", ("장소|서울",)),
    ("/photos/tokyo/IMG_0005東京.jpg", "Tokyo tower at night, 夜の東京", ("city|tokyo",)),
    ("/photos/2023/beach/dog.jpg", "a dog running on the beach", ("setting|outdoors", "animal|dog")),
    ("/photos/2023/beach/dogs.jpg", "two dogs and a dog on the beach at sunset", ("animal|dog",)),
    ("/photos/2023/night/tower.jpg", "a tower at night over the city", ("object|tower",)),
]


def fill(cat: Catalog) -> None:
    for path, caption, tags in IMAGES:
        cat.record_result(result(path, caption=caption, tags=tags))


@pytest.fixture()
def cat(tmp_path: Path) -> Catalog:
    c = Catalog(tmp_path / "catalog.sqlite3")
    fill(c)
    yield c
    c.close()


def names(cat: Catalog, query: str) -> set[str]:
    hits = cat.search(query)
    assert cat.count(query) == len(hits), query
    return {h.path.rsplit("/", 1)[1] for h in hits}


def test_japanese_words_inside_a_run(cat: Catalog) -> None:
    assert names(cat, "タワー") == {"IMG_0001.jpg"}  # caption 東京タワーの夜景, tag 場所|東京タワー
    assert names(cat, "夜景") == {"IMG_0001.jpg", "外滩.jpg"}
    assert names(cat, "タワーの夜景") == {"IMG_0001.jpg"}
    assert names(cat, "東京") == {"IMG_0001.jpg", "IMG_0005東京.jpg"}
    assert names(cat, "夜景 タワー") == {"IMG_0001.jpg"}  # every word, not only the last, is found inside
    assert names(cat, "タワーの朝") == set()  # the whole term, not some of its characters
    assert names(cat, "京タ") == {"IMG_0001.jpg"}


def test_chinese_words_inside_a_run(cat: Catalog) -> None:
    assert names(cat, "外滩") == {"外滩.jpg"}  # name, caption and tag
    assert names(cat, "很美") == {"外滩.jpg"}
    assert names(cat, "上海") == {"外滩.jpg"}  # folder too
    assert names(cat, "北京") == set()


def test_korean_words_inside_a_run(cat: Catalog) -> None:
    assert names(cat, "타워") == {"남산타워.jpg"}
    assert names(cat, "야경") == {"남산타워.jpg"}  # a word of its own
    assert names(cat, "타워에서") == {"남산타워.jpg"}
    assert names(cat, "남산타워") == {"남산타워.jpg"}
    assert names(cat, "타워 서울") == {"남산타워.jpg"}


def test_a_cjk_folder(cat: Catalog) -> None:
    assert names(cat, "旅行") == {"IMG_0001.jpg", "IMG_0002.jpg"}
    assert names(cat, "京都") == {"IMG_0001.jpg", "IMG_0002.jpg"}
    assert names(cat, "2024年") == {"IMG_0001.jpg", "IMG_0002.jpg"}
    assert names(cat, "24年") == {"IMG_0001.jpg", "IMG_0002.jpg"}  # a CJK term is found inside its word
    assert names(cat, "2023年") == set()
    assert names(cat, "旅行 temple") == {"IMG_0002.jpg"}
    assert names(cat, 'folder:"/photos/2024年 京都旅行" 夜景') == {"IMG_0001.jpg"}


def test_mixed_latin_and_cjk(cat: Catalog) -> None:
    assert names(cat, "tower 東京") == {"IMG_0005東京.jpg"}  # a Latin word and a CJK word
    assert names(cat, "東京 tow") == {"IMG_0005東京.jpg"}  # the Latin last word still a prefix
    assert names(cat, "night 夜") == {"IMG_0005東京.jpg"}
    assert names(cat, "img_0005東京") == {"IMG_0005東京.jpg"}  # one word of both scripts, any case
    assert names(cat, "0005東") == {"IMG_0005東京.jpg"}
    assert names(cat, "東京-tower") == {"IMG_0005東京.jpg"}  # a term of a CJK and a Latin word: both
    assert names(cat, "tag:setting 夜景") == {"IMG_0001.jpg"}
    assert names(cat, "dog 夜景") == set()


def test_negation(cat: Catalog) -> None:
    everything = {p.rsplit("/", 1)[1] for p, _, _ in IMAGES}
    assert names(cat, "-夜景") == everything - {"IMG_0001.jpg", "外滩.jpg"}
    assert names(cat, "東京 -夜景") == {"IMG_0005東京.jpg"}
    assert names(cat, "夜景 -上海") == {"IMG_0001.jpg"}
    assert names(cat, "tower -東京") == {"tower.jpg"}  # Latin words drive, a CJK word left out
    assert names(cat, "夜景 -night") == {"IMG_0001.jpg", "外滩.jpg"}  # CJK words drive, a Latin one left out
    assert names(cat, "東京 -night") == {"IMG_0001.jpg"}
    assert names(cat, "-夜景 -dog") == everything - {"IMG_0001.jpg", "外滩.jpg", "dog.jpg", "dogs.jpg"}
    assert names(cat, "-旅行 tag:outdoors") == {"dog.jpg"}


def test_a_one_character_term(cat: Catalog) -> None:
    assert names(cat, "夜") == {"IMG_0001.jpg", "外滩.jpg", "IMG_0005東京.jpg"}
    assert names(cat, "景") == {"IMG_0001.jpg", "外滩.jpg"}  # the last character of a run
    assert names(cat, "秋") == {"IMG_0002.jpg"}  # a one-character tag
    assert names(cat, "年") == {"IMG_0001.jpg", "IMG_0002.jpg"}
    assert names(cat, "夜 -景") == {"IMG_0005東京.jpg"}
    assert names(cat, "塔") == set()


def test_cjk_hits_are_ranked(cat: Catalog) -> None:
    """Like words: bm25 on the same column weights, a caption hit before a folder or name hit."""
    cat.record_result(result("/photos/夜景/plain.jpg", caption="nothing", tags=()))
    hits = cat.search("夜景")
    assert [h.path.rsplit("/", 1)[1] for h in hits][-1] == "plain.jpg"  # its folder only
    assert all(h.rank < 0 for h in hits) and [h.rank for h in hits] == sorted(h.rank for h in hits)
    assert [h.path for h in cat.search("夜景", limit=1, offset=1)] == [hits[1].path]


def test_either_index_driving_finds_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Latin and CJK words together: the kind matching fewer rows (counted up to the drive limit) is
    collected and the other drives; -words collected or looked up row by row: the hits and counts are
    the same either way, and pages agree."""
    import autotagger.catalog.planner as planner

    with Catalog(tmp_path / "c.sqlite3") as cat:
        cat.bulk_record(
            result(f"/p/{'京都' if i % 3 else 'osaka'}/{i}.jpg", caption=f"dog {'夜景' if i % 4 else 'day'} {i}",
                   tags=(f"n|{i % 5}", "季節|秋" if i % 2 else "season|spring"))
            for i in range(80)
        )
        queries = ["dog 京都", "京都 dog", "dog -京都", "夜景 -dog", "dog 秋 -夜景", "京都 tag:n|3", "spring 夜", "-京都 -spring",
                   "dog 京都 folder:/p/京都 -day", "day 京都", "京都 -day"]
        seen, tables = {}, {}
        for limit in (1, 10**6):  # 1: every count reaches the limit, and the Latin words drive
            monkeypatch.setattr(planner, "DRIVE_LIMIT", limit)
            seen[limit] = {q: (cat.count(q), sorted(h.path for h in cat.search(q))) for q in queries}
            for q in queries:
                pages = [h.path for k in range(0, 90, 7) for h in cat.search(q, limit=7, offset=k)]
                assert sorted(pages) == seen[limit][q][1] and len(pages) == seen[limit][q][0], (q, limit)
            with cat._read():
                tables[limit] = [cat._plan(parse_query(q)).table for q in ("spring 夜", "day 京都", "dog 京都")]
        assert seen[1] == seen[10**6]
        assert tables == {1: ["images_fts"] * 3, 10**6: ["images_cjk", "images_cjk", "images_fts"]}
        assert seen[1]["dog 京都"][0] == 53 and seen[1]["dog -京都"][0] == 27 and seen[1]["dog 秋 -夜景"][0] == 0
        assert seen[1]["day 京都"][0] == 13


def test_phrases_and_punctuation_in_a_cjk_term(cat: Catalog) -> None:
    cat.record_result(result("/p/a.jpg", caption="東京 タワー", tags=()))
    cat.record_result(result("/p/b.jpg", caption="東京・タワー・ビル", tags=()))
    assert names(cat, '"東京 タワー"') == {"a.jpg", "b.jpg"}  # two words, one after the other
    assert names(cat, "京・タワ") == {"b.jpg", "a.jpg"}
    assert names(cat, '"京 タ"') == {"a.jpg", "b.jpg"}
    assert names(cat, "京-ワー") == set()  # ワー does not start a word after 京
    assert names(cat, "ワー・ビ") == {"b.jpg"}


def test_width_and_decomposed_forms_are_one(tmp_path: Path) -> None:
    """NFKC on both sides: half-width katakana as phones type it; Korean file names as macOS writes
    them (decomposed jamo)."""
    with Catalog(tmp_path / "c.sqlite3") as cat:
        cat.record_result(result("/p/" + unicodedata.normalize("NFD", "남산타워") + ".jpg", caption="ｶﾒﾗと三脚"))
        assert names(cat, "타워") == {unicodedata.normalize("NFD", "남산타워") + ".jpg"}
        assert cat.count("カメラ") == 1 and cat.count("ﾒﾗ") == 1 and cat.count("三脚") == 1


@pytest.mark.parametrize("query", ["東\"", '"東京', "東京*", "東京 OR", "NEAR(東京)", "-", "東(京)", "^東", "東:京",
                                   "・", "タ\"ワ\"ー", "tag:東京 -", "東京 AND -京都 NOT"])
def test_cjk_terms_never_reach_fts5_syntax(cat: Catalog, query: str) -> None:
    try:
        cat.search(query)
        cat.count(query)
    except QueryError as exc:
        assert "unbalanced quote" in str(exc)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from(list('東京タワー夜ｶ타워 ab"-:|*()^+tag・\'')), max_size=20))
def test_any_cjk_text_is_a_result_or_a_query_error(cat: Catalog, query: str) -> None:
    try:
        hits = cat.search(query, limit=10)
    except QueryError as exc:
        assert "\n" not in str(exc)
    else:
        assert len(hits) <= 10 and cat.count(query) >= len(hits)


def test_substring_semantics_against_python(tmp_path: Path) -> None:
    """A one-word CJK term finds exactly the images where a word of the text holds it: random texts of
    a few characters, every term of up to three of them."""
    rng = random.Random(7)
    alphabet = "東京夜景x "
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(120)]
    with Catalog(tmp_path / "c.sqlite3") as cat:
        cat.bulk_record(result(f"/p/{k}.jpg", caption=t, tags=()) for k, t in enumerate(texts))
        terms = {a + b + c for a in "東京夜景x" for b in ("", *"東京夜景x") for c in ("", *"東京夜景x")}
        for term in sorted(t for t in terms if any(ch != "x" for ch in t)):
            expected = {f"{k}.jpg" for k, t in enumerate(texts) if any(term in w for w in t.split())}
            assert names(cat, term) == expected, term
        assert cat.integrity_check() == []


def test_latin_search_finds_and_ranks_as_without_the_cjk_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same images in two catalogues, one with the CJK index left empty: every Latin query gives
    the same hits, in the same order, with the same bm25 rank (the CJK index never touches images_fts)."""
    queries = ["dog", "dogs", "do", "d", "tower", "night", "on the", '"the beach"', "beach -dog", "-dog", "tow",
               "tower at", "outdoors", "tag:outdoors night", "img", "IMG_0001", "photos", "2024", "tokyo",
               "a", "at -tower", "2023 beach"]
    with Catalog(tmp_path / "with.sqlite3") as with_cjk:
        fill(with_cjk)
        assert with_cjk._conn.execute("SELECT count(*) FROM cjk_grams").fetchone()[0] == 5
        monkeypatch.setattr(cjkindex, "grams_row", lambda *doc: None)
        with Catalog(tmp_path / "without.sqlite3") as without:
            fill(without)
            assert without._conn.execute("SELECT count(*) FROM cjk_grams").fetchone()[0] == 0
            for _ in range(2):  # before optimize() and after it (prefixes expanded into words)
                for q in queries:
                    got = [(h.path, h.rank) for h in with_cjk.search(q)]
                    assert got == [(h.path, h.rank) for h in without.search(q)], q
                    assert with_cjk.count(q) == without.count(q), q
                with_cjk.optimize()
                without.optimize()
        assert [h.path.rsplit("/", 1)[1] for h in with_cjk.search("dog")] == ["dogs.jpg", "dog.jpg"]


def test_edits_moves_and_removals_keep_the_index(cat: Catalog) -> None:
    cat.set_caption("/photos/2023/beach/dog.jpg", "浜辺を走る犬")
    assert names(cat, "走る") == {"dog.jpg"}
    cat.add_tags("/photos/2023/beach/dog.jpg", ["動物|柴犬"])
    assert names(cat, "柴犬") == {"dog.jpg"} and names(cat, "犬") == {"dog.jpg"}
    cat.remove_tags("/photos/2023/beach/dog.jpg", ["動物|柴犬"])
    assert names(cat, "柴犬") == set() and names(cat, "走る") == {"dog.jpg"}
    cat.set_caption("/photos/2023/beach/dog.jpg", "a dog again")
    assert names(cat, "走る") == set() and names(cat, "犬") == set()
    cat.move_image("/photos/2023/beach/dog.jpg", "/photos/北海道/dog.jpg")
    assert names(cat, "海道") == {"dog.jpg"}
    cat.move_image("/photos/2024年 京都旅行/IMG_0002.jpg", "/photos/2024/IMG_0002.jpg")
    assert names(cat, "旅行") == {"IMG_0001.jpg"}
    cat.record_result(result("/photos/2024年 京都旅行/IMG_0001.jpg", caption="京都の紅葉", tags=()))  # re-tagged
    assert names(cat, "紅葉") == {"IMG_0001.jpg"} and names(cat, "タワー") == set()  # the model's tag went
    cat.forget_model_results("/photos/2024年 京都旅行/IMG_0001.jpg")
    assert names(cat, "紅葉") == set() and names(cat, "旅行") == {"IMG_0001.jpg"}
    cat.remove_image("/photos/서울/남산타워.jpg", remember=False)
    assert names(cat, "타워") == set()
    assert cat.integrity_check() == []


def test_a_forgotten_photo_comes_back_searchable(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite3") as cat:
        cat.record_result(result("/p/a.jpg", caption="雪の中を走る電車"), content_hash="h1")
        cat.remove_image("/p/a.jpg")
        assert names(cat, "電車") == set()
        assert cat.restore_forgotten("h1", "/p/冬/b.jpg") is not None
        assert names(cat, "電車") == {"b.jpg"} and names(cat, "冬") == {"b.jpg"}
        assert cat.integrity_check() == []


def test_another_sqlite_tool_can_still_write(cat: Catalog) -> None:
    """Triggers are plain SQL: a tool without our functions edits and deletes; the CJK words of the
    rows it changed are not found until optimize() indexes them again (never the words it removed), and
    the indexes stay sound."""
    conn = sqlite3.connect(cat.path)
    conn.execute("UPDATE images SET caption = '静かな湖' WHERE name = 'tower.jpg'")
    conn.execute("UPDATE images SET caption = 'no longer' WHERE name = '外滩.jpg'")
    conn.execute("DELETE FROM images WHERE name = '남산타워.jpg'")
    conn.commit()
    conn.close()
    assert names(cat, "很美") == set() and names(cat, "타워") == set()
    assert names(cat, "上海") == set() and names(cat, "夜景") == {"IMG_0001.jpg"}
    cat.optimize()
    assert names(cat, "湖") == {"tower.jpg"} and names(cat, "上海") == {"外滩.jpg"}
    assert cat.integrity_check() == []


def test_a_reader_searches_cjk(cat: Catalog) -> None:
    with Catalog(cat.path, readonly=True) as reader:
        assert {h.path.rsplit("/", 1)[1] for h in reader.search("タワー")} == {"IMG_0001.jpg"}
        assert reader.count("夜") == 3


def test_v6_catalogue_upgraded_with_its_cjk_text_indexed(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    build_old(path, 6)
    conn = sqlite3.connect(path)  # what a v6 autotagger wrote: the row and its images_fts entry
    conn.execute(
        "INSERT INTO images (id, path, folder, name, status, caption, tags_text, updated_at) VALUES "
        "(2, '/old/2019年 沖縄/IMG_1.jpg', '/old/2019年 沖縄', 'IMG_1.jpg', 'tagged', '沖縄の海と空', 'place|coast', 'x')"
    )
    conn.execute(
        "INSERT INTO images_fts (rowid, caption, tags_text, name, folder) "
        "SELECT id, caption, tags_text, name, folder FROM images WHERE id = 2"
    )
    before = conn.execute("SELECT rowid, rank FROM images_fts WHERE images_fts MATCH 'coast' ORDER BY rank").fetchall()
    conn.commit()
    conn.close()
    with Catalog(path) as cat:
        assert cat.schema_version >= 7  # 8 and on: Thai, Lao, Khmer, Myanmar (test_sea_search.py)
        assert cat.backup_path is not None and ".v6-backup-" in cat.backup_path.name
        assert names(cat, "海と空") == {"IMG_1.jpg"} and names(cat, "沖縄") == {"IMG_1.jpg"}
        assert names(cat, "lighthouse") == {"lighthouse.jpg"}
        assert [(h.id, h.rank) for h in cat.search("coast")] == before
        assert cat._conn.execute("SELECT id FROM cjk_grams").fetchall() == [(2,)]
        assert cat.integrity_check() == []


def test_parse_query_sends_cjk_terms_to_the_bigram_index() -> None:
    q = parse_query("dog 東京タワー -夜景 ca")
    assert (q.words, q.cjk, q.not_cjk) == (['"dog"', '"ca"*'], ['"東京 京タ タワ ワー"'], ['"夜景"'])
    assert parse_query("夜").cjk == ['"夜"*']
    assert parse_query('"東京 タワー"').cjk == ['"東京 京 タワ ワー"']
    assert parse_query("dog ca").cjk == [] and parse_query("dog ca").words == ['"dog"', '"ca"*']
