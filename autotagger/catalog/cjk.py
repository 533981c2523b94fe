"""Chinese, Japanese and Korean words found inside longer runs of text.

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
_CJK = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in _RANGES) + "]")
_WORD = re.compile(r"[^\W_]+")  # letters and digits: the characters unicode61 keeps in a token
FIELDS = ("caption", "tags_text", "name", "folder")  # the columns of cjk_grams and images_cjk, as images_fts
CjkRow = tuple[int, str, str, str, str]  # id, then FIELDS in bigram form


def _words(text: str) -> list[str]:
    """The words of ``text`` (NFKC: "ｶﾒﾗ" and "カメラ", and macOS's decomposed names, are one)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text))


def has_cjk(text: str) -> bool:
    """Whether a word of ``text`` holds CJK (a lone "・" is punctuation, as for unicode61)."""
    return not text.isascii() and any(_CJK.search(w) for w in _words(text))


def _grams(word: str, *, whole: bool) -> list[str]:
    """The bigrams of ``word``, then its last character when the word ends there (``whole``)."""
    grams = [word[k : k + 2] for k in range(len(word) - 1)]
    if whole or len(word) == 1:
        grams.append(word[-1])
    return grams


def index_text(text: str) -> str:
    """The bigram form of one field ('' when it holds no CJK: most fields, at the cost of isascii)."""
    if text.isascii():
        return ""
    return " ".join(g for w in _words(text) if _CJK.search(w) for g in _grams(w, whole=True))


def term_match(value: str) -> tuple[str, list[str]]:
    """For a query term holding CJK: the ``images_cjk`` FTS5 phrase that finds it inside any word,
    and the Latin words the term also holds ("東京-tower"), which the caller matches as words.
    Only for a term where ``has_cjk``."""
    words = _words(value)
    cjk = [w for w in words if _CJK.search(w)]
    grams = [g for k, w in enumerate(cjk) for g in _grams(w, whole=k < len(cjk) - 1)]
    prefix = len(cjk[-1]) == 1  # one character: every bigram it starts, and the word it ends
    return '"' + " ".join(grams) + '"' + ("*" if prefix else ""), [w for w in words if not _CJK.search(w)]


def grams_row(image_id: int, caption: str, tags_text: str, name: str, folder: str) -> CjkRow | None:
    """The cjk_grams row of an image, or None when none of its text holds CJK."""
    row = (index_text(caption), index_text(tags_text), index_text(name), index_text(folder))
    return (image_id, *row) if any(row) else None
