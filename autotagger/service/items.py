"""Plain values and helpers the worker's threads pass around (work items, write outcomes, config)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autotagger.types import TagResult
from autotagger.watch.settle import FileStat


def default_loader_threads() -> int:
    """Decode threads: one a core, 2 to 16. A 12 MP camera JPEG (about 4 MB) takes 30-45 ms of one
    core to decode at draft size and preprocess (the entropy-coded bytes set the time), so a GPU
    tagging 200 photos/s needs 8 or more; idle threads cost nothing."""
    return max(2, min(16, os.cpu_count() or 2))


@dataclass
class WorkItem:
    """One capture group from a batch: the image the model sees and every file that gets the result."""

    primary: str
    members: list[str]  # files to write (not already up to date)
    jobs: list[Any]  # catalogue Jobs covered by this group
    content_hash: str = ""
    image: Any = None
    reuse: TagResult | None = None  # result known without the model (journal, sibling)
    error: str | None = None  # decoding failed: one line
    damaged: bool = False  # ... because the bytes are bad (reading them again gives the same error)
    skip: str = ""  # "" | "done" (all up to date) | "vanished"


@dataclass
class Written:
    """What writing one file's metadata gave (from the write pool to the model thread)."""

    path: str
    result: TagResult
    stat: FileStat | None = None
    content_hash: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    changed: bool = False  # FileChangedError: the file changed while we worked; look again later
    error: str | None = None
    kept_caption: str | None = None  # the caption the file already had and kept instead of ours


def kept_caption(outcome: Any, ours: str, edits: Any) -> str | None:
    """The caption a file kept instead of ours (a person's, from before us or from another tool): the
    catalogue records it as the person's, so that search and the window show what the file says.
    None when the file took ours, or the catalogue already holds the person's caption."""
    held = getattr(outcome, "caption", None)
    if not held or not held.strip() or held.strip() == ours.strip() or edits.caption is not None:
        return None
    return str(held)


def write_and_read_back(
    path: str, record: Any, *, write_mode: str, sidecar_name: str, keep_backup: bool
) -> tuple[Any, FileStat, str, dict[str, Any]]:
    """Write ``record`` (a MetadataRecord) into ``path`` or its sidecar (nothing for mode "none"), then
    read back what the catalogue records: the write's outcome (None for "none"), the file's stat after
    the write, its metadata-blind hash and its header facts. No catalogue here: any thread. Raises
    MetadataError (FileChangedError: the file changed under us) or OSError."""
    from autotagger.metadata import write_metadata
    from autotagger.watch.hashing import content_hash

    done = None
    if write_mode != "none":
        done = write_metadata(
            Path(path), record, mode=write_mode, sidecar_name=sidecar_name, keep_backup=keep_backup
        )
    st = FileStat.of(os.stat(path))
    return done, st, content_hash(path), probe_info(path)


#: Seconds a failed file waits before its 2nd, 3rd... attempt (the last figure repeats): time for a
#: copy to finish, a share to come back or another program to let go of the file.
RETRY_DELAYS: tuple[float, ...] = (5.0, 30.0)


#: A file whose bytes are bad (corrupt, truncated, not an image) and that has not changed for this many
#: seconds fails for good at once: reading the same bytes again gives the same error. A change to the
#: file (or a copy finishing) queues it again.
DAMAGED_SETTLED = 30.0


def retry_delay(delays: tuple[float, ...], failures: int) -> float:
    """The wait after a file's ``failures``-th failed attempt (1-based); 0 when there are no delays."""
    if not delays or failures < 1:
        return 0.0
    return max(0.0, delays[min(failures, len(delays)) - 1])


@dataclass
class WorkerConfig:
    catalog_path: str
    journal_dir: str
    write_mode: str = "auto"
    sidecar_name: str = "ext"
    keep_backup: bool = False
    batch_size: int = 8
    fill_wait: float = 0.3  # wait this long for more jobs when a claim returns fewer than batch_size
    idle_wait: float = 0.2
    loader_threads: int = field(default_factory=default_loader_threads)
    write_threads: int = 4
    prefetch_batches: int = 2
    max_attempts: int = 3
    retry_delays: tuple[float, ...] = RETRY_DELAYS
    damaged_settled: float = DAMAGED_SETTLED
    min_size: int = 224
    worker_name: str = field(default_factory=lambda: f"pid{os.getpid()}")


def one_line(exc: BaseException | str) -> str:
    text = str(exc) if str(exc) else type(exc).__name__
    return " ".join(text.split())


def probe_info(path: str) -> dict[str, Any]:
    try:
        from autotagger.imageio import probe

        info = probe(path)
    except Exception:  # probing is a nicety: width/date/camera stay unknown
        return {}
    return {k: getattr(info, k, None) for k in ("width", "height", "captured_at", "camera")}


def empty_cuda_cache() -> None:
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:
        pass
