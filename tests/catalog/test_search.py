from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autotagger.catalog import Catalog, QueryError
from autotagger.catalog.query import MAX_TERMS, parse_query
from tests.catalog.helpers import result

IMAGES = [
    # path, caption, tags, captured_at, camera
    ("/photos/2023/beach/IMG_0001.jpg", "a dog running on the beach", ("setting|outdoors", "animal|dog"), "2023-07-01T10:00:00", "Canon EOS R5"),
    ("/photos/2023/beach/IMG_0002.jpg", "two people walking on the beach at sunset", ("setting|outdoors", "people|group"), "2023-07-02T19:00:00", "Canon EOS R5"),
    ("/photos/2024/home/kitchen.jpg", "a cat sleeping on a red sofa", ("setting|indoors", "animal|cat", "color|red"), "2024-02-10T08:00:00", "Apple iPhone 13"),
    ("/photos/2024/home/sub/car.jpg", "a red car parked in the street", ("setting|outdoors", "object|car", "color|red"), "2024-05-05T12:00:00", "NIKON Z 6"),
    ("/photos/2024/homework/doc.jpg", "a page of handwritten notes", ("object|paper",), None, None),
]


@pytest.fixture(scope="module")
def cat(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    c = Catalog(tmp_path_factory.mktemp("search") / "catalog.sqlite3")
    for path, caption, tags, when, camera in IMAGES:
        c.record_result(result(path, caption=caption, tags=tags), captured_at=when, camera=camera)
    yield c
    c.close()


def names(cat: Catalog, query: str) -> set[str]:
    hits = cat.search(query)
    assert cat.count(query) == len(hits)
    return {h.path.rsplit("/", 1)[1] for h in hits}


def test_free_words_prefix_and_and(cat: Catalog) -> None:
    assert names(cat, "beach") == {"IMG_0001.jpg", "IMG_0002.jpg"}
    assert names(cat, "sleep") == {"kitchen.jpg"}  # prefix
    assert names(cat, "red street") == {"car.jpg"}  # all words
    assert names(cat, "red stre") == {"car.jpg"}  # the last word, being typed, is a prefix
    assert names(cat, "sleep cat") == set()  # earlier words are whole words
    assert names(cat, "sleeping cat") == {"kitchen.jpg"}
    assert names(cat, "tag:cat sleep") == {"kitchen.jpg"}
    assert names(cat, "sleep tag:cat") == set()  # a word followed by a filter is complete
    assert names(cat, "kitchen") == {"kitchen.jpg"}  # file name
    assert names(cat, "homework") == {"doc.jpg"}  # folder
    assert names(cat, "indoors") == {"kitchen.jpg"}  # tag text
    assert names(cat, "zebra") == set()


def test_ranking_is_bm25(cat: Catalog) -> None:
    hits = cat.search("dog")
    assert hits[0].path.endswith("IMG_0001.jpg")
    assert all(h.rank <= 0 for h in hits)  # FTS5's rank: more negative is better
    ranks = [h.rank for h in cat.search("beach")]
    assert ranks == sorted(ranks)


def test_phrase(cat: Catalog) -> None:
    assert names(cat, '"red car"') == {"car.jpg"}
    assert names(cat, '"car red"') == set()
    assert names(cat, '"on the beach"') == {"IMG_0001.jpg", "IMG_0002.jpg"}


def test_tags_leaf_any_level_and_hierarchy(cat: Catalog) -> None:
    assert names(cat, "tag:red") == {"kitchen.jpg", "car.jpg"}
    assert names(cat, "tag:animal") == {"IMG_0001.jpg", "kitchen.jpg"}  # a parent level
    assert names(cat, "tag:animal|dog") == {"IMG_0001.jpg"}
    assert names(cat, "tag:animal|") == {"IMG_0001.jpg", "kitchen.jpg"}  # trailing | ignored
    assert names(cat, "tag:Animal") == {"IMG_0001.jpg", "kitchen.jpg"}  # case-insensitive
    assert names(cat, "tag:setting|outdoors") == {"IMG_0001.jpg", "IMG_0002.jpg", "car.jpg"}
    assert names(cat, "tag:dog|animal") == set()
    assert names(cat, "tag:anim") == set()  # tags match whole levels, not prefixes
    assert names(cat, "tag:nosuchtag") == set()
    assert names(cat, "tag:outdoors tag:red") == {"car.jpg"}


def test_negation(cat: Catalog) -> None:
    assert names(cat, "beach -tag:people") == {"IMG_0001.jpg"}
    assert names(cat, "-tag:outdoors") == {"kitchen.jpg", "doc.jpg"}
    assert names(cat, "beach -dog") == {"IMG_0002.jpg"}
    assert names(cat, "-beach") == {"kitchen.jpg", "car.jpg", "doc.jpg"}
    assert names(cat, '-"red car" tag:red') == {"kitchen.jpg"}
    assert names(cat, "-tag:nosuchtag tag:paper") == {"doc.jpg"}


def test_folder(cat: Catalog) -> None:
    assert names(cat, "folder:/photos/2024/home") == {"kitchen.jpg", "car.jpg"}  # and below, not homework
    assert names(cat, "folder:/photos/2024/home/") == {"kitchen.jpg", "car.jpg"}
    assert names(cat, "folder:/photos/2023") == {"IMG_0001.jpg", "IMG_0002.jpg"}
    assert names(cat, "red -folder:/photos/2024/home/sub") == {"kitchen.jpg"}
    assert names(cat, 'folder:"/photos/2024/homework"') == {"doc.jpg"}


def test_dates(cat: Catalog) -> None:
    assert names(cat, "after:2024-01-01") == {"kitchen.jpg", "car.jpg"}
    assert names(cat, "before:2024-01-01") == {"IMG_0001.jpg", "IMG_0002.jpg"}
    assert names(cat, "after:2023-07-02 before:2024-03") == {"IMG_0002.jpg", "kitchen.jpg"}
    assert names(cat, "after:2024") == {"kitchen.jpg", "car.jpg"}
    assert names(cat, "before:2023") == set()


def test_camera(cat: Catalog) -> None:
    assert names(cat, "camera:canon") == {"IMG_0001.jpg", "IMG_0002.jpg"}
    assert names(cat, 'camera:"EOS R5" dog') == {"IMG_0001.jpg"}
    assert names(cat, "tag:red -camera:iphone") == {"car.jpg"}


def test_combined_and_paging(cat: Catalog) -> None:
    assert names(cat, "red tag:outdoors after:2024 camera:nikon folder:/photos") == {"car.jpg"}
    everything = cat.search("")
    assert len(everything) == 5 and cat.count("") == 5
    assert [h.path for h in cat.search("", limit=2, offset=1)] == [h.path for h in everything[1:3]]
    hit = cat.search("car")[0]
    assert hit.tags == ("color|red", "object|car", "setting|outdoors") and hit.camera == "NIKON Z 6"


@pytest.mark.parametrize(
    "query, message",
    [
        ('"red car', "unbalanced quote"),
        ('tag:"setting', "unbalanced quote"),
        ("after:2024-13-01", "bad date"),
        ("before:yesterday", "bad date"),
        ("after:", "empty after"),
        ("tag:", "empty tag"),
        ("tag:|", "empty tag"),
        ('tag:""', "empty tag"),
        ("-after:2024", "cannot be negated"),
    ],
)
def test_malformed_queries(cat: Catalog, query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message) as info:
        cat.search(query)
    assert "\n" not in str(info.value)
    with pytest.raises(QueryError):
        cat.count(query)


@pytest.mark.parametrize(
    "query",
    ["AND", "OR dog", "NOT", "dog NOT beach", "NEAR(dog beach)", "dog*", "caption:dog", "^dog", "(dog",
     "'", "a'b", "{caption}: x", "dog -", "--", "*", "+", "tag:a'b", "x:y", '""', "a\"\"b", "日本語", "-*"],
)
def test_fts_syntax_never_reaches_fts5(cat: Catalog, query: str) -> None:
    cat.search(query)  # must not raise: every word is quoted before it reaches MATCH
    cat.count(query)


def test_and_or_not_are_plain_words(cat: Catalog) -> None:
    assert names(cat, "dog AND") == set()  # "and" is just a word here, and no caption has it
    assert names(cat, "on") == {"IMG_0001.jpg", "IMG_0002.jpg", "kitchen.jpg"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from(list('ab "-:|*()^+tagfolder\'\\{}.NEAROT')), max_size=25))
