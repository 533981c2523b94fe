"""A folder or tag whose name holds a double quote (or a backslash) can be searched: inside quotes
``\\"`` is a quote and ``\\\\`` a backslash, and ``quote_value`` writes any name so."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autotagger.catalog import Catalog, QueryError
from autotagger.catalog.query import parse_query, quote_value, tokenize
from tests.catalog.helpers import names, result

PARTY = "Mike's \"Party\""
BEAR = 'nickname|"Bear"'
SLASHED = 'back\\slash "q"'  # back\slash "q"


@pytest.fixture
def party(tmp_path: Path) -> tuple[Catalog, Path]:
    """a.jpg in a folder named ``Mike's "Party"`` tagged ``nickname|"Bear"``; b.jpg in ``Mike's Party``
    tagged ``nickname|Bear`` (what the quotes read as when they are taken for quoting); c.jpg in a
    folder whose name has a backslash before a quote."""
    root = Path(os.path.realpath(tmp_path))
    folders = {"a.jpg": root / PARTY, "b.jpg": root / "Mike's Party", "c.jpg": root / SLASHED}
    tags = {"a.jpg": (BEAR, "setting|outdoors"), "b.jpg": ("nickname|Bear",), "c.jpg": ("x\\y",)}
    cat = Catalog(root / "c.sqlite3")
    for name, folder in folders.items():
        folder.mkdir()
        cat.record_result(result(str(folder / name), tags=tags[name]))
    yield cat, root
    cat.close()


def test_escaped_quote_and_backslash_inside_quotes() -> None:
    q = parse_query('tag:"nickname|\\"Bear\\"" folder:"/photos/Mike\'s \\"Party\\"" camera:"a\\\\b\\\\"')
    assert q.tags == [BEAR]
    assert q.folders == ["/photos/" + PARTY]
    assert q.cameras == ["a\\\\b\\"]  # backslashes count only before a quote: "\\\\" then the closing quote
    assert parse_query('"say \\"hi\\""').words == ['"say ""hi"""']  # a phrase: quote doubled for FTS5
    assert parse_query('-tag:"a\\"b"').not_tags == ['a"b']


def test_other_backslashes_and_existing_queries_read_as_before() -> None:
    assert parse_query('folder:"/photos/C:\\Photos\\2024 x"').folders == ["/photos/C:\\Photos\\2024 x"]
    assert parse_query('camera:"\\\\nas\\photos x"').cameras == ["\\\\nas\\photos x"]  # a network path as typed
    assert parse_query("tag:a\\b").tags == ["a\\b"]  # no escapes outside quotes
    assert parse_query('tag:a\\"b c"').tags == ["a\\b c"]  # a bare backslash, then a quoted part
    assert parse_query('say "it""s"').words == ['"say"', '"its"']  # adjacent quoted parts join
    assert parse_query('folder:"/x y"/"z"').folders == ["/x y/z"]


@pytest.mark.parametrize("query", ['tag:"a\\"', 'folder:"x\\\\\\"', '"\\"'])
def test_an_escaped_closing_quote_leaves_the_quote_open(query: str) -> None:
    with pytest.raises(QueryError, match="unbalanced quote"):
        parse_query(query)


def test_quote_value_is_bare_when_it_can_be() -> None:
    assert quote_value("subject|cat") == "subject|cat"
    assert quote_value("C:\\Photos") == "C:\\Photos"
    assert quote_value("/a b") == '"/a b"'
    assert quote_value(BEAR) == '"nickname|\\"Bear\\""'
    assert quote_value('a\\"b') == '"a\\\\\\"b"'


@given(st.text(alphabet=st.characters(blacklist_characters="\x00"), min_size=1).filter(lambda s: s.strip()))
def test_quote_value_reads_back_as_the_same_value(text: str) -> None:
    [(neg, key, value, _)] = tokenize(f"tag:{quote_value(text)}")
    assert (neg, key, value) == (False, "tag", text)


def test_search_finds_the_photo_in_a_quoted_folder(party: tuple[Catalog, Path]) -> None:
    cat, root = party
    assert names(cat, f"folder:{quote_value(str(root / PARTY))}") == {"a.jpg"}
    assert names(cat, f'folder:"{root}/Mike\'s \\"Party\\""') == {"a.jpg"}
    assert names(cat, f'-folder:"{root}/Mike\'s \\"Party\\""') == {"b.jpg", "c.jpg"}
    assert names(cat, f"folder:{quote_value(str(root / SLASHED))}") == {"c.jpg"}
    assert names(cat, f'folder:"{root}/back\\slash \\"q\\""') == {"c.jpg"}


def test_search_finds_the_photo_with_a_quoted_tag(party: tuple[Catalog, Path]) -> None:
    cat, _ = party
    assert names(cat, 'tag:"nickname|\\"Bear\\""') == {"a.jpg"}  # not b.jpg's nickname|Bear
    assert names(cat, f"tag:{quote_value(BEAR)} tag:setting") == {"a.jpg"}
    assert names(cat, "tag:nickname") == {"a.jpg", "b.jpg"}
    assert names(cat, 'tag:nickname -tag:"nickname|\\"bear\\""') == {"b.jpg"}  # case-insensitive as ever
    assert names(cat, "tag:" + quote_value("x\\y")) == {"c.jpg"}
    assert names(cat, "tag:x\\y") == {"c.jpg"}
