"""Turns a parsed query into SQL that stays fast on a million images.

- Words go to FTS5 (``MATCH``, ranked by bm25). Ranking every match of a common word is
  O(matches), so hits come in blocks of ``RANK_WINDOW``: the newest block of hits (after the
  filters) ranked by bm25, then the next block. With fewer hits than that, which is most
  searches, the ranking is exact. ``count`` is always exact.
- Filters that can use an index (a tag, a date range, a folder) are "drivers": when the most
  selective one matches fewer than ~sqrt(100 x images) of them (at most ``DRIVE_LIMIT``; reading
  that many candidates costs about what scanning for a page of hits does) the query starts from it (and an FTS
  query is confined to its rowid range); otherwise images are scanned newest first until the
  page is full, which is quick exactly because the filter is common.
- Chinese, Japanese and Korean (and Thai, Lao, Khmer, Myanmar) words go to their bigram index
  ``images_cjk`` (cjk.py), a second FTS5 table. With words of one kind, that kind's table drives and
  ranks (Latin-only queries are planned exactly as before). With both, the kind whose words match
  fewer rows (counted up to the drive limit) is a filter (``fts_filters``): its rows collected once,
  checked on the rowid before the images row is read; the other kind's table drives and ranks (the
  Latin one when both are common). A filter can also look each row visited up ("probe", for -words:
  a page stops early), but a lookup costs 25 to 100 times what collecting a row does, and two words
  seldom found together make a page visit every row of the driving one.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from autotagger.catalog._base import folder_range
from autotagger.catalog.errors import CatalogError, QueryError
from autotagger.catalog.query import ParsedQuery, fold_tag, folder_forms, parse_query
from autotagger.catalog.vocab import VocabMixin

DRIVE_LIMIT = 20_000
RANK_WINDOW = 500
# what SQLite says of a statement past its compiled-in limits (SQLITE_MAX_EXPR_DEPTH,
# SQLITE_MAX_VARIABLE_NUMBER: 32,766 in most builds, 999 before 3.32)
SQLITE_LIMITS = ("expression tree is too large", "too many sql variables", "parser stack overflow")


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def in_folders(column: str, n: int) -> str:
    """``column`` in (or below) any of ``n`` folders, each given as folder_range's three values."""
    return " OR ".join(f"{column} = ? OR ({column} >= ? AND {column} < ?)" for _ in range(n))


@dataclass
class Plan:
    match: str | None  # FTS5 expression (positive words) for ``table``, or None
    table: str = "images_fts"  # the FTS5 table ``f`` that ``match`` searches and ranks: or images_cjk
    where: list[str] = field(default_factory=list)  # conditions on images ``i``
    params: list[Any] = field(default_factory=list)
    driver: tuple[str, tuple[Any, ...]] | None = None  # SELECT of candidate image ids
    # (table, FTS5 expression, left out?, how): the matches of another FTS5 table than ``f`` that a hit
    # must be among (the other kind of words) or not (-words alone); how: "probe" each row, "collect"
    # the matches once, or "auto": collect them for a count (every row is visited), else probe
    fts_filters: list[tuple[str, str, bool, str]] = field(default_factory=list)
    empty: bool = False  # nothing can match


