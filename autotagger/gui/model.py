"""The grid's list model: rows fetched lazily in pages from the catalogue, on the catalogue thread.

``canFetchMore``/``fetchMore`` ask for the next page; the rows are inserted when the answer comes
back. A new query bumps a generation number so that late pages of an old query are dropped.
``reload`` brings the rows loaded up to date in place when the catalogue changed (changes.py).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

from autotagger.gui.thumbs import ThumbnailProvider
from autotagger.gui.worker import CatalogClient

HitRole = Qt.ItemDataRole.UserRole + 1
PathRole = Qt.ItemDataRole.UserRole + 2
IdRole = Qt.ItemDataRole.UserRole + 3

Index = QModelIndex | QPersistentModelIndex


def _search(catalog: Any, query: str, limit: int, offset: int) -> list[Any]:
    return list(catalog.search(query, limit=limit, offset=offset))


def _count(catalog: Any, query: str) -> int:
    return int(catalog.count(query))


def _reload(catalog: Any, query: str, loaded: int, total: int, page: int) -> tuple[int, list[Any]]:
    """The query's count now and its first rows: as many as were loaded, plus those added since
    (the count grew by them), at least a page."""
    now = int(catalog.count(query))
    limit = max(loaded + max(0, now - total), page)
    return now, list(catalog.search(query, limit=limit, offset=0))


def diff_rows(old: list[Any], new: list[Any]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes turning the rows ``old`` into ``new``, matched by image id (a row whose
    photo was edited or moved is the same row)."""
    import difflib

    a, b = [h.id for h in old], [h.id for h in new]
    if a == b:
        return [("equal", 0, len(a), 0, len(b))]
    return list(difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes())


def _name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


