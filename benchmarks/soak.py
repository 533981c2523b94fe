"""Soak run of the background service: memory, threads, files and time per wave of photos.

A Service (FakeTagger, no model) watches one folder that is fed in waves: each wave brings N small
JPEGs in a new sub-folder (some as RAW+JPEG pairs), renames some photos of the last wave, deletes
some of an older one, and every few waves copies a whole folder (copies: twins, no model run). After
each wave the run waits until every photo on disk is tagged in the catalogue and one more reconcile
scan has run, then prints one line: RSS, Python objects, threads, open fds, catalogue and WAL size,
journal files, time per wave and per photo, the last reconcile scan's time, and the sizes of the
service's own long-lived structures. The top growers among Python object types come at the end.

What grows with the number of photos (or hours) shows as a column that keeps rising while the
photos on disk stay similar per wave; what slows with the catalogue's size shows in ms/photo and in
the scan's time against the catalogue's row count.

    PYTHONPATH=. .venv/bin/python benchmarks/soak.py --waves 20 --per-wave 500
"""

from __future__ import annotations

import argparse
import collections
import gc
import os
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any

from PIL import Image

from autotagger.catalog import Catalog
from autotagger.engine.fake import FakeTagger
from autotagger.service import ingest as ingest_mod
from autotagger.service.events import Notice
from autotagger.service.service import Service, ServiceOptions


