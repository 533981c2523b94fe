"""What the watcher keeps for as long as it runs stays bounded (a service runs for weeks)."""

from __future__ import annotations

from pathlib import Path

from autotagger.watch import observer
from autotagger.watch.observer import FolderWatcher


def test_notices_keep_the_last_ones_only(tmp_path: Path) -> None:
    """A folder that cannot be watched is tried, and said, again at every check: the watcher's own
    list of notices must not grow with each try."""
    w = FolderWatcher(poll=True, poll_interval=0.1)
    w.start([])
    try:
        for i in range(3 * observer.KEEP_NOTICES):
            assert not w.add(str(tmp_path / f"gone{i}"))
        assert len(w.notices) == observer.KEEP_NOTICES
        assert f"gone{3 * observer.KEEP_NOTICES - 1}" in w.notices[-1]  # the newest is kept
        assert w.events.qsize() == 3 * observer.KEEP_NOTICES  # each is still said (the service drains them)
    finally:
        w.stop()