class ImageListModel(QAbstractListModel):
    totalChanged = Signal(int)  # number of images matching the query (-1 until known)
    queryFailed = Signal(str)
    pageLoaded = Signal()
    rowsAboutToReload = Signal()  # reload: rows are about to come in or go (the view's selection may move)
    rowsReloaded = Signal()  # ... and have

    def __init__(
        self, client: CatalogClient, thumbs: ThumbnailProvider, page_size: int = 300, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._thumbs = thumbs
        self.page_size = page_size
        self.query = ""
        self.total = -1
        self._rows: list[Any] = []
        self._row_of: dict[str, int] = {}
        self._generation = 0
        self._loading = False
        self._exhausted = False
        self._error = ""
        self._reloading = self._reload_again = False
        thumbs.ready.connect(self._thumb_ready)

    # -- query -----------------------------------------------------------------------------------
    def set_query(self, query: str) -> None:
        self._thumbs.retry_failed()  # a file that was missing may be back: a new query tries again
        self.beginResetModel()
        self.query = query
        self._generation += 1
        self._rows = []
        self._row_of = {}
        self._loading = False
        self._exhausted = False
        self._reloading = self._reload_again = False
        self.total = -1
        self._error = ""
        self.endResetModel()
        self.totalChanged.emit(-1)  # the old count is not this query's: "searching…" until it comes
        gen = self._generation
        self._client.call(
            _count, query, on_done=lambda n: self._got_count(gen, n), on_error=lambda m: self._failed(gen, m)
        )
        self.fetchMore(QModelIndex())

    def refresh(self) -> None:
        self.set_query(self.query)

    def reload(self) -> None:
        """The rows of this query as the catalogue has them now, changed in place rather than reset:
        a row that stays is the same row (the view keeps it selected, current, where it was), an
        edited or moved photo's row changes, new photos come in and gone ones go; the count follows.
        Asked while a page or a reload is on its way: once more after it. A query that failed
        stays failed (a change elsewhere does not mend it)."""
        if self._error:
            return
        if self._loading or self._reloading or self.total < 0:
            self._reload_again = True
            return
        self._reloading, self._reload_again = True, False
        gen = self._generation
        self._client.call(
            _reload, self.query, len(self._rows), self.total, self.page_size,
            on_done=lambda answer: self._got_reload(gen, *answer), on_error=lambda m: self._failed(gen, m),
        )

    def _got_reload(self, gen: int, total: int, hits: list[Any]) -> None:
        if gen != self._generation:
            return
        self._reloading = False
        self._exhausted = len(hits) >= total  # else the next page is fetched as the view scrolls
        ops = diff_rows(self._rows, hits)
        moving = any(op[0] != "equal" for op in ops)  # rows come or go (else they only change in place)
        if moving:
            self.rowsAboutToReload.emit()
        for op, i1, i2, j1, j2 in reversed(ops):  # from the end: i1, i2 stay true
            if op == "equal":
                for k in range(i2 - i1):
                    if self._rows[i1 + k] != hits[j1 + k]:
                        self._rows[i1 + k] = hits[j1 + k]
                        idx = self.index(i1 + k)
                        self.dataChanged.emit(idx, idx)
                continue
            if i2 > i1:
                self.beginRemoveRows(QModelIndex(), i1, i2 - 1)
                del self._rows[i1:i2]
                self.endRemoveRows()
            if j2 > j1:
                self.beginInsertRows(QModelIndex(), i1, i1 + j2 - j1 - 1)
                self._rows[i1:i1] = hits[j1:j2]
                self.endInsertRows()
        self._row_of = {hit.path: row for row, hit in enumerate(self._rows)}
        if moving:
            self.rowsReloaded.emit()
        if total != self.total:
            self.total = total
            self.totalChanged.emit(total)
        self._again()

    def _again(self) -> None:
        if self._reload_again:
            self.reload()

    @property
    def error(self) -> str:
        """Why the current query failed ("" while it has not)."""
        return self._error

    def _got_count(self, gen: int, n: int) -> None:
        if gen == self._generation and not self._error:
            self.total = n
            self.totalChanged.emit(n)
            self._again()

    def _failed(self, gen: int, message: str) -> None:
        if gen == self._generation:
            self._loading = self._reloading = self._reload_again = False
            self._exhausted = True
            if not self._error:  # the count and the first page both fail: say it once
                self._error = message
                self.total = -1
                self.queryFailed.emit(message)

    # -- lazy paging -----------------------------------------------------------------------------
    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted and not self._loading and not self._reloading

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent):
            return
        self._loading = True
        gen, offset = self._generation, len(self._rows)
        self._client.call(
            _search,
            self.query,
            self.page_size,
            offset,
            on_done=lambda hits: self._got_page(gen, offset, hits),
            on_error=lambda m: self._failed(gen, m),
        )

    def _got_page(self, gen: int, offset: int, hits: list[Any]) -> None:
        if gen != self._generation or offset != len(self._rows):
            return
        self._loading = False
        self._exhausted = len(hits) < self.page_size
        if hits:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(hits) - 1)
            for i, hit in enumerate(hits):
                self._row_of[hit.path] = first + i
            self._rows.extend(hits)
            self.endInsertRows()
        self.pageLoaded.emit()
        self._again()

    @property
    def loading(self) -> bool:
        return self._loading

    @property
    def exhausted(self) -> bool:
        return self._exhausted

    # -- model -----------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def hit(self, row: int) -> Any:
        return self._rows[row]

    def row_of(self, path: str) -> int:
        return self._row_of.get(path, -1)

    def update_hit(self, path: str, **changes: Any) -> None:
        """Reflect an edit made elsewhere (caption, tags) without re-querying."""
        import dataclasses

        row = self._row_of.get(path, -1)
        if row < 0:
            return
        try:
            self._rows[row] = dataclasses.replace(self._rows[row], **changes)
        except (TypeError, ValueError):
            return
        idx = self.index(row)
        self.dataChanged.emit(idx, idx)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        hit = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return _name(hit.path)
        if role == Qt.ItemDataRole.DecorationRole:
            pm = self._thumbs.get(hit.path)
            return pm if pm is not None else self._thumbs.placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            tags = ", ".join(hit.tags) if hit.tags else ""
            parts = [hit.path, hit.caption or "", tags, self._thumbs.describe_error(hit.path)]
            return "\n".join(p for p in parts if p)
        if role == HitRole:
            return hit
        if role == PathRole:
            return hit.path
        if role == IdRole:
            return hit.id
        return None

    def _thumb_ready(self, path: str) -> None:
        row = self._row_of.get(path, -1)
        if row >= 0:
            idx = self.index(row)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])


class ThumbnailDelegate(QStyledItemDelegate):
    """Every grid cell alike, whatever the thumbnail's shape: the thumbnail (never enlarged)
    centred in an ``edge`` x ``edge`` box, the name elided on one line under it, on the same line
    in every cell. The view can then lay items out uniformly (``setUniformItemSizes``)."""

    def __init__(self, edge: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.edge = edge

    def cell_size(self, option: QStyleOptionViewItem) -> QSize:
        return QSize(self.edge + 8, self.edge + option.fontMetrics.height() + 10)

    def initStyleOption(self, option: QStyleOptionViewItem, index: Index) -> None:
        super().initStyleOption(option, index)
        option.decorationSize = QSize(self.edge, self.edge)
        option.decorationAlignment = Qt.AlignmentFlag.AlignCenter
        option.displayAlignment = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
        option.textElideMode = Qt.TextElideMode.ElideMiddle
        option.features &= ~QStyleOptionViewItem.ViewItemFeature.WrapText
        option.decorationPosition = QStyleOptionViewItem.Position.Top

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return self.cell_size(option)
