"""Thai, Lao, Khmer and Myanmar words are found inside longer runs of text, as Chinese, Japanese and
Korean ones are (cjk.py): these scripts write no spaces between words either, and their vowel signs,
tone marks and stacking signs are part of the word."""

from __future__ import annotations

import random
import sqlite3
import unicodedata
from pathlib import Path

import pytest

from autotagger.catalog import Catalog
from autotagger.catalog.query import parse_query
from autotagger.catalog.schema import LATEST
from tests.catalog.helpers import build_old, names, result

IMAGES = [
    # path, caption, tags
    ("/photos/ภูเก็ต/IMG_0001.jpg", "ชายหาดทะเลสวย", ("สถานที่|ชายหาด",)),  # beach, sea, beautiful
    ("/photos/ภูเก็ต/IMG_0002.jpg", "ม้าในทุ่งนา", ("สัตว์|ม้า",)),  # a horse in the rice field
    ("/photos/2024/square.jpg", "ป้ายสี่เหลี่ยมสีแดง", ()),  # a red square sign
    ("/photos/ຫຼວງພະບາງ/IMG_0004.jpg", "ພູເຂົາແລະນ້ຳຕົກ", ()),  # Lao: mountain and waterfall
    ("/photos/សៀមរាប/IMG_0005.jpg", "ប្រាសាទអង្គរវត្តពេលព្រឹក", ()),  # Khmer: Angkor Wat temple in the morning
    ("/photos/ရန်ကုန်/IMG_0006.jpg", "ရွှေတိဂုံဘုရားညအချိန်", ()),  # Myanmar: Shwedagon pagoda at night
    ("/photos/2023/beach/dog.jpg", "a dog running on the beach", ("animal|dog",)),
    ("/photos/2023/tokyo/IMG_0008.jpg", "東京タワーの夜景", ("place|tokyo",)),
]


@pytest.fixture()
def cat(tmp_path: Path) -> Catalog:
    c = Catalog(tmp_path / "catalog.sqlite3")
    for path, caption, tags in IMAGES:
        c.record_result(result(path, caption=caption, tags=tags))
    yield c
    c.close()


def test_thai_words_inside_a_run(cat: Catalog) -> None:
    assert names(cat, "ทะเล") == {"IMG_0001.jpg"}  # sea, inside ชายหาดทะเลสวย
    assert names(cat, "สวย") == {"IMG_0001.jpg"}  # the end of the run
    assert names(cat, "ชายหาด") == {"IMG_0001.jpg"}  # caption and tag
    assert names(cat, "ทุ่ง") == {"IMG_0002.jpg"}
    assert names(cat, "ภูเก็ต") == {"IMG_0001.jpg", "IMG_0002.jpg"}  # the folder
    assert names(cat, "ทะเล ภูเก็ต") == {"IMG_0001.jpg"}
    assert names(cat, "ทะเลสวยงาม") == set()  # the whole term, not some of its characters
    assert names(cat, "ภูเขา") == set()


def test_lao_khmer_and_myanmar_words_inside_a_run(cat: Catalog) -> None:
    assert names(cat, "ນ້ຳຕົກ") == {"IMG_0004.jpg"}  # waterfall
    assert names(cat, "ພູເຂົາ") == {"IMG_0004.jpg"}  # mountain
    assert names(cat, "ຫຼວງພະບາງ") == {"IMG_0004.jpg"}  # the folder
    assert names(cat, "អង្គរវត្ត") == {"IMG_0005.jpg"}  # Angkor Wat, a subscript consonant (coeng) inside
    assert names(cat, "ព្រឹក") == {"IMG_0005.jpg"}  # morning, at the end
    assert names(cat, "ប្រាសាទ") == {"IMG_0005.jpg"}
    assert names(cat, "ဘုရား") == {"IMG_0006.jpg"}  # pagoda
    assert names(cat, "ရွှေတိဂုံ") == {"IMG_0006.jpg"}  # Shwedagon, stacked medials and asat
    assert names(cat, "ရန်ကုန်") == {"IMG_0006.jpg"}  # Yangon, the folder


def test_marks_belong_to_their_word(cat: Catalog) -> None:
    """Vowel signs and tone marks are neither separators nor left out: a word with other marks on the
    same letters is another word."""
    assert names(cat, "สี่เหลี่ยม") == {"square.jpg"}
    assert names(cat, "เหลี่ยม") == {"square.jpg"}
    assert names(cat, "สีแดง") == {"square.jpg"}
    assert names(cat, "ม้า") == {"IMG_0002.jpg"}  # horse
    assert names(cat, "มา") == set()  # "come": the same letters without the tone mark
    assert names(cat, "นา") == {"IMG_0002.jpg"}  # rice field, at the end of ทุ่งนา
    assert names(cat, "ทุง") == set()  # ทุ่ง without its tone mark
    assert names(cat, "เหลียม") == set()
    # code points, not letter-and-marks clusters: what is typed of the text finds it, as while typing
    assert names(cat, "สี") == {"square.jpg"}  # สี่ and สี
    assert names(cat, "ม้") == {"IMG_0002.jpg"}