def test_any_text_is_a_result_or_a_query_error(cat: Catalog, query: str) -> None:
    try:
        hits = cat.search(query, limit=10)
    except QueryError as exc:
        assert "\n" not in str(exc)
    else:
        assert len(hits) <= 10


def test_parse_query_shapes() -> None:
    q = parse_query('dog "red car" -cat tag:a|b -tag:c folder:/x/ after:2024-01 before:2025 camera:"EOS R"')
    assert q.words == ['"dog"', '"red car"']  # only the last term, the word being typed, is a prefix
    assert q.not_words == ['"cat"']
    assert (q.tags, q.not_tags, q.folders) == (["a|b"], ["c"], ["/x"])
    assert (q.after, q.before, q.cameras) == ("2024-01", "2025", ["EOS R"])
    assert parse_query('x"y z"').words == ['"xy z"']  # a quoted part inside a word joins it, as a phrase
    assert parse_query('say "it""s"').words == ['"say"', '"its"']
    assert parse_query("red ca").words == ['"red"', '"ca"*']
    assert parse_query("ca -dog").words == ['"ca"']  # the last term is -dog: ca is a whole word
    assert parse_query("red ca !").words == ['"red"', '"ca"*']  # punctuation is no term
    with pytest.raises(QueryError):
        parse_query('say "hi"" there')  # three quotes
    assert parse_query("! ... -").empty