def rss_mb() -> float:
    try:
        import psutil

        return float(psutil.Process().memory_info().rss) / 2**20
    except ImportError:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    return 0.0


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def size_of(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def type_counts() -> collections.Counter[str]:
    gc.collect()
    return collections.Counter(type(o).__name__ for o in gc.get_objects())


def make_jpeg(path: Path, seed: int) -> None:
    """A small JPEG with pixels of its own (``seed``), so no two photos are copies by accident."""
    img = Image.new("RGB", (48, 32), (seed * 37 % 256, seed * 91 % 256, seed * 53 % 256))
    img.putpixel((seed % 48, 0), (255, seed // 256 % 256, seed // 65536 % 256))
    img.putpixel((47, seed // 48 % 32), (seed % 251, 255, 0))
    img.save(path, "JPEG", quality=85)


class Probe:
    """Counts the reconcile scans (and times the last) and keeps a handle on the service's Ingestor."""

    def __init__(self) -> None:
        self.scans = 0
        self.last_scan_s = 0.0
        self.ingestor: Any = None
        self._orig = ingest_mod.Ingestor.reconcile
        probe = self

        def reconcile(self: Any, *args: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return probe._orig(self, *args, **kw)
            finally:
                probe.ingestor = self
                probe.last_scan_s = time.perf_counter() - t0
                probe.scans += 1

        ingest_mod.Ingestor.reconcile = reconcile  # type: ignore[method-assign]

    def restore(self) -> None:
        ingest_mod.Ingestor.reconcile = self._orig  # type: ignore[method-assign]


def wait_for(cond: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise SystemExit(f"soak: timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def photos_on_disk(root: Path) -> set[str]:
    exts = (".jpg", ".orf")
    return {str(p) for p in root.rglob("*") if p.suffix.lower() in exts and not p.name.startswith(".")}


def catalogue_state(cat_path: str) -> tuple[dict[str, str], int]:
    with Catalog(cat_path, readonly=True) as cat:
        rows = {r.path: r.status for r in cat.iter_images()}
        return rows, cat.pending_count()


def internals(svc: Service, probe: Probe) -> dict[str, int]:
    """Sizes of the service's long-lived structures (those that could grow with photos or hours)."""
    w = svc.worker
    ing = probe.ingestor
    watcher = svc.watcher
    return {
        "completed_at": len(w.recorder.completed_at),
        "twins": len(w.twins._fresh),
        "groups": len(w.groups._held),
        "journal_keys": len(w._journal._results) + len(w._journal._keys_in),
        "kept_legacy": len(ing._kept_legacy) if ing is not None else -1,
        "said": len(ing._said) if ing is not None else -1,
        "notices": len(watcher.notices) if watcher is not None else -1,
        "warnings": len(svc._warnings),
        "subscribers": len(svc._subscribers),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--waves", type=int, default=20)
    ap.add_argument("--per-wave", type=int, default=500)
    ap.add_argument("--pairs", type=int, default=25, help="RAW+JPEG pairs among each wave's photos")
    ap.add_argument("--renames", type=int, default=20)
    ap.add_argument("--deletes", type=int, default=20)
    ap.add_argument("--copy-every", type=int, default=5, help="copy a whole earlier folder every Nth wave")
    ap.add_argument("--scratch", default=f"/tmp/soak-helper-{os.getpid()}")
    ap.add_argument("--write", default="auto", help="write mode (auto: into the JPEGs, sidecars for RAW)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = ap.parse_args()

    scratch = Path(args.scratch)
    shutil.rmtree(scratch, ignore_errors=True)
    photos = scratch / "photos"
    photos.mkdir(parents=True)
    cat_path = str(scratch / "catalog.sqlite3")
    opts = ServiceOptions(
        catalog_path=cat_path, folders=[str(photos)], settle_seconds=0.3, batch_size=16, fill_wait=0.05,
        min_size=32, retry_delays=(), reconcile_every=1.0, check_every=0.5, state_every=0.5,
        loader_threads=2, write_mode=args.write,
    )
    probe = Probe()
    svc = Service(opts, FakeTagger)
    counts: collections.Counter[str] = collections.Counter()
    said: collections.Counter[str] = collections.Counter()  # warnings, by their text (a few distinct)

    def count(ev: Any) -> None:  # counts only: keeps no event
        counts.update([type(ev).__name__])
        if isinstance(ev, Notice) and ev.level != "info":
            said.update([ev.message[:160]])

    svc.subscribe(count)
    runner = threading.Thread(target=svc.run, name="soak-service", daemon=True)
    runner.start()
    wait_for(lambda: svc.watcher is not None and svc.watcher.watched(), 30, "the watcher")
    wait_for(lambda: probe.scans >= 1, 30, "the first scan")

    print(f"# soak: {args.waves} waves x {args.per_wave} JPEGs ({args.pairs} of them RAW+JPEG pairs), "
          f"{args.renames} renames, {args.deletes} deletes, a folder copied every {args.copy_every} waves; "
          f"write mode {args.write}; python {sys.version.split()[0]}; {os.cpu_count()} cores")
    gc.collect()
    base_types = type_counts()
    first_types = base_types
    header = (f"{'wave':>4} {'disk':>6} {'rows':>6} {'wave_s':>7} {'ms/ph':>6} {'scan_ms':>7} {'rss_MB':>7} "
              f"{'objects':>8} {'thr':>4} {'fds':>4} {'cat_MB':>7} {'wal_MB':>7} {'jrnl':>4}  internals")
    print(header)
    seed = 0
    waves: list[Path] = []
    for n in range(1, args.waves + 1):
        t0 = time.perf_counter()
        folder = photos / f"w{n:03d}"
        folder.mkdir()
        made = 0
        for i in range(args.per_wave):
            seed += 1
            make_jpeg(folder / f"IMG_{seed:06d}.jpg", seed)
            if i < args.pairs:  # the RAW of a pair: its bytes its own (the JPEG is what the model sees)
                (folder / f"IMG_{seed:06d}.ORF").write_bytes(b"FAKE-RAW" + seed.to_bytes(8, "big") * 512)
            made += 1
        if waves:  # renames in the last wave's folder (tags follow, no model)
            last = sorted(waves[-1].glob("IMG_*.jpg"))[-args.renames:]
            for p in last:
                p.rename(p.with_name("renamed-" + p.name))
        if len(waves) >= 2:  # deletes in an older folder
            for p in sorted(waves[-2].glob("IMG_*.jpg"))[: args.deletes]:
                p.unlink()
        if args.copy_every and n % args.copy_every == 0 and waves:  # a copied folder: twins, no model
            shutil.copytree(waves[0], photos / f"copy{n:03d}")
        waves.append(folder)
        disk = photos_on_disk(photos)

        def settled(disk: set[str] = disk) -> bool:
            rows, pending = catalogue_state(cat_path)
            return (
                pending == 0 and svc.worker.in_flight == 0 and set(rows) == disk
                and all(s == "tagged" for s in rows.values())
            )

        wait_for(settled, 600, f"wave {n} to be tagged")
        wave_s = time.perf_counter() - t0
        settled_at = probe.scans  # the next scan may have begun while tagging: the one after it is idle
        wait_for(lambda: probe.scans >= settled_at + 2, 60, "an idle reconcile scan after the wave")  # noqa: B023
        rows, _ = catalogue_state(cat_path)
        types = type_counts()
        jdir = cat_path + ".journal"
        jfiles = len(os.listdir(jdir)) if os.path.isdir(jdir) else 0
        inner = " ".join(f"{k}={v}" for k, v in internals(svc, probe).items())
        print(
            f"{n:>4} {len(disk):>6} {len(rows):>6} {wave_s:>7.2f} {1000 * wave_s / max(made, 1):>6.2f} "
            f"{1000 * probe.last_scan_s:>7.1f} {rss_mb():>7.1f} {sum(types.values()):>8} {os_threads():>4} "
            f"{open_fds():>4} {size_of(cat_path) / 2**20:>7.2f} {size_of(cat_path + '-wal') / 2**20:>7.2f} "
            f"{jfiles:>4}  {inner}",
            flush=True,
        )
        if n == 1:
            first_types = types
    last_types = type_counts()
    svc.stop()
    runner.join(60)
    probe.restore()
    grew = (last_types - first_types).most_common(12)
    print("# python object types that grew from after wave 1 to the end (type: +count):")
    print("#   " + ", ".join(f"{k}: +{v}" for k, v in grew) if grew else "#   none")
    print(f"# events: {dict(sorted(counts.items()))}; service stopped cleanly: {not runner.is_alive()}")
    for message, n in said.most_common(8):
        print(f"# warning x{n}: {message}")
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
