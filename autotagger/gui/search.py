"""The main window's search: the search box (debounced), the tag tree's clicks as ``tag:`` terms
in it, what the grid shows for it, and the side panels' counts and folders kept up to date."""

from __future__ import annotations

import re
import time

from PySide6.QtCore import QTimer

from autotagger.catalog.query import quote_value
from autotagger.gui import ops
from autotagger.gui.grid import no_match_text
from autotagger.gui.tagtree import NodeCounts, node_counts, tag_term
from autotagger.gui.window_parts import WindowParts

SEARCH_DEBOUNCE_MS = 250
#: After a tag count that took T seconds the next starts no sooner than TAGS_BACKOFF * T later,
#: and never more than TAGS_BACKOFF_MAX_S later (refresh_tags).
TAGS_BACKOFF = 3.0
TAGS_BACKOFF_MAX_S = 3.0


def _drop_term(text: str, term: str) -> str:
    """``text`` without the search term ``term`` (a whole term, wherever it is)."""
    return re.sub(r"(^|\s+)" + re.escape(term) + r"(?=\s|$)", "", text).strip()


def _has_term(text: str, term: str) -> bool:
    return re.search(r"(^|\s)" + re.escape(term) + r"(?=\s|$)", text) is not None


def folder_term(folder: str) -> str:
    """The query term for a folder: quoted when it has spaces or quotes (``quote_value``), so that a
    folder such as ``/photos/Mike's "Party"`` finds its photos, not another name's or a query error."""
    return f"folder:{quote_value(folder)}"


class SearchMixin(WindowParts):
    """Search and filters, a part of MainWindow (see WindowParts)."""

    def _setup_search(self) -> None:
        self._tree_terms: list[str] = []  # the tag: terms the tree put in the search box
        self._tags_busy = self._tags_again = False
        self._tags_started = 0.0  # time.monotonic() the counts were last asked for
        self._tags_wait = QTimer(self)  # backing off: the next count starts when it fires
        self._tags_wait.setSingleShot(True)
        self._tags_wait.timeout.connect(self.refresh_tags)
        self._tags_next = 0.0  # time.monotonic() before which no new count starts (refresh_tags)
        self.search.setPlaceholderText('Search: words, tag:setting|outdoors, folder:…, after:2024-01-01, camera:…')
        self.search.setClearButtonEnabled(True)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.apply_search)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.search.returnPressed.connect(self.apply_search)

    def apply_search(self) -> None:
        self._debounce.stop()
        query = self.search.text().strip()
        if query != self.model.query:
            self.model.set_query(query)  # the count says "searching…" at once: an old error goes
            self.detail.clear()

    def _total_changed(self, n: int) -> None:
        self.status.set_count(self.model.rowCount(), n)
        self.grid.set_empty_text(no_match_text(self.model.query) if n == 0 and self.model.query else "")
        if n >= 0:  # a catalogue with no photos at all: say what to do instead of an empty grid
            first_run = n == 0 and not self.model.query
            self.grid_stack.setCurrentWidget(self.empty if first_run else self.grid)

    def _query_failed(self, message: str) -> None:
        if self.said_already(message):  # the catalogue's own failure: the status bar says it already
            return
        self.status.clearMessage()  # the error shows where the count was, until the next search
        self.status.set_query_error(message)

    def filter_folder(self, folder: str) -> None:
        """A double-click on a folder in the Folders tab: search that folder (and below)."""
        self.search.setText(folder_term(folder))

    def filter_tag(self, path: str, add: bool = False) -> None:
        """A click on a tag in the tree shows that tag: it replaces the tags the tree put in the
        search before (words and terms typed stay); a click on the one tag shown clears it. With
        ``add`` (Ctrl-click) the tag is added to those shown (all must match), or taken out."""
        term = tag_term(path)
        text = self.search.text().strip()
        shown = _has_term(text, term)
        others = [t for t in self._tree_terms if t != term and _has_term(text, t)]  # still there
        if add:
            if shown:
                text = _drop_term(text, term)
                self._tree_terms = others
            else:
                text = f"{text} {term}".strip()
                self._tree_terms = [*others, term]
        else:
            for t in others:
                text = _drop_term(text, t)
            if shown and not others:  # the tag shown, clicked again: show all
                text = _drop_term(text, term)
                self._tree_terms = []
            else:
                text = text if shown else f"{text} {term}".strip()
                self._tree_terms = [term]
        if not self._tree_terms:
            self.tags.clearSelection()
        self.search.setText(text)
        self.apply_search()

    def refresh_side(self) -> None:
        self.refresh_tags()
        self.reader.call(ops.list_folders, on_done=self.folders.set_folders)

    def refresh_tags(self) -> None:
        """The tag tree's counts again, off the GUI thread; asked again while counting: once more
        after. While the service tags this is asked every second for hours: after a count that took
        a while the next waits (TAGS_BACKOFF times as long, at most TAGS_BACKOFF_MAX_S), so that a
        slow count on a big catalogue does not keep a core busy for the tree alone."""
        if self._tags_busy:
            self._tags_again = True
            return
        wait = self._tags_next - time.monotonic()
        if wait > 0:
            if not self._tags_wait.isActive():
                self._tags_wait.start(int(wait * 1000) + 1)
            return
        self._tags_busy, self._tags_again = True, False
        self._tags_started = time.monotonic()
        self.tag_reader.call(node_counts, on_done=self._got_tag_counts, on_error=self._tag_counts_failed)

    def _tags_counted(self) -> None:
        now = time.monotonic()
        self._tags_busy = False
        self._tags_next = now + min(TAGS_BACKOFF_MAX_S, TAGS_BACKOFF * (now - self._tags_started))

    def _got_tag_counts(self, counts: NodeCounts) -> None:
        self._tags_counted()
        self.tags.set_counts(counts)
        if self._tags_again:
            self.refresh_tags()

    def _tag_counts_failed(self, message: str) -> None:
        self._tags_counted()
        self.show_message(f"tags: {message}")
        if self._tags_again:
            self.refresh_tags()