def test_plans_agree_and_rank_blocks_page_consistently(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Driving from a selective filter, scanning, and ranking in small blocks find the same hits;
    with blocks, hits come newest block first, each block in bm25 order, and pages agree."""
    import autotagger.catalog.planner as planner

    with Catalog(tmp_path / "c.sqlite3") as cat:
        for i in range(60):
            cat.record_result(
                result(f"/w/{i // 20}/{i}.jpg", caption=f"dog number {i}" + (" dog dog" if i % 9 == 0 else ""),
                       tags=("animal|dog", f"n|{i % 5}")),
                captured_at=f"20{10 + i // 10}-01-01", camera="Leica M" if i == 3 else "Canon",
            )
        queries = ["dog camera:leica", "dog tag:n|3", "tag:n|3 after:2013", "dog folder:/w/1 -tag:n|0",
                   "number before:2012", "tag:dog -dog", "dog -number", "dog"]
        results = {}
        for drive, window in ((10**6, 10**6), (1, 10**6), (10**6, 7), (1, 7)):
            monkeypatch.setattr(planner, "DRIVE_LIMIT", drive)
            monkeypatch.setattr(planner, "RANK_WINDOW", window)
            results[(drive, window)] = {q: (cat.count(q), [h.path for h in cat.search(q, limit=100)]) for q in queries}
            for q in queries:  # pages of any size put together give the full list
                pages = [h.path for k in range(0, 70, 4) for h in cat.search(q, limit=4, offset=k)]
                assert pages == results[(drive, window)][q][1], (q, drive, window)
        exact = results[(10**6, 10**6)]
        assert exact["dog camera:leica"][0] == 1 and exact["dog tag:n|3"][0] == 12
        assert exact["dog tag:n|3"][1][0].endswith("/18.jpg")  # the best bm25 hit (dog x3) first
        for got in results.values():
            for q in queries:
                assert got[q][0] == exact[q][0] and sorted(got[q][1]) == sorted(exact[q][1]), q
        blocks = results[(10**6, 7)]["dog"][1]
        ids = [int(p.rsplit("/", 1)[1][:-4]) for p in blocks]
        assert sorted(ids[:7], reverse=True) == list(range(59, 52, -1))  # the newest block of 7 comes first
        assert ids[:7][0] == 54  # and within it, 54 (dog x3) ranks best


def test_date_queries_sort_newest_capture_first(cat: Catalog) -> None:
    assert [h.path.rsplit("/", 1)[1] for h in cat.search("after:2023")] == [
        "car.jpg", "kitchen.jpg", "IMG_0002.jpg", "IMG_0001.jpg"
    ]


def test_a_symbol_is_found_in_names_captions_and_tags(cat: Catalog) -> None:
    """Emoji and other symbols have no full-text token: they are matched as text, never ignored."""
    cat.record_result(result("/p/sym/coffee ☕ break.jpg", caption="a cup on a table"), size=1, mtime=1.0)
    cat.record_result(result("/p/sym/dog.jpg", caption="my dog 🐶 at home"), size=1, mtime=1.0)
    assert names(cat, "☕") == {"coffee ☕ break.jpg"}
    assert names(cat, "🐶") == {"dog.jpg"}
    assert names(cat, "folder:/p/sym -☕") == {"dog.jpg"}
    assert names(cat, "🦄") == set()
    assert cat.count("☕ cup") == 1


@pytest.mark.parametrize("term", ["camera:canon", "-camera:x", "tag:dog", "-tag:dog", "dog", "-dog", "folder:/photos", "☕"])
def test_a_query_of_thousands_of_terms_is_a_query_error(cat: Catalog, term: str) -> None:
    """Not SQLite's "Expression tree is too large" (or minutes of work) but a usage error."""
    query = " ".join([term] * 3000)
    for call in (cat.search, cat.count):
        with pytest.raises(QueryError, match=f"^query too long: 3000 terms, the most is {MAX_TERMS}$"):
            call(query)
    cat.search(" ".join([term] * MAX_TERMS))  # the most is still a search


def test_a_query_past_sqlites_limits_is_a_query_error(tmp_path: Path) -> None:
    """Fewer terms than the most, but a tag: matching more tags than this SQLite takes variables."""
    import sqlite3

    with Catalog(tmp_path / "c.sqlite3") as cat:
        cat.record_result(result("/p/a.jpg", tags=tuple(f"a|x{i}" for i in range(30))))
        cat._conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 20)  # a build with a small limit
        assert cat.count("tag:a|x3") == 1
        with pytest.raises(QueryError, match=r"^query too long for SQLite"):
            cat.count("tag:a")
