"""What every connection to a catalogue is set to, and what a writer does to the file it opens: one
piece of code for the Catalog (_base.py) and for the upgrade a reader makes of an older catalogue
(upgrade.py), so that the two cannot drift apart: a file a reader upgraded is one a writer made."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from autotagger.catalog.errors import CatalogError
from autotagger.catalog.schema import migrate, schema_version

#: The most a catalogue's WAL file keeps on disk once a checkpoint has emptied it (bytes). Without it
#: SQLite reuses the WAL at its high-water mark for good: a big import left tens of MB behind for as long
#: as the service ran (the soak run, benchmarks/results/soak-cpu-2026-12-05.txt). Big enough that a
#: busy writer still reuses the file rather than growing and cutting it every transaction (the soak's
#: WAL sat at 4-11 MB between its big waves).
WAL_SIZE_LIMIT = 16 * 2**20


class ForeignDatabase(CatalogError):
    """The file is an SQLite database with tables of its own and no schema of ours."""


class WalRefused(CatalogError):
    """The file could not be switched to WAL mode (each opener says so in its own words)."""


def configure(conn: sqlite3.Connection, busy_ms: int, path: Path | str) -> int:
    """The settings of a connection, a reader's or a writer's; returns the file's schema version.
    Raises ForeignDatabase, before anything is written, for another program's SQLite file."""
    conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MiB of page cache per connection
    # every connection, not only the writer's: the one that restarts the WAL after a checkpoint cuts it
    # back, and the service writes from several threads, each with its own connection
    conn.execute(f"PRAGMA journal_size_limit = {int(WAL_SIZE_LIMIT)}")
    version = schema_version(conn)
    if version == 0 and conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone() is not None:
        # tables, but none of ours: a Lightroom catalogue (.lrcat), a digiKam or Photos database given
        # as --catalog. A writer would switch it to WAL and add our tables to it.
        raise ForeignDatabase(
            f"{path} is another program's SQLite database, not an autotagger catalogue; it was left "
            "unchanged (give --catalog a new file, or an autotagger catalogue)"
        )
    return version


def open_writer(conn: sqlite3.Connection, path: Path) -> Path | None:
    """Make the connection (``configure``d) the writer's: WAL, so that readers and the writer never
    wait for each other; synchronous NORMAL, safe with WAL; then the schema brought up to date, with
    its checks and backup (schema.migrate). Returns the backup made, None when none was needed. Raises
    WalRefused, what ``migrate`` raises, and sqlite3.Error as SQLite raises it (each caller words it)."""
    if str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower() != "wal":
        raise WalRefused(f"catalogue {path}: cannot switch to WAL mode")
    conn.execute("PRAGMA synchronous = NORMAL")
    return migrate(conn, path)
