"""Capture groups in the worker's hands, from the loader's planning to the batch's commit.

A RAW+JPEG pair's jobs can be claimed in two batches (a batch fills up between them). The first batch
writes every member of the group; the loader plans the next one while the first is still in the model,
so without this it would find the group's files not yet recorded and write them again, at the same time
as the first batch's writes (one file, two writers). The loader waits here until the group's earlier
batch is recorded, then finds the files up to date.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from autotagger.watch.files import group_key


def groups_of(batch: Iterable[Any]) -> list[str]:
    """The capture groups of a batch's work items (each item is one group)."""
    return [group_key(it.primary) for it in batch]


class GroupsInFlight:
    """Thread-safe: the loader takes groups, the finish (or model) thread gives them back."""

    def __init__(self) -> None:
        self._held: Counter[str] = Counter()
        self._changed = threading.Condition()

    def take(self, keys: Iterable[str], stopped: Callable[[], bool]) -> None:
        """Wait until none of ``keys`` is in an earlier batch (or ``stopped()``), then hold them."""
        wanted = list(dict.fromkeys(keys))
        with self._changed:
            while any(self._held[k] for k in wanted) and not stopped():
                self._changed.wait(0.2)  # the timeout only re-checks ``stopped``
            self._held.update(wanted)

    def give_back(self, keys: Iterable[str]) -> None:
        """The batch holding ``keys`` is recorded (or dropped): later batches may plan them."""
        with self._changed:
            for k in dict.fromkeys(keys):
                self._held[k] -= 1
                if self._held[k] <= 0:
                    del self._held[k]
            self._changed.notify_all()