def test_a_one_character_term(cat: Catalog) -> None:
    assert names(cat, "ท") == {"IMG_0001.jpg", "IMG_0002.jpg"}
    assert names(cat, "ย") == {"IMG_0001.jpg", "square.jpg"}  # the last character of a run
    assert names(cat, "ဘ") == {"IMG_0006.jpg"}
    assert names(cat, "ฮ") == set()


def test_negation_and_other_scripts_together(cat: Catalog) -> None:
    everything = {Path(p).name for p, _, _ in IMAGES}
    assert names(cat, "-ทะเล") == everything - {"IMG_0001.jpg"}
    assert names(cat, "ภูเก็ต -ม้า") == {"IMG_0001.jpg"}
    assert names(cat, "tag:สัตว์") == {"IMG_0002.jpg"}
    assert names(cat, "夜景 -ทะเล") == {"IMG_0008.jpg"}
    assert names(cat, "dog -ทะเล") == {"dog.jpg"}
    assert names(cat, "beach ทะเล") == set()


def test_a_word_of_several_scripts(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite3") as cat:
        cat.record_result(result("/p/IMG_0001ทะเล.jpg", caption="東京ทะเล sunset", tags=()))
        cat.record_result(result("/p/b.jpg", caption="東京 ทะเล", tags=()))
        assert names(cat, "img_0001ทะเล") == {"IMG_0001ทะเล.jpg"}
        assert names(cat, "01ทะ") == {"IMG_0001ทะเล.jpg"}
        assert names(cat, "京ท") == {"IMG_0001ทะเล.jpg"}  # one word
        assert names(cat, '"東京 ทะเล"') == {"b.jpg"}  # two words, one after the other
        assert names(cat, "東京-sunset") == {"IMG_0001ทะเล.jpg"}
        assert cat.integrity_check() == []


def test_invisible_word_breaks_are_left_out(tmp_path: Path) -> None:
    """Zero-width spaces (line-break hints between Khmer, Thai, Myanmar words) and joiners: found by
    what can be seen and typed, and by a term copied with them."""
    with Catalog(tmp_path / "c.sqlite3") as cat:
        cat.record_result(result("/p/a.jpg", caption="ព្រះ\u200bអាទិត្យ\u200bរះ", tags=()))  # sunrise
        cat.record_result(result("/p/b.jpg", caption="แมว\u200cนอน", tags=()))
        cat.record_result(result("/p/c.jpg", caption="東京\u200b夜景", tags=()))  # CJK as before: two words
        assert names(cat, "ព្រះអាទិត្យ") == {"a.jpg"}
        assert names(cat, "អាទិត្យរះ") == {"a.jpg"}
        assert names(cat, "អាទិត្យ\u200bរះ") == {"a.jpg"}
        assert names(cat, "แมวนอน") == {"b.jpg"}
        assert names(cat, "京夜") == set()


def test_substring_semantics_against_python(tmp_path: Path) -> None:
    """A one-word term finds exactly the images where a word of the text holds it (both NFKC, which
    puts a tone mark after a lower vowel): random texts of Thai letters and marks, every term of up to
    three characters that has a letter (a term of marks alone is punctuation to the query)."""
    rng = random.Random(11)
    alphabet = "กาีุ่x "  # two letters, an upper vowel, a lower vowel, a tone mark
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(150)]
    words = [unicodedata.normalize("NFKC", t).split() for t in texts]
    with Catalog(tmp_path / "c.sqlite3") as cat:
        cat.bulk_record(result(f"/p/{k}.jpg", caption=t, tags=()) for k, t in enumerate(texts))
        chars = alphabet.strip()
        terms = {a + b + c for a in chars for b in ("", *chars) for c in ("", *chars)}
        for term in sorted(t for t in terms if t.strip("x") and any(ch.isalpha() for ch in t)):
            nfkc = unicodedata.normalize("NFKC", term)
            expected = {f"{k}.jpg" for k, ws in enumerate(words) if any(nfkc in w for w in ws)}
            assert names(cat, term) == expected, term
        assert cat.integrity_check() == []