class PlannerMixin(VocabMixin):
    def _tag_ids_matching(self, tag: str) -> list[int]:
        """tag:a|b matches that path and its children; tag:b matches b at any level; in any case
        (tag_names.fold, see schema.py V5_TAG_FOLD), every spelling a v4 catalogue kept included."""
        c = self._conn
        key = fold_tag(tag)
        if "|" in tag:  # the path, then its children: from "a|b|" up to "a|b}" ("}" sorts right after "|")
            rows = c.execute(
                "SELECT id FROM tag_names WHERE fold = ? OR (fold >= ? AND fold < ?)", (key, key + "|", key + "}")
            )
        else:
            rows = c.execute("SELECT id FROM tag_names WHERE instr('|' || fold || '|', ?) > 0", (f"|{key}|",))
        return [int(r[0]) for r in rows]

    def _drive_limit(self) -> int:
        top = self._conn.execute("SELECT max(id) FROM images").fetchone()[0] or 0
        return min(DRIVE_LIMIT, max(1000, math.isqrt(100 * int(top))))

    def _estimate(self, sql: str, params: tuple[Any, ...], cap: int) -> int:
        """How many ids ``sql`` yields, counting no further than ``cap``."""
        row = self._conn.execute(f"SELECT count(*) FROM ({sql} LIMIT ?)", (*params, cap)).fetchone()
        return int(row[0])

    def _plan_words(self, q: ParsedQuery) -> Plan:
        """Which FTS5 table drives (and ranks) the words, and how the other's words filter."""
        latin, cjk = self._fts_match(q), q.cjk_match
        plan = Plan(match=latin)
        if cjk is not None and latin is None:  # CJK words alone drive and rank
            plan.table, plan.match = "images_cjk", cjk
        elif cjk is not None and latin is not None:
            # the words matching fewer rows are collected (~0.3 us a row), the others drive and rank
            # (~0.13 us a row scanned, until the page is full)
            cap = self._drive_limit()
            n = self._estimate("SELECT rowid FROM images_cjk WHERE images_cjk MATCH ?", (cjk,), cap)
            m = self._estimate("SELECT rowid FROM images_fts WHERE images_fts MATCH ?", (latin,), n + 1) if n else 0
            if n == 0 or m == 0:
                plan.empty = True
            elif m <= n and m < cap:
                plan.fts_filters.append(("images_fts", latin, False, "collect"))
                plan.table, plan.match = "images_cjk", cjk
            else:
                plan.fts_filters.append(("images_cjk", cjk, False, "collect"))
        elif q.cjk_exclude is not None:
            cap = self._drive_limit()
            n = self._estimate("SELECT rowid FROM images_cjk WHERE images_cjk MATCH ?", (q.cjk_exclude,), cap)
            if n > 0:
                plan.fts_filters.append(("images_cjk", q.cjk_exclude, True, "collect" if n < cap else "auto"))
        if q.fts_exclude is not None:
            plan.fts_filters.append(("images_fts", q.fts_exclude, True, "auto"))
        return plan

    def _plan(self, q: ParsedQuery) -> Plan:
        plan = self._plan_words(q)
        if plan.empty:
            return plan
        drivers: list[tuple[str, tuple[Any, ...]]] = []
        known: dict[int, int] = {}  # driver index -> its size, when the tag counts tell
        for tag in q.tags:
            ids = self._tag_ids_matching(tag)
            if not ids:
                plan.empty = True
                return plan
            marks = ",".join("?" * len(ids))
            plan.where.append(
                f"EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id AND t.tag_id IN ({marks}))"
            )
            plan.params.extend(ids)
            drivers.append((f"SELECT image_id AS id FROM image_tags WHERE tag_id IN ({marks})", tuple(ids)))
            known[len(drivers) - 1] = int(
                self._conn.execute(f"SELECT sum(n) FROM tag_names WHERE id IN ({marks})", ids).fetchone()[0] or 0
            )
        for tag in q.not_tags:
            ids = self._tag_ids_matching(tag)
            if ids:
                marks = ",".join("?" * len(ids))
                plan.where.append(
                    f"NOT EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id AND t.tag_id IN ({marks}))"
                )
                plan.params.extend(ids)
        for folders, neg in ((q.folders, False), (q.not_folders, True)):
            for folder in folders:
                forms = folder_forms(folder)
                ranges = tuple(value for form in forms for value in folder_range(form))
                cond = f"({in_folders('i.folder', len(forms))})"
                plan.where.append(f"NOT {cond}" if neg else cond)
                plan.params.extend(ranges)
                if not neg:
                    drivers.append((f"SELECT id FROM images WHERE {in_folders('folder', len(forms))}", ranges))
        for cameras, neg in ((q.cameras, False), (q.not_cameras, True)):
            for camera in cameras:
                cond = "i.camera LIKE ? ESCAPE '\\'"
                plan.where.append(f"coalesce(NOT {cond}, 1)" if neg else cond)
                plan.params.append(f"%{like_escape(camera)}%")
        for symbols, neg in ((q.symbols, False), (q.not_symbols, True)):
            for symbol in symbols:  # instr: a symbol has no case and no FTS token
                cond = "(instr(i.name, ?) > 0 OR instr(i.caption, ?) > 0 OR instr(coalesce(i.tags_text, ''), ?) > 0)"
                plan.where.append(f"NOT {cond}" if neg else cond)
                plan.params.extend((symbol, symbol, symbol))
        if q.after or q.before:
            conds, args = [], []
            if q.after:
                conds.append("captured_at >= ?")
                args.append(q.after)
            if q.before:
                conds.append("captured_at < ?")
                args.append(q.before)
            plan.where.extend(f"i.{cond}" for cond in conds)
            plan.params.extend(args)
            drivers.append((f"SELECT id FROM images WHERE {' AND '.join(conds)}", tuple(args)))
        best = cap = self._drive_limit()
        for k, driver in enumerate(drivers):
            n = known[k] if k in known else self._estimate(*driver, cap)
            if n == 0:
                plan.empty = True
                return plan
            if n < best:
                best, plan.driver = n, driver
        return plan

    def _run(self, plan: Plan, what: str, tail: str, tail_params: tuple[Any, ...]) -> list[Any]:
        """Rows of ``SELECT what ... tail`` for the plan (FTS table ``f`` and images ``i``)."""
        c = self._conn
        where, params = list(plan.where), list(plan.params)
        counting = what == "count(*)"
        table = plan.table
        # with an FTS5 table driving, a filter is checked on its rowid, before the images row is read (and
        # "+": SQLite would hand "f.rowid IN (...)" to FTS5, which then looks every value up)
        key, ref = ("+f.rowid", "f.rowid") if plan.match is not None else ("i.id", "i.id")
        for other, expr, out, how in plan.fts_filters:
            if how == "collect" or (how == "auto" and counting):  # the matches found once
                where.append(f"{key} {'NOT IN' if out else 'IN'} (SELECT rowid FROM {other} WHERE {other} MATCH ?)")
            else:  # only the rows visited (before the page is full) looked up
                where.append(f"{'NOT ' if out else ''}EXISTS (SELECT 1 FROM {other} WHERE {other} MATCH ? AND rowid = {ref})")
            params.append(expr)
        if plan.match is not None and counting and not where and plan.driver is None:
            # every index entry has its images row: count the index alone
            return c.execute(f"SELECT count(*) FROM {table} WHERE {table} MATCH ?", (plan.match,)).fetchall()
        if plan.match is not None:
            sql = f"SELECT {what} FROM {table} f CROSS JOIN images i ON i.id = f.rowid WHERE {table} MATCH ?"
            params.insert(0, plan.match)
            if plan.driver is not None:  # confine FTS to the rowid range of the selective filter
                lower, upper = c.execute(f"SELECT min(id), max(id) FROM ({plan.driver[0]})", plan.driver[1]).fetchone()
                where += ["f.rowid >= ?", "f.rowid <= ?"]
                params += [lower, upper]
        elif plan.driver is not None:
            sql = f"SELECT {what} FROM images i WHERE i.id IN ({plan.driver[0]})"
            params = [*plan.driver[1], *params]
        else:
            sql = f"SELECT {what} FROM images i WHERE 1"
        if where:
            sql += " AND " + " AND ".join(where)
        return c.execute(sql + tail, (*params, *tail_params)).fetchall()

    def _ranked(self, plan: Plan, what: str, limit: int, offset: int) -> list[Any]:
        """Word hits, best first, in blocks of RANK_WINDOW: the newest block of hits ranked by bm25
        (``what`` ends with the rank), then the next block, and so on. One pass over the index,
        bm25 computed only for the rows fetched, and pages that agree with each other."""
        w = RANK_WINDOW
        first, last = offset // w, (offset + limit - 1) // w
        rows = self._run(plan, what, " ORDER BY f.rowid DESC LIMIT ? OFFSET ?", ((last - first + 1) * w, first * w))
        ranked: list[Any] = []
        for start in range(0, len(rows), w):
            ranked += sorted(rows[start : start + w], key=lambda r: (r[-1], -r[0]))
        skip = offset - first * w
        return ranked[skip : skip + limit]

    def _query(self, query: str, what: str, tail: str = "", tail_params: tuple[Any, ...] = (),
               *, ranked: tuple[int, int] | None = None) -> list[Any]:
        """Run ``query``; ``ranked=(limit, offset)`` pages word hits by bm25 (see ``_ranked``)."""
        q = parse_query(query)
        try:
            self._prepare_vocab(q)
            with self._read():
                plan = self._plan(q)
                if plan.empty:
                    return []
                if ranked is not None and plan.match is not None:
                    return self._ranked(plan, what, *ranked)
                return self._run(plan, what, tail, tail_params)
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if "fts5" in text:
                raise QueryError(f"cannot search for {query!r}: {exc}") from None
            if any(limit in text for limit in SQLITE_LIMITS):  # below MAX_TERMS: tags matching thousands of tags
                raise QueryError(f"query too long for SQLite ({exc}): use fewer or narrower terms") from None
            raise CatalogError(f"search failed: {exc}") from None
