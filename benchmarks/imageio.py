"""Decode speed of autotagger.imageio.load_image: JPEG draft mode vs a full decode, and the cost
of an embedded ICC profile (Adobe RGB here, converted to sRGB; sRGB-tagged ones are left alone).

Makes N 4000x3000 JPEGs (photo-like noise over gradients, quality 90) in a temporary folder, once
without a profile, once with an Adobe RGB one and once with an sRGB one, and times
load_image(min_size=224) (draft) and load_image(min_size=0) (full decode), one thread and a thread
pool. Prints images/s and ms per image; --save writes the figures to
benchmarks/results/imageio-<date>.txt.

    python benchmarks/imageio.py [-n 12] [--threads 2] [--save]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms

from autotagger.imageio import load_image, make_thumbnail

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for the test suite's ICC writer
from tests.imageio.iccmaker import ADOBE_RGB, D65, rgb_profile


def make_jpegs(
    folder: Path,
    count: int,
    width: int = 4000,
    height: int = 3000,
    *,
    icc: bytes | None = None,
    tag: str = "",
) -> list[Path]:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height)], axis=-1)
    paths = []
    for i in range(count):
        noise = rng.integers(-24, 24, (height, width, 3))
        pixels = np.clip(base + noise + i * 7, 0, 255).astype(np.uint8)
        path = folder / f"img{tag}{i:03d}.jpg"
        Image.fromarray(pixels).save(path, quality=90, icc_profile=icc)  # None: no profile
        paths.append(path)
    return paths


def rate(paths: list[Path], work: Callable[[Path], object], threads: int, repeat: int) -> float:
    best = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        if threads <= 1:
            for path in paths:
                work(path)
        else:
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(work, paths))
        best = max(best, len(paths) / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=12, help="number of 4000x3000 JPEGs (default 12)")
    parser.add_argument("--threads", type=int, default=2, help="thread pool size (default 2)")
    parser.add_argument("--repeat", type=int, default=2, help="best of this many runs (default 2)")
    parser.add_argument("--save", action="store_true", help="also write benchmarks/results/imageio-DATE.txt")
    args = parser.parse_args()

    lines = [
        f"autotagger imageio benchmark {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"python {platform.python_version()}, Pillow {Image.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs (shared: figures are indicative)",
        f"{args.n} JPEGs 4000x3000 q90 per set, best of {args.repeat}",
    ]
    adobe = rgb_profile("Adobe RGB (1998) (benchmark)", ADOBE_RGB, D65, 563 / 256)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_jpegs(Path(tmp), args.n)
        adobe_paths = make_jpegs(Path(tmp), args.n, icc=adobe, tag="-adobe")
        srgb_paths = make_jpegs(Path(tmp), args.n, icc=srgb, tag="-srgb")
        size_mb = sum(p.stat().st_size for p in paths) / len(paths) / 1e6
        lines.append(f"mean file size {size_mb:.1f} MB; draft output {load_image(paths[0]).size}")
        cases: list[tuple[str, list[Path], Callable[[Path], object]]] = [
            ("load_image draft (min_size=224)", paths, lambda p: load_image(p)),
            ("  same, Adobe RGB profile", adobe_paths, lambda p: load_image(p)),
            ("  same, sRGB profile", srgb_paths, lambda p: load_image(p)),
            ("load_image full decode (min_size=0)", paths, lambda p: load_image(p, min_size=0)),
            ("  same, Adobe RGB profile", adobe_paths, lambda p: load_image(p, min_size=0)),
            ("make_thumbnail 256", paths, lambda p: make_thumbnail(p, 256)),
            ("  same, Adobe RGB profile", adobe_paths, lambda p: make_thumbnail(p, 256)),
        ]
        figures = {}
        for label, files, work in cases:
            one = rate(files, work, 1, args.repeat)
            pool = rate(files, work, args.threads, args.repeat)
            figures[label] = one
            lines.append(
                f"{label:38s} {one:6.1f} img/s ({1000 / one:6.1f} ms/img) on 1 thread"
                f"  {pool:6.1f} img/s with {args.threads} threads"
            )
        speedup = figures["load_image draft (min_size=224)"] / figures["load_image full decode (min_size=0)"]
        lines.append(f"draft speed-up over full decode: {speedup:.1f}x")
    text = "\n".join(lines)
    print(text)
    if args.save:
        out = Path(__file__).parent / "results" / f"imageio-{datetime.date.today().isoformat()}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
        print(f"saved {out}")


if __name__ == "__main__":
    main()