def test_edits_and_other_tools_keep_the_index(cat: Catalog) -> None:
    cat.set_caption("/photos/2023/beach/dog.jpg", "สุนัขวิ่งบนชายหาด")  # a dog running on the beach
    assert names(cat, "วิ่ง") == {"dog.jpg"}
    cat.add_tags("/photos/2023/beach/dog.jpg", ["สัตว์|สุนัข"])
    assert names(cat, "tag:สัตว์ สุนัข") == {"dog.jpg"}
    cat.move_image("/photos/2023/beach/dog.jpg", "/photos/เชียงใหม่/dog.jpg")
    assert names(cat, "เชียง") == {"dog.jpg"}
    conn = sqlite3.connect(cat.path)  # a tool without our functions: found again after optimize()
    conn.execute("UPDATE images SET caption = 'แมวนอนบนโซฟา' WHERE name = 'square.jpg'")
    conn.commit()
    conn.close()
    assert names(cat, "โซฟา") == set() and names(cat, "สี่เหลี่ยม") == set()
    cat.optimize()
    assert names(cat, "โซฟา") == {"square.jpg"}
    assert cat.integrity_check() == []


def test_parse_query_sends_thai_terms_to_the_bigram_index() -> None:
    def token(text: str) -> str:  # as unicode61 keeps it whole: private use, plane 15 (cjk.py)
        return "".join(chr(0xF0000 + ord(c)) for c in text)

    q = parse_query("dog ม้า -ทะเล")
    assert q.words == ['"dog"']
    assert q.cjk == [f'"{token("ม้")} {token("้า")}"']  # the last term, being typed: no word end
    assert q.not_cjk == [f'"{token("ทะ")} {token("ะเ")} {token("เล")}"']
    assert parse_query("ก").cjk == [f'"{token("ก")}"*']  # one character: the bigrams it starts


def _v7(path: Path) -> None:
    """A v7 catalogue as a v7 autotagger left it: Thai text in images and images_fts only, and the
    row of an image with Japanese and Thai holding its Japanese bigrams alone."""
    build_old(path, 7)
    conn = sqlite3.connect(path)
    conn.executemany(
        "INSERT INTO images (id, path, folder, name, status, caption, tags_text, updated_at) "
        "VALUES (?, ?, ?, ?, 'tagged', ?, ?, 'x')",
        [(2, "/old/ภูเก็ต/IMG_1.jpg", "/old/ภูเก็ต", "IMG_1.jpg", "ชายหาดทะเลสวย", "place|coast"),
         (3, "/old/tokyo/IMG_2.jpg", "/old/tokyo", "IMG_2.jpg", "東京タワー ทะเลสาบ", ""),  # lake
         (4, "/old/tokyo/IMG_3.jpg", "/old/tokyo", "IMG_3.jpg", "夜景", "")],
    )
    conn.execute(
        "INSERT INTO images_fts (rowid, caption, tags_text, name, folder) "
        "SELECT id, caption, tags_text, name, folder FROM images WHERE id > 1"
    )
    conn.executemany("INSERT INTO cjk_grams (id, caption) VALUES (?, ?)", [(3, "東京 京タ タワ ワー ー"), (4, "夜景 景")])
    conn.execute(
        "INSERT INTO images_cjk (rowid, caption, tags_text, name, folder) "
        "SELECT id, caption, tags_text, name, folder FROM cjk_grams"
    )
    conn.commit()
    conn.close()


@pytest.mark.parametrize("readonly", [False, True])
def test_v7_catalogue_upgraded_finds_thai(tmp_path: Path, readonly: bool) -> None:
    """Opened by a writer, or by a reader (which upgrades it itself, upgrade.py): one backup, v8, the
    Thai text of the images found, the rest as it was."""
    path = tmp_path / "catalog.sqlite3"
    _v7(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM images_cjk WHERE images_cjk MATCH '\"夜景\"'").fetchone()[0] == 1
    conn.close()
    with Catalog(path, readonly=readonly) as cat:
        assert cat.schema_version == LATEST == 8
        assert cat.backup_path is not None and ".v7-backup-" in cat.backup_path.name
        assert names(cat, "ทะเล") == {"IMG_1.jpg", "IMG_2.jpg"}
        assert names(cat, "ทะเลสาบ") == {"IMG_2.jpg"} and names(cat, "ภูเก็ต") == {"IMG_1.jpg"}
        assert names(cat, "タワー") == {"IMG_2.jpg"} and names(cat, "夜景") == {"IMG_3.jpg"}
        assert names(cat, "coast") == {"IMG_1.jpg", "lighthouse.jpg"} and names(cat, "cliff") == {"lighthouse.jpg"}
        assert cat._conn.execute("SELECT caption FROM cjk_grams WHERE id = 4").fetchone() == ("夜景 景",)
        assert cat._conn.execute("SELECT count(*) FROM temp.sqlite_schema WHERE name = 'v8_sea'").fetchone() == (0,)
    with Catalog(path) as cat:
        assert cat.backup_path is None and cat.integrity_check() == []
