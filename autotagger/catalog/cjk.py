"""Chinese, Japanese and Korean (and Thai, Lao, Khmer, Myanmar) words found inside longer runs of text.

These scripts write words without spaces between them, so FTS5's unicode61 tokenizer sees
``東京タワーの夜景`` (or a folder ``2024年 京都旅行``) as one token, and ``タワー``, ``夜景`` or ``旅行``
found nothing. Every word (a run of letters and digits, as unicode61 cuts them) that holds a CJK
character is therefore also indexed as its overlapping character bigrams followed by its last
character (``東京 京タ タワ ワー ーの の夜 夜景 景``), in a table of its own (``cjk_grams``, one row per
image whose caption, tags, name or folder hold CJK; schema.py V7_CJK) and its FTS5 index
``images_cjk`` (same columns and bm25 weights as ``images_fts``; ``prefix='1'`` for one-character
terms). A query term that holds CJK becomes the phrase of its bigrams there, which matches wherever
the term occurs inside such a word; a one-character term is the prefix of the bigrams (the last
character of each word is indexed alone for exactly that). Where a term has several words (``東京-
タワー``, a quoted phrase), each but the last brings its last character too, so the phrase only
matches across a word's end where the text has one. Latin-script text and terms never reach this
table: their search, ranking and speed are those of ``images_fts`` as before.

Thai, Lao, Khmer and Myanmar are written without spaces too (``ทะเล``, sea, in ``ชายหาดทะเลสวย``) and
go the same way since migration 8 (schema.py V8_SEA), with two differences. Their vowel signs, tone
marks and the Khmer and Myanmar stacking signs are combining marks, which unicode61 and Python's
``re`` take for separators: ``สี่เหลี่ยม`` would be cut into ``ส เหล ยม``. So a word runs on through the
marks of these scripts, and in the bigrams each of their characters is written as a private-use one
(U+F0000 plus its code point), which unicode61 keeps in a token whatever its Unicode tables, and which
no word of the text itself can hold (private-use characters are no letters: ``_WORD`` drops them).
The bigrams are of code points, not of grapheme clusters (a letter with its marks): a term is then
found exactly where its code points stand in a word, as for CJK, so anything typed that is part of
the text finds it, a term starting with a mark or stopping before one (``สี`` finds ``สี่``) included,
and a term never matches where the text does not hold it. Clusters would have missed those, and
cannot be told reliably for Khmer and Myanmar stacks without more than Python's standard library.
Zero-width spaces and joiners, which editors put between words of these scripts as line-break hints
or to shape a letter, are left out between two of their characters: they can be neither seen nor
typed in a search.

A second table rather than more columns in ``images_fts``: FTS5's bm25 normalises by the whole row's
length, so bigram columns there would have changed the ranking of Latin words in rows with CJK.
Bigrams are computed here, in Python, so no SQL function is needed to write the file: the triggers
(an image's text changed or the image went: its ``cjk_grams`` row goes, with its index entries) are
plain SQL that any SQLite tool runs. Our code writes the row again after each change
(cjkindex.py); a change made by another tool is picked up by ``optimize()``.
"""

from __future__ import annotations

import re
import unicodedata

# Han (with its extensions, radicals, compatibility forms and marks such as 々 〆 〇), Hiragana,
# Katakana (ー included), Bopomofo and Hangul (syllables and jamo). Text is NFKC-normalised first:
# half-width katakana and hangul, ㍻ and the like become these.
_RANGES = (
    (0x1100, 0x11FF), (0x2E80, 0x2FDF), (0x3005, 0x3007), (0x3021, 0x3029), (0x3031, 0x3035),
    (0x303B, 0x303C), (0x3040, 0x30FF), (0x3100, 0x318F), (0x31A0, 0x31BF), (0x31F0, 0x31FF),
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xA960, 0xA97F), (0xAC00, 0xD7FF), (0xF900, 0xFAFF),
    (0x20000, 0x3134F),
)
# South-East Asian scripts: Thai and Lao, Myanmar (with its Extended-A and -B blocks), Khmer (with its
# symbols). Their words reach the bigram index since migration 8.
_SEA_RANGES = (
    (0x0E00, 0x0EFF), (0x1000, 0x109F), (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F), (0x1780, 0x17FF), (0x19E0, 0x19FF),
)


