"""Search query syntax -> a safe, parameterised description of what to match.

Free words (bm25 ranked; the query's last term, the word being typed, is prefix-matched, earlier
words match whole words), "quoted phrases", tag:outdoors (any level),
tag:setting|outdoors (that path and its children), folder:PATH (and below), after:DATE,
before:DATE, camera:TEXT; a leading ``-`` negates words, phrases, tags, folders and cameras.
Inside double quotes ``\\"`` is a quote; backslashes count only before a quote (``\\\\"``: a
backslash, then the closing quote), as on a Windows command line (:func:`quote_value`).
A word holding Chinese, Japanese or Korean (or Thai, Lao, Khmer, Myanmar) is found inside longer runs
of those (``タワー`` in ``東京タワーの夜景``, ``ทะเล`` in ``ชายหาดทะเลสวย``), through the bigram index (cjk.py),
wherever it is in the query.
User text only ever reaches FTS5 inside a double-quoted string with quotes doubled.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from autotagger.catalog.cjk import has_cjk, term_match
from autotagger.catalog.errors import QueryError

KEYS = ("tag", "folder", "after", "before", "camera")
_KEY_RE = re.compile(r"([A-Za-z]+):")
_DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_WORD_CHAR = re.compile(r"\w")
_PLAIN = re.compile(r"[A-Za-z0-9]+")  # one unicode61 token whatever the options: safe to expand
# More terms than this is no search a person types; each filter term is one more condition per row
# read (a hundred -tag: terms already take seconds at a million images), and SQLite refuses an
# expression deeper than 1,000 ("Expression tree is too large").
MAX_TERMS = 100


@dataclass
class ParsedQuery:
    words: list[str] = field(default_factory=list)  # FTS5 terms, already quoted
    not_words: list[str] = field(default_factory=list)
    cjk: list[str] = field(default_factory=list)  # FTS5 phrases of bigrams for images_cjk (cjk.py)
    not_cjk: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    not_tags: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    not_folders: list[str] = field(default_factory=list)
    cameras: list[str] = field(default_factory=list)
    not_cameras: list[str] = field(default_factory=list)
    symbols: list[str] = field(default_factory=list)  # emoji and other symbols: no FTS token, matched as text
    not_symbols: list[str] = field(default_factory=list)
    after: str | None = None
    before: str | None = None
    prefix: str | None = None  # the prefix-matched last word (lower case) when it is plain ASCII letters/digits

    def match_with_prefix(self, expansion: str) -> str | None:
        """``fts_match`` with the prefix term (the last word) replaced by the FTS5 ``expansion``."""
        if self.prefix is None or not self.words:
            return self.fts_match
        return ParsedQuery(words=[*self.words[:-1], expansion], not_words=self.not_words).fts_match

    @property
    def fts_match(self) -> str | None:
        """The FTS5 expression for the positive terms (minus the negated ones), or None."""
        return _match(self.words, self.not_words)

    @property
    def fts_exclude(self) -> str | None:
        """For a query with only negated words: the expression whose matches are excluded."""
        return _exclude(self.words, self.not_words)

    @property
    def cjk_match(self) -> str | None:
        """As ``fts_match``, for the CJK terms and the bigram index images_cjk."""
        return _match(self.cjk, self.not_cjk)

    @property
    def cjk_exclude(self) -> str | None:
        return _exclude(self.cjk, self.not_cjk)

    @property
    def empty(self) -> bool:
        return not any(
            (self.words, self.not_words, self.cjk, self.not_cjk, self.tags, self.not_tags, self.folders,
             self.not_folders, self.cameras, self.not_cameras, self.symbols, self.not_symbols, self.after,
             self.before)
        )


def _match(words: list[str], not_words: list[str]) -> str | None:
    if not words:
        return None
    expr = " AND ".join(words)
    if not_words:
        expr = f"({expr}) NOT ({' OR '.join(not_words)})"
    return expr


def _exclude(words: list[str], not_words: list[str]) -> str | None:
    if words or not not_words:
        return None
    return " OR ".join(not_words)


def fts_string(text: str, *, prefix: bool) -> str:
    return '"' + text.replace('"', '""') + '"' + ("*" if prefix else "")


def normalise_tag(text: str) -> str:
    return "|".join(p.strip() for p in text.split("|") if p.strip())


def fold_tag(path: str) -> str:
    """The key two spellings of one tag share (tag_names.fold): Unicode case folded, NFC on both
    sides, so that "Église", "ÉGLISE" and "église" typed decomposed (e + U+0301, as macOS does) are
    one tag (SQLite's NOCASE folds ASCII letters only)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", path).casefold())


def normalise_folder(text: str) -> str:
    """``folder:`` as the catalogue stores folders: absolute (relative to the current folder, ``~``
    expanded), ``.``/``..`` and trailing slashes gone. Symlinks are kept: see ``folder_forms``."""
    return os.path.abspath(os.path.expanduser(text.strip()))


def folder_forms(folder: str) -> tuple[str, ...]:
    """The forms of a normalised folder to match: as given, and with its symlinks resolved. The
    watcher stores paths as it was given them (abspath, not realpath), so a photo reached through a
    symlinked folder is stored under either form; a path typed through a link finds the other."""
    real = os.path.realpath(folder)
    return (folder,) if real == folder else (folder, real)


def _parse_date(key: str, text: str) -> str:
    if _DATE_RE.match(text):
        fmt = {4: "%Y", 7: "%Y-%m", 10: "%Y-%m-%d"}[len(text)]
        try:
            datetime.strptime(text, fmt)
            return text
        except ValueError:
            pass
    raise QueryError(f"bad date in {key}:{text} (use YYYY, YYYY-MM or YYYY-MM-DD)")


def quote_value(text: str) -> str:
    """``text`` as one value of a query term (after ``tag:``, ``folder:``, ``camera:``), bare when
    it can be (``subject|cat``), else in quotes, escaped as :func:`_read_quoted` reads them back: the
    one way the GUI writes a tag or folder name into the search box, so that any name it shows can be
    searched."""
    if text and not any(c.isspace() or c == '"' for c in text):
        return text  # a bare value keeps its backslashes as typed (no escapes outside quotes)
    out: list[str] = []
    slashes = 0
    for ch in text:
        if ch == "\\":
            slashes += 1
            continue
        if ch == '"':  # the backslashes before it doubled, and one for the quote itself
            out.append("\\" * (2 * slashes + 1) + '"')
        else:
            out.append("\\" * slashes + ch)
        slashes = 0
    return '"' + "".join(out) + "\\" * (2 * slashes) + '"'  # before the closing quote: doubled


def _read_quoted(query: str, i: int) -> tuple[str, int]:
    """The quoted part opening at ``i``: (its text, the index after its closing quote). Backslashes
    count only before a quote, as in a Windows command line: ``\\"`` is a quote, ``\\\\"`` a
    backslash then the closing quote, and every other backslash is kept as typed, so that a quoted
    Windows or network path (``"C:\\Photos\\2024"``, ``"\\\\nas\\photos"``) reads as typed."""
    out: list[str] = []
    j, n = i + 1, len(query)
    while j < n:
        k = j
        while k < n and query[k] == "\\":
            k += 1
        slashes = k - j
        if k < n and query[k] == '"':
            out.append("\\" * (slashes // 2))
            if slashes % 2 == 0:  # the closing quote
                return "".join(out), k + 1
            out.append('"')
            j = k + 1
            continue
        if slashes:
            out.append("\\" * slashes)
            j = k
            continue
        out.append(query[j])
        j += 1
    raise QueryError("unbalanced quote in query")


def _read_value(query: str, i: int) -> tuple[str, bool, int]:
    """Read a bare or quoted value from ``i``: (text, was_quoted, next index)."""
    n = len(query)
    out: list[str] = []
    quoted = False
    while i < n and not query[i].isspace():
        if query[i] == '"':
            text, i = _read_quoted(query, i)
            out.append(text)
            quoted = True
        else:
            out.append(query[i])
            i += 1
    return "".join(out), quoted, i


def tokenize(query: str) -> list[tuple[bool, str | None, str, bool]]:
    """(negated, key or None, value, quoted) for each term of ``query``."""
    terms: list[tuple[bool, str | None, str, bool]] = []
    i, n = 0, len(query)
    while i < n:
        if query[i].isspace():
            i += 1
            continue
        neg = False
        if query[i] == "-" and i + 1 < n and not query[i + 1].isspace():
            neg, i = True, i + 1
        key = None
        m = _KEY_RE.match(query, i)
        if m and m.group(1).lower() in KEYS:
            key = m.group(1).lower()
            i = m.end()
        value, quoted, i = _read_value(query, i)
        if key is not None and not value.strip():
            raise QueryError(f"empty {key}: in query")
        terms.append((neg, key, value, quoted))
    return terms


def _is_symbol(text: str) -> bool:
    """No word character, but a symbol (emoji, ☕, ©): the full-text index has no token for it."""
    return not _WORD_CHAR.search(text) and any(unicodedata.category(ch).startswith("S") for ch in text)


def parse_query(query: str) -> ParsedQuery:
    """The terms of ``query`` (syntax: the module's docstring). A value with spaces or quotes goes in
    double quotes, where ``\\"`` is a quote and backslashes count only before a quote (``folder:"/photos/Mike's \\"Party\\""``,
    ``tag:"nickname|\\"Bear\\""``); :func:`quote_value` writes a value so."""
    if "\x00" in query:
        raise QueryError("query contains a NUL character")
    q = ParsedQuery()
    every = tokenize(query)
    if len(every) > MAX_TERMS:
        raise QueryError(f"query too long: {len(every)} terms, the most is {MAX_TERMS}")
    for neg, key, value, _ in every:
        if key is None and _is_symbol(value):
            (q.not_symbols if neg else q.symbols).append(value)
    # punctuation is no term ("*" alone: everything, as an empty query)
    terms = [t for t in every if t[1] is not None or _WORD_CHAR.search(t[2])]
    for k, (neg, key, value, quoted) in enumerate(terms):
        if key is None:
            # only the last term is the word still being typed: prefix-match it, earlier words are
            # whole words (a whole-word match reads only the newest postings; a prefix merges them all)
            prefix = k == len(terms) - 1 and not quoted and not neg
            if has_cjk(value):  # found inside longer runs, which covers the prefix of the last term
                phrase, latin = term_match(value)
                (q.not_cjk if neg else q.cjk).append(phrase)
                if not neg:  # "東京-tower": tower as a word of its own (-東京-tower leaves out what has 東京)
                    q.words.extend(fts_string(w, prefix=prefix and j == len(latin) - 1) for j, w in enumerate(latin))
                continue
            (q.not_words if neg else q.words).append(fts_string(value, prefix=prefix))
            if prefix and _PLAIN.fullmatch(value):
                q.prefix = value.lower()
        elif key == "tag":
            tag = normalise_tag(value)
            if not tag:
                raise QueryError(f"empty tag: in query ({value!r})")
            (q.not_tags if neg else q.tags).append(tag)
        elif key == "folder":
            folder = normalise_folder(value)
            (q.not_folders if neg else q.folders).append(folder)
        elif key == "camera":
            (q.not_cameras if neg else q.cameras).append(value.strip())
        else:
            if neg:
                raise QueryError(f"-{key}: cannot be negated (use {'before' if key == 'after' else 'after'}:)")
            date = _parse_date(key, value.strip())
            if key == "after":
                q.after = max(q.after or date, date)
            else:
                q.before = min(q.before or date, date)
    return q
