"""What one live refresh of the window costs on a big catalogue while the service tags (changes.py).

    python benchmarks/gui_refresh.py [--images 100000] [--tags 2000] [--runs 5] [--keep DIR]

Builds a catalogue of N tagged photos (10-15 tags each out of about ``--tags`` distinct hierarchical
tags, a few names used under several parents, most-used first as a Zipf law), opens the window
(offscreen unless QT_QPA_PLATFORM is set), scrolls the grid to the middle of the loaded rows, and
then, ``--runs`` times: a writer tags a batch of 8 photos (their caption and one tag change, as the
service does), and one refresh runs as the window's watch would start it. Printed per part:

- catalogue-thread time: the tag tree counts (node_counts), the grid reload query (model._reload),
  the folders, the detail pane's record: each timed alone on a reader connection;
- GUI-thread time: each part's answer applied (the model's rows, the tree, the folders, the pane),
  then the view's relayout and one paint, timed as the event loop runs them; the longest single
  blocking slice is the figure that says whether the window stays responsive (< 16 ms ideal).
Not a test: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def vocabulary(n_tags: int, rng: random.Random) -> list[str]:
    """About ``n_tags`` tag paths: 40 groups of leaves, one in ten leaves two levels deep, and a few
    leaf names shared by groups (tag:red then matches color|red and object|car|red)."""
    names = [f"w{k:04d}" for k in range(n_tags)]
    shared = ["red", "blue", "dog", "cat", "tree", "car", "beach", "night", "people", "snow"]
    paths: list[str] = []
    groups = [f"group{g:02d}" for g in range(40)]
    for k, name in enumerate(names):
        g = groups[k % len(groups)]
        paths.append(f"{g}|{name}" if k % 10 else f"{g}|{names[(k + 7) % len(names)]}|{name}")
    for k, name in enumerate(shared):
        for g in groups[k::8]:
            paths.append(f"{g}|{name}")
    return paths[:n_tags]


def records(n: int, paths: list[str], seed: int = 1) -> Iterator[tuple[Any, Any]]:
    from autotagger.catalog import FileInfo
    from autotagger.types import Tag, TagResult

    rng = random.Random(seed)
    weights = [1 / (k + 1) for k in range(len(paths))]  # Zipf: a few tags on most photos, most rare
    for i in range(n):
        chosen = set(rng.choices(paths, weights, k=rng.randint(10, 15)))
        path = f"/photos/{2010 + i // 7000}/shoot-{i // 250:04d}/IMG_{i:06d}.JPG"
        yield (
            TagResult(path=path, caption=f"a photo number {i} of {rng.choice(paths).rsplit('|', 1)[-1]}",
                      tags=tuple(Tag(p, round(rng.random(), 4), p.split("|")[0]) for p in sorted(chosen)),
                      model_id="bench/fake"),
            FileInfo(size=3_000_000 + i, mtime=1.7e9 + i, width=6000, height=4000),
        )


def build(path: Path, n: int, n_tags: int) -> tuple[float, list[str]]:
    from autotagger.catalog import Catalog

    paths = vocabulary(n_tags, random.Random(0))
    t = time.perf_counter()
    with Catalog(path) as cat:
        cat.bulk_record(records(n, paths))
        cat.add_folder("/photos")
    return time.perf_counter() - t, paths


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    out, best = None, []
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        best.append(time.perf_counter() - t)
    return statistics.median(best), out


def ms(s: float) -> str:
    return f"{s * 1000:.1f} ms"


def run_until(app: Any, done: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout
    while not done() and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.0005)


def catalog_parts(cat_path: Path, query: str, loaded: int, page: int, runs: int) -> dict[str, float]:
    from autotagger.catalog import Catalog
    from autotagger.gui import model as gmodel
    from autotagger.gui import ops
    from autotagger.gui.tagtree import node_counts

    with Catalog(cat_path, readonly=True) as cat:
        total = cat.count(query)
        some_id = cat.search(query, limit=1, offset=loaded // 2)[0].id
        parts = {
            "tag tree counts (node_counts)": timed(lambda: node_counts(cat), runs)[0],
            f"grid reload of {loaded:,} loaded rows (_reload)": timed(
                lambda: gmodel._reload(cat, query, loaded, total, page), runs)[0],
            "folders (list_folders)": timed(lambda: ops.list_folders(cat), runs)[0],
            "detail pane (get_image)": timed(lambda: ops.get_image(cat, some_id), runs)[0],
        }
    return parts


def tag_batch(cat_path: Path, paths: list[str], batch: int, rng: random.Random) -> None:
    """What the service does per batch: a few photos get a new caption and tags."""
    from autotagger.catalog import Catalog

    with Catalog(cat_path) as cat:
        total = cat.count("")
        for _ in range(batch):
            hit = cat.search("", limit=1, offset=rng.randrange(total))[0]
            cat.set_caption(hit.id, f"retagged {rng.random():.6f}")
            cat.add_tags(hit.id, [rng.choice(paths)])


def window_refresh(cat_path: Path, root: Path, paths: list[str], runs: int, pages: int) -> dict[str, list[float]]:
    """The window as a person has it: the grid scrolled to the middle of its loaded rows, a photo
    shown; then ``runs`` times a batch tagged elsewhere and the refresh the watch starts, timed."""
    from PySide6.QtCore import QElapsedTimer

    from autotagger.config import Settings
    from autotagger.gui.app import catalog_opener, ensure_app
    from autotagger.gui.window import MainWindow

    app = ensure_app()
    win = MainWindow(Settings(catalog=str(cat_path), model=str(root)), root / "config.toml",
                     catalog_opener(cat_path), root / "thumbs")
    win.watch.stop()  # the refreshes below are started by hand, one at a time
    win.resize(1400, 900)
    win.show()
    run_until(app, lambda: win.model.total > 0 and not win.model.loading)
    for _ in range(pages - 1):  # a person scrolled down
        win.model.fetchMore()
        run_until(app, lambda: not win.model.loading)
    bar = win.grid.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    win.grid.setCurrentIndex(win.model.index(win.model.rowCount() // 2))
    run_until(app, lambda: win.detail.record is not None and win.tag_reader.pending == 0)
    out: dict[str, list[float]] = {"refresh wall (catalogue + GUI)": [], "longest GUI-thread block": [],
                                   "GUI-thread total": []}
    rng = random.Random(7)
    for _ in range(runs):
        tag_batch(cat_path, paths, 8, rng)
        busy: list[float] = []
        timer = QElapsedTimer()
        t0 = time.perf_counter()
        win.catalog_changed()

        def idle() -> bool:
            return (win.reader.pending == 0 and win.tag_reader.pending == 0
                    and not win._tags_busy and not win._tags_wait.isActive())  # a count backing off

        longest = 0.0
        deadline = time.perf_counter() + 120
        while not idle() and time.perf_counter() < deadline:
            timer.start()
            app.processEvents()
            took = timer.nsecsElapsed() / 1e9
            busy.append(took)
            longest = max(longest, took)
            time.sleep(0.0005)
        timer.start()
        app.processEvents()  # the relayout and paint the answers asked for
        took = timer.nsecsElapsed() / 1e9
        busy.append(took)
        longest = max(longest, took)
        out["refresh wall (catalogue + GUI)"].append(time.perf_counter() - t0)
        out["longest GUI-thread block"].append(longest)
        out["GUI-thread total"].append(sum(busy))
    win.shutdown()
    win.deleteLater()
    app.processEvents()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=100_000)
    ap.add_argument("--tags", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", metavar="DIR", help="build (or reuse) the catalogue here")
    args = ap.parse_args()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="at-bench-refresh-"))
    root.mkdir(parents=True, exist_ok=True)
    cat = root / "catalog.sqlite3"
    paths = vocabulary(args.tags, random.Random(0))
    if not cat.exists():
        secs, paths = build(cat, args.images, args.tags)
        print(f"built a {args.images:,}-photo catalogue with {len(set(paths)):,} tags in {secs:.1f} s "
              f"({cat.stat().st_size / 1e6:.0f} MB)")
    from autotagger.catalog import Catalog

    with Catalog(cat, readonly=True) as c:
        used = c.tag_counts()
        per_photo = sum(n for _p, n in used) / max(1, c.count(""))
    print(f"{len(used):,} distinct tags in use, {per_photo:.1f} tags per photo")
    loaded = min(12_000, args.images // 2 // 300 * 300)  # 40 pages of 300: the grid scrolled well down
    print(f"catalogue-thread work of one refresh (median of {args.runs}):")
    for name, secs in catalog_parts(cat, "", loaded, 300, args.runs).items():
        print(f"  {name}: {ms(secs)}")
    print(f"one refresh in the window after a batch of 8 photos tagged elsewhere (median of {args.runs}):")
    for name, values in window_refresh(cat, root, paths, args.runs, loaded // 300).items():
        print(f"  {name}: {ms(statistics.median(values))} (max {ms(max(values))})")
    print(f"platform {os.environ.get('QT_QPA_PLATFORM')}, python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
