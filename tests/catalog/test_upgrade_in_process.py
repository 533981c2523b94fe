"""A reader that meets an older catalogue while another thread of the same process holds the writer
lock (the window's service, or another reader upgrading it) waits for that thread's upgrade instead
of refusing as if an older autotagger held it."""

from __future__ import annotations

import threading
from pathlib import Path

from autotagger.catalog import Catalog
from autotagger.catalog.lock import WriterLock
from autotagger.catalog.schema import LATEST
from tests.catalog.helpers import build_old


def test_a_reader_waits_for_the_upgrade_this_process_is_making(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    build_old(path, 4)
    lock = WriterLock(path)
    lock.acquire()  # as the service started in the window does, before its writer opens the file
    started = threading.Event()

    def writer() -> None:
        started.wait()
        Catalog(path).close()  # migrates on open

    t = threading.Thread(target=writer)
    t.start()
    try:
        started.set()
        cat = Catalog(path, readonly=True)
        try:
            assert cat.schema_version == LATEST
        finally:
            cat.close()
    finally:
        t.join()
        lock.release()


def test_readers_on_several_threads_upgrade_it_once(tmp_path: Path) -> None:
    """Rounds of six readers at once: a reader that met the lock between its holder's taking it and
    writing its pid (or emptying it and letting go) took that holder for a stranger, about one round
    in eight before."""
    for n in range(24):
        path = tmp_path / f"c{n}.sqlite3"
        build_old(path, 4)
        errors: list[BaseException] = []

        def read(path: Path = path, errors: list[BaseException] = errors) -> None:
            try:
                Catalog(path, readonly=True).close()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=read) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [], f"round {n}"
        assert len(list(tmp_path.glob(f"c{n}.sqlite3.v4-backup-*"))) == 1
