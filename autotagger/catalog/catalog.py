"""The Catalog: one SQLite file shared by the GUI, the service and the CLI. One instance per thread."""

from __future__ import annotations

from autotagger.catalog.edits import EditsMixin
from autotagger.catalog.images import ImagesMixin
from autotagger.catalog.jobs import JobsMixin
from autotagger.catalog.search import SearchMixin


class Catalog(ImagesMixin, EditsMixin, JobsMixin, SearchMixin):
    """``Catalog(path)`` creates or upgrades the file (WAL, migrations with a backup first);
    ``Catalog(path, readonly=True)`` only reads and never creates. See the mixins for the calls."""

    def __enter__(self) -> Catalog:
        return self
