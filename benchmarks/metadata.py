"""Time write_metadata / undo_metadata per format on generated files; prints figures, asserts nothing.

    python benchmarks/metadata.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from autotagger.metadata import MetadataRecord, undo_metadata, write_metadata
from autotagger.types import Tag


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    record = MetadataRecord("a dog on a beach at sunset", "model",
                            tuple(Tag(f"group{i}|tag {i}", 0.5 + i / 100) for i in range(12)), model_id="bench")
    import pillow_heif

    pillow_heif.register_heif_opener()
    with tempfile.TemporaryDirectory() as tmp:
        im = Image.new("RGB", (3000, 2000), (90, 120, 150))
        for ext, kw in (("jpg", {"quality": 90}), ("tif", {}), ("png", {}), ("webp", {}), ("heic", {})):
            path = Path(tmp) / f"big.{ext}"
            im.save(path, **kw)
            t0 = time.perf_counter()
            for _ in range(n):
                write_metadata(path, record)
            t1 = time.perf_counter()
            for _ in range(n):
                undo_metadata(path)
                write_metadata(path, record)
            t2 = time.perf_counter()
            size = path.stat().st_size / 1e6
            print(f"{ext:5s} {size:7.2f} MB  write {1000 * (t1 - t0) / n:7.1f} ms  "
                  f"undo+write {1000 * (t2 - t1) / n:7.1f} ms")
        raw = Path(tmp) / "x.cr2"
        raw.write_bytes(b"raw")
        t0 = time.perf_counter()
        for _ in range(n):
            write_metadata(raw, record)
        print(f"sidecar            write {1000 * (time.perf_counter() - t0) / n:7.1f} ms")


if __name__ == "__main__":
    main()
