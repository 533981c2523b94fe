"""Time from main-window construction to the first paint of the thumbnail grid on a big catalogue.

    python benchmarks/gui_first_paint.py [--images 100000] [--runs 3] [--keep DIR]

Builds a catalogue of N tagged images (bulk insert; the files need not exist: the grid paints
placeholders while thumbnails are made), then for each run opens the window (offscreen unless
QT_QPA_PLATFORM is set) and measures construction -> first paint of a non-empty grid, and the time
a live search takes to show its first rows. Prints the figures; results go under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SUBJECTS = ("dog", "cat", "tree", "boat", "car", "house", "beach", "mountain", "bird", "flower")


def build(path: Path, n: int) -> float:
    from autotagger.catalog import Catalog, FileInfo
    from autotagger.types import Answer, Tag, TagResult

    def items():  # type: ignore[no-untyped-def]
        for i in range(n):
            subject = SUBJECTS[i % len(SUBJECTS)]
            setting = "outdoors" if i % 3 else "indoors"
            p = f"/photos/{2000 + i // 20000}/{i // 500:03d}/IMG_{i:06d}.JPG"
            yield (
                TagResult(
                    path=p,
                    caption=f"a photo of a {subject} {setting} number {i}",
                    answers=(Answer("setting", "Question: Is this indoors or outdoors? Answer:", setting, 0.8),),
                    tags=(Tag(f"setting|{setting}", 0.8, "setting"), Tag(f"subject|{subject}", 0.7, "subject")),
                    model_id="bench/fake",
                ),
                FileInfo(size=3_000_000 + i, mtime=1.7e9 + i, width=6000, height=4000),
            )

    t = time.perf_counter()
    with Catalog(path) as cat:
        cat.bulk_record(items())
    return time.perf_counter() - t


def one_run(cat: Path, thumbs: Path) -> tuple[float, float, int]:
    from PySide6.QtWidgets import QApplication

    from autotagger.config import Settings
    from autotagger.gui.app import catalog_opener, ensure_app
    from autotagger.gui.window import MainWindow

    app = ensure_app()
    settings = Settings(catalog=str(cat), model=str(cat.parent))
    painted: list[float] = []
    t0 = time.perf_counter()
    win = MainWindow(settings, cat.parent / "config.toml", catalog_opener(cat), thumbs)
    win.firstPaint.connect(lambda: painted.append(time.perf_counter()))
    win.show()
    deadline = t0 + 30
    while not painted and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.001)
    first = (painted[0] - t0) if painted else float("nan")
    # a live search: from the query to its first rows
    t1 = time.perf_counter()
    win.model.set_query("tag:subject|bird beach")
    win.model.set_query("tag:subject|bird")
    while win.model.loading and time.perf_counter() < deadline + 30:
        app.processEvents()
        time.sleep(0.001)
    search = time.perf_counter() - t1
    rows = win.model.total
    win.shutdown()
    win.deleteLater()
    QApplication.processEvents()
    return first, search, rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", metavar="DIR", help="build (or reuse) the catalogue here")
    args = ap.parse_args()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="at-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    cat = root / "catalog.sqlite3"
    if not cat.exists():
        secs = build(cat, args.images)
        print(f"built a {args.images:,}-image catalogue in {secs:.1f} s ({cat.stat().st_size / 1e6:.0f} MB)")
    firsts, searches = [], []
    for i in range(args.runs):
        first, search, rows = one_run(cat, root / f"thumbs{i}")
        firsts.append(first)
        searches.append(search)
        print(f"run {i + 1}: first paint {first * 1000:.0f} ms; search to {rows:,} rows {search * 1000:.0f} ms")
    print(f"first paint of the grid, {args.images:,} images: median {statistics.median(firsts) * 1000:.0f} ms "
          f"(min {min(firsts) * 1000:.0f}, max {max(firsts) * 1000:.0f}); "
          f"live search median {statistics.median(searches) * 1000:.0f} ms; "
          f"platform {os.environ.get('QT_QPA_PLATFORM')}, python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
