"""Files/s through `autotagger tag`'s path (decode ahead on threads, the model in batches, write the
metadata, record in the catalogue) with a stub model that sleeps like a GPU, two ways in one run:
  inline:   each result written and recorded before the model goes on (as `tag` did before);
  threaded: written on ResultWriter's threads while the model runs on (as `tag` does now).
The photos are camera-sized JPEGs (benchmarks/engine.py's), copied afresh for each way.

    python benchmarks/tag_command.py [--files 64] [--model-ms 5] [--mode embed] [--save]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from engine import make_photos
from pipeline import AcceleratorStub, report

from autotagger.catalog import Catalog
from autotagger.service.tagfiles import ResultWriter, tag_paths


def run(photos: list[str], tagger: AcceleratorStub, catalog_path: Path, mode: str, batch: int, inline: bool) -> float:
    cat = Catalog(catalog_path)
    try:
        t = time.perf_counter()
        n = 0
        with ResultWriter(write_mode=mode, sidecar_name="ext", keep_backup=False, catalog=cat) as writer:
            for result in tag_paths(photos, tagger, batch_size=batch):
                n += len(writer.submit(result))
                if inline:
                    n += len(writer.finish())  # wait: the next result only once this one is on disk
            n += len(writer.finish())
        took = time.perf_counter() - t
    finally:
        cat.close()
    if n != len(photos):
        raise SystemExit(f"{n} outcomes for {len(photos)} photos")
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=64)
    ap.add_argument("--size", default="4000x3000")
    ap.add_argument("--model-ms", type=float, default=5.0, help="the stub model's time per image")
    ap.add_argument("--mode", default="embed", choices=["embed", "sidecar"])
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--save", action="store_true", help="also write benchmarks/results/tag-command-<date>.txt")
    args = ap.parse_args()
    w, h = (int(x) for x in args.size.lower().split("x"))
    lines = []
    with tempfile.TemporaryDirectory(prefix="autotagger-bench-") as tmp:
        work = Path(tmp)
        src = make_photos(work / "src", args.files, (w, h))
        mb = sum(os.path.getsize(p) for p in src) / len(src) / 1e6
        lines.append(
            f"tag command benchmark, {time.strftime('%Y-%m-%d %H:%M')}: {args.files} JPEGs {w}x{h} ({mb:.1f} MB each), "
            f"write {args.mode}, batch {args.batch_size}, stub model {args.model_ms:g} ms/image + BLIP-2 preprocessing; "
            f"{platform.platform()}, python {platform.python_version()}, {os.cpu_count()} cpus"
        )
        rates = {}
        for name in ("inline", "threaded"):
            folder = work / name
            shutil.copytree(work / "src", folder)
            photos = sorted(str(p) for p in folder.iterdir())
            took = run(photos, AcceleratorStub(args.model_ms, True), work / f"{name}.sqlite3", args.mode,
                       args.batch_size, inline=name == "inline")
            rates[name] = args.files / took
            lines.append(f"  {name:9s} {took:7.2f} s  {rates[name]:7.1f} files/s")
        lines.append(f"  threaded / inline: {rates['threaded'] / rates['inline']:.2f}x; "
                     f"the stub's sleep alone: {1000 / args.model_ms:.0f} files/s at most")
    return report(lines, "tag-command", args.save)


if __name__ == "__main__":
    raise SystemExit(main())