def _class(ranges: tuple[tuple[int, int], ...]) -> str:
    return "[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in ranges) + "]"


_UNSPACED = re.compile(_class(_RANGES + _SEA_RANGES))  # a word holding one goes to the bigram index
_SEA = re.compile(_class(_SEA_RANGES))
_PLAIN_WORD = re.compile(r"[^\W_]+")  # letters and digits: the characters unicode61 keeps in a token
_SEA_MARKS = "".join(
    chr(c) for a, b in _SEA_RANGES for c in range(a, b + 1) if unicodedata.category(chr(c)).startswith("M")
)
_WORD = re.compile(rf"(?:[^\W_]|[{_SEA_MARKS}])+")  # and the marks of those scripts
# soft hyphen, zero-width space, non-joiner and joiner, word joiner, BOM: between two characters of those
_INVISIBLE = re.compile(rf"(?<={_SEA.pattern})[\u00ad\u200b-\u200d\u2060\ufeff]+(?={_SEA.pattern})")
_TOKEN = {c: 0xF0000 + c for a, b in _SEA_RANGES for c in range(a, b + 1)}  # private use, plane 15
FIELDS = ("caption", "tags_text", "name", "folder")  # the columns of cjk_grams and images_cjk, as images_fts
CjkRow = tuple[int, str, str, str, str]  # id, then FIELDS in bigram form


def _words(text: str) -> list[str]:
    """The words of ``text`` (NFKC: "ｶﾒﾗ" and "カメラ", and macOS's decomposed names, are one)."""
    text = unicodedata.normalize("NFKC", text)
    if not _SEA.search(text):
        return _PLAIN_WORD.findall(text)
    return _WORD.findall(_INVISIBLE.sub("", text))


def has_cjk(text: str) -> bool:
    """Whether a word of ``text`` holds CJK, or Thai, Lao, Khmer or Myanmar (a lone "・" is
    punctuation, as for unicode61)."""
    return not text.isascii() and any(_UNSPACED.search(w) for w in _words(text))


def has_sea(text: str) -> bool:
    """Whether a word of ``text`` holds Thai, Lao, Khmer or Myanmar (the rows migration 8 indexes)."""
    return not text.isascii() and any(_SEA.search(w) for w in _words(text))


def _grams(word: str, *, whole: bool) -> list[str]:
    """The bigrams of ``word``, then its last character when the word ends there (``whole``); Thai,
    Lao, Khmer and Myanmar characters written as the private-use ones unicode61 keeps whole."""
    word = word.translate(_TOKEN)
    grams = [word[k : k + 2] for k in range(len(word) - 1)]
    if whole or len(word) == 1:
        grams.append(word[-1])
    return grams


def index_text(text: str) -> str:
    """The bigram form of one field ('' when it holds no CJK: most fields, at the cost of isascii)."""
    if text.isascii():
        return ""
    return " ".join(g for w in _words(text) if _UNSPACED.search(w) for g in _grams(w, whole=True))


def term_match(value: str) -> tuple[str, list[str]]:
    """For a query term holding CJK: the ``images_cjk`` FTS5 phrase that finds it inside any word,
    and the Latin words the term also holds ("東京-tower"), which the caller matches as words.
    Only for a term where ``has_cjk``."""
    words = _words(value)
    cjk = [w for w in words if _UNSPACED.search(w)]
    grams = [g for k, w in enumerate(cjk) for g in _grams(w, whole=k < len(cjk) - 1)]
    prefix = len(cjk[-1]) == 1  # one character: every bigram it starts, and the word it ends
    return '"' + " ".join(grams) + '"' + ("*" if prefix else ""), [w for w in words if not _UNSPACED.search(w)]


def grams_row(image_id: int, caption: str, tags_text: str, name: str, folder: str) -> CjkRow | None:
    """The cjk_grams row of an image, or None when none of its text holds CJK."""
    row = (index_text(caption), index_text(tags_text), index_text(name), index_text(folder))
    return (image_id, *row) if any(row) else None
