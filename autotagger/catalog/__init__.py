"""The catalogue: a SQLite library of every tagged image, with fast full-text and tag search."""

from autotagger.catalog.catalog import Catalog
from autotagger.catalog.errors import AlreadyRunning, CatalogDamaged, CatalogError, QueryError
from autotagger.catalog.fscheck import filesystem_type, is_network_fs, network_filesystem
from autotagger.catalog.lock import WriterLock
from autotagger.catalog.records import (
    CatalogStatus,
    FileInfo,
    FolderRecord,
    ImageRecord,
    Job,
    SearchHit,
    TagRecord,
)

__all__ = [
    "AlreadyRunning",
    "Catalog",
    "CatalogDamaged",
    "CatalogError",
    "CatalogStatus",
    "FileInfo",
    "FolderRecord",
    "ImageRecord",
    "Job",
    "QueryError",
    "SearchHit",
    "TagRecord",
    "WriterLock",
    "filesystem_type",
    "is_network_fs",
    "network_filesystem",
]
