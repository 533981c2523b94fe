"""Shared helpers for the service tests: images, a tagger that logs every image it sees, waiting."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from autotagger.engine.base import ImageInput
from autotagger.engine.fake import FakeTagger
from autotagger.service.service import Service, ServiceOptions
from autotagger.types import TagResult


def make_jpeg(path: Path, seed: int, size: tuple[int, int] = (48, 32)) -> Path:
    color = (seed * 37 % 256, seed * 91 % 256, seed * 53 % 256)
    img = Image.new("RGB", size, color)
    img.putpixel((seed % size[0], 0), (255 - color[0], 0, 0))
    if seed >= 256:  # the colours repeat every 256 seeds: one more pixel keeps every seed's pixels its own
        img.putpixel((size[0] - 1, (seed // 256) % size[1]), (255, 255, 255))
    img.save(path, "JPEG", quality=85)
    return path


def jpeg_bytes(seed: int, size: tuple[int, int] = (48, 32)) -> bytes:
    import io

    buf = io.BytesIO()
    color = (seed * 37 % 256, seed * 91 % 256, seed * 53 % 256)
    Image.new("RGB", size, color).save(buf, "JPEG", quality=85)
    return buf.getvalue()


class LoggingTagger(FakeTagger):
    """FakeTagger that appends each image's path to a log file (one line each) before answering,
    so tests can count model calls per file, across processes and crashes."""

    def __init__(self, log: str | os.PathLike[str], delay: float = 0.0, fail_above: int = 0) -> None:
        super().__init__()
        self.log = os.fspath(log)
        self.delay = delay
        self.fail_above = fail_above  # raise a fake GPU OOM for batches larger than this (0 = never)
        self.batch_sizes: list[int] = []

    def tag_images(self, images: Sequence[ImageInput]) -> list[TagResult]:
        if self.fail_above and len(images) > self.fail_above:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        self.batch_sizes.append(len(images))
        if self.delay:
            time.sleep(self.delay)
        with open(self.log, "a", encoding="utf-8") as f:
            f.write("".join(f"{p}\n" for p, _ in images))
        return super().tag_images(images)


def model_calls(log: Path) -> Counter[str]:
    if not log.exists():
        return Counter()
    return Counter(line for line in log.read_text(encoding="utf-8").splitlines() if line)


def wait_until(cond: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or cond}")
        time.sleep(interval)


def options(tmp: Path, folders: Sequence[Path] | None, **kw: Any) -> ServiceOptions:
    base: dict[str, Any] = {
        "catalog_path": str(tmp / "catalog.sqlite3"),
        "folders": None if folders is None else [str(f) for f in folders],
        "settle_seconds": 0.3,
        "batch_size": 8,
        "fill_wait": 0.05,
        "min_size": 32,
        "retry_delays": (),  # failed files are tried again at once, unless a test says otherwise
    }
    base.update(kw)
    return ServiceOptions(**base)


class Running:
    """A service on a background thread, stopped (and joined) on exit."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.events: list[Any] = []
        service.subscribe(self.events.append)
        self.result: list[int] = []
        self.thread = threading.Thread(target=lambda: self.result.append(service.run()), daemon=True)

    def __enter__(self) -> Running:
        self.thread.start()
        wait_until(
            lambda: self.service.watcher is not None and self.service.watcher.watched(), 10, what="watching"
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.service.stop()
        self.thread.join(30)
        assert not self.thread.is_alive(), "service did not stop"


def catalog_rows(cat_path: Path) -> dict[str, Any]:
    from autotagger.catalog import Catalog

    cat = Catalog(cat_path)
    try:
        return {r.path: r for r in cat.iter_images()}
    finally:
        cat.close()


def remember_folder(cat_path: Path, folder: Path, recursive: bool = True) -> None:
    """`autotagger folders add FOLDER` (``--no-recursive`` when not ``recursive``)."""
    from autotagger.catalog import Catalog

    with Catalog(cat_path) as cat:
        cat.add_folder(str(folder), recursive=recursive)


def forget_folder(cat_path: Path, folder: Path) -> None:
    """`autotagger folders remove FOLDER`."""
    from autotagger.catalog import Catalog

    with Catalog(cat_path) as cat:
        cat.remove_folder(str(folder))


def run_once(tmp: Path, folder: Path, log: Path) -> list[Any]:
    """One `--once` run (a service of its own: nothing of the last run's model results in memory); its events."""
    svc = Service(options(tmp, [folder], once=True), lambda: LoggingTagger(log))
    events: list[Any] = []
    svc.subscribe(events.append)
    svc.run()
    assert svc.exit_error is None
    return events


def count_overlapping_writes(monkeypatch: Any) -> dict[str, int]:
    """Make every metadata write slow enough to overlap, and count how many ran at once: ``"all"``, and
    at most for files of ``"one capture"`` (the same stem). The dict fills in as writes run."""
    import autotagger.metadata

    real = autotagger.metadata.write_metadata
    lock = threading.Lock()
    busy: dict[str, int] = {}
    most = {"all": 0, "one capture": 0}

    def slow(path: Path, *a: object, **kw: object) -> object:
        stem = path.stem.lower()
        with lock:
            busy[stem] = busy.get(stem, 0) + 1
            most["all"] = max(most["all"], sum(busy.values()))
            most["one capture"] = max(most["one capture"], busy[stem])
        time.sleep(0.05)  # long enough for two writes to overlap, were they sent together
        try:
            return real(path, *a, **kw)  # type: ignore[arg-type]
        finally:
            with lock:
                busy[stem] -= 1

    monkeypatch.setattr(autotagger.metadata, "write_metadata", slow)
    return most
