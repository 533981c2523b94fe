"""Files/s through the whole pipeline (scan, queue, decode, stub model, write metadata, record, finish)
with a model that answers instantly, for embed and sidecar modes, beside the time to plain-copy the
same bytes. Settle is off (``--once`` path: a reconcile scan queues everything).

--model-ms MS makes the stub an accelerator: it sleeps MS per image (the GIL free, as a GPU leaves it)
and preprocesses as BLIP-2 does (resize to 224, normalise); each mode then runs twice, with that
preprocessing on the loader threads (as the service does) and on the model thread (as before).

    python benchmarks/pipeline.py [--files 1000] [--size 1024x768] [--save]
    python benchmarks/pipeline.py --files 200 --size 4000x3000 --modes none --model-ms 5
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image

from autotagger.engine.fake import FakeTagger
from autotagger.service.service import Service, ServiceOptions


def make_sources(folder: Path, n: int, size: tuple[int, int]) -> int:
    folder.mkdir(parents=True)
    total = 0
    base = Image.effect_noise(size, 40).convert("RGB")
    for i in range(n):
        buf = io.BytesIO()
        img = base.copy()
        img.putpixel((i % size[0], (i // size[0]) % size[1]), (i % 256, 0, 0))
        img.save(buf, "JPEG", quality=90)
        (folder / f"IMG_{i:05d}.jpg").write_bytes(buf.getvalue())
        total += len(buf.getvalue())
    return total


def plain_copy(src: Path, dst: Path) -> float:
    t = time.perf_counter()
    dst.mkdir()
    for p in sorted(src.iterdir()):
        with open(p, "rb") as fi, open(dst / p.name, "wb") as fo:
            shutil.copyfileobj(fi, fo)
            fo.flush()
            os.fsync(fo.fileno())  # our writer fsyncs too: compare like with like
    return time.perf_counter() - t


class AcceleratorStub(FakeTagger):
    """FakeTagger as a GPU model: BLIP-2's image preprocessing, then ``ms`` per image of sleep."""

    def __init__(self, ms: float, on_loader: bool) -> None:
        import transformers

        super().__init__()
        self.ms = ms
        # the Pillow one where there is one (transformers 5), as autotagger.engine.tiny uses
        cls = getattr(transformers, "BlipImageProcessorPil", None) or transformers.BlipImageProcessor
        self.processor = cls(size={"height": 224, "width": 224})
        if on_loader:
            self.preprocess = self._preprocess  # the service finds it and runs it on its loader threads

    def _preprocess(self, image: Any) -> Any:
        return image, self.processor([image], return_tensors="pt")["pixel_values"][0]

    def tag_images(self, images: Any) -> Any:
        prepared = [im if isinstance(im, tuple) else self._preprocess(im) for _, im in images]
        time.sleep(self.ms / 1000 * len(images))
        return super().tag_images([(p, im[0]) for (p, _), im in zip(images, prepared, strict=True)])


def _run_once(work: Path, name: str, folders: list[Path], mode: str, batch: int, tagger: Any) -> tuple[float, int]:
    """Seconds for a --once service run over ``folders`` (catalogue ``name``), and the files that failed."""
    opts = ServiceOptions(
        catalog_path=str(work / f"catalog-{name}.sqlite3"),
        folders=[str(f) for f in folders],
        once=True,
        write_mode=mode,
        settle_seconds=0.0,
        batch_size=batch,
        fill_wait=0.0,
    )
    t = time.perf_counter()
    failed = Service(opts, lambda: tagger).run()
    return time.perf_counter() - t, failed


def run_pipeline(src: Path, work: Path, mode: str, batch: int, tagger: Any, name: str) -> tuple[float, int]:
    photos = work / f"photos-{name}"
    shutil.copytree(src, photos)
    elapsed, failed = _run_once(work, name, [photos], mode, batch, tagger)
    if failed or tagger.images_seen != len(list(src.iterdir())):
        raise SystemExit(f"{mode}: {failed} failed, model saw {tagger.images_seen}")
    return elapsed, tagger.images_seen


def run_copies(work: Path, mode: str, batch: int, tagger: Any, name: str) -> tuple[float, int]:
    """After run_pipeline: a backup of the tagged folder appears; every file is a copy of a tagged one.
    Seconds for a --once run over both folders, and how many images the model saw."""
    backup = work / f"backup-{name}"
    shutil.copytree(work / f"photos-{name}", backup)
    elapsed, failed = _run_once(work, name, [work / f"photos-{name}", backup], mode, batch, tagger)
    if failed:
        raise SystemExit(f"{mode} copies: {failed} failed")
    return elapsed, tagger.images_seen


def report(lines: list[str], prefix: str, save: bool) -> int:
    """Print the figures; with ``save`` also into benchmarks/results/<prefix>-<date>.txt."""
    text = "\n".join(lines)
    print(text)
    if save:
        out = Path(__file__).parent / "results" / f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}.txt"
        out.write_text(text + "\n", encoding="utf-8")
        print(f"saved {out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--size", default="1024x768")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--modes", default="embed,sidecar", help="comma-separated write modes (embed, sidecar, both, none)")
    ap.add_argument("--model-ms", type=float, default=0.0,
                    help="the stub model takes this long per image on an 'accelerator' (0: instant)")
    ap.add_argument("--fsync-ms", type=float, default=0.0,
                    help="every fsync also waits this long, as on a hard disk or a network share (0: the real disk)")
    ap.add_argument("--copies", action="store_true",
                    help="then time a backup copy of the tagged folder (each file a twin of a tagged one)")
    ap.add_argument("--save", action="store_true", help="also write benchmarks/results/pipeline-<date>.txt")
    args = ap.parse_args(argv)
    if args.fsync_ms:
        real_fsync = os.fsync

        def slow_fsync(fd: int) -> None:
            real_fsync(fd)
            time.sleep(args.fsync_ms / 1000)

        os.fsync = slow_fsync
    w, h = (int(x) for x in args.size.lower().split("x"))
    lines = []
    model_text = f"{args.model_ms:g} ms/image + BLIP-2 preprocessing" if args.model_ms else "instant"
    if args.fsync_ms:
        model_text += f"; every fsync {args.fsync_ms:g} ms longer"
    with tempfile.TemporaryDirectory(prefix="autotagger-bench-") as tmp:
        work = Path(tmp)
        nbytes = make_sources(work / "src", args.files, (w, h))
        lines.append(
            f"pipeline benchmark: {args.files} JPEGs {w}x{h}, {nbytes / 1e6:.1f} MB, batch {args.batch_size}, "
            f"stub model ({model_text}), settle off; {platform.platform()}, python {platform.python_version()}, "
            f"{os.cpu_count()} cpus"
        )
        t = plain_copy(work / "src", work / "copy")
        lines.append(
            f"  plain copy (+fsync)   {t:7.2f} s  {args.files / t:8.1f} files/s  {nbytes / 1e6 / t:7.1f} MB/s"
        )
        for mode in args.modes.split(","):
            variants: list[tuple[str, Any]] = [(mode, FakeTagger())]
            if args.model_ms:
                variants = [(f"{mode}, preprocess on loader", AcceleratorStub(args.model_ms, True)),
                            (f"{mode}, preprocess on model thread", AcceleratorStub(args.model_ms, False))]
            for i, (label, tagger) in enumerate(variants):
                t, n = run_pipeline(work / "src", work, mode, args.batch_size, tagger, f"{mode}-{i}")
                lines.append(
                    f"  pipeline {label:<8}     {t:7.2f} s  {n / t:8.1f} files/s  {nbytes / 1e6 / t:7.1f} MB/s"
                )
                if args.copies:
                    fresh = type(tagger)(args.model_ms, i == 0) if args.model_ms else FakeTagger()
                    t, seen = run_copies(work, mode, args.batch_size, fresh, f"{mode}-{i}")
                    lines.append(
                        f"    + a backup of it    {t:7.2f} s  {args.files / t:8.1f} files/s  "
                        f"(copies of tagged photos; the model saw {seen} of {args.files})"
                    )
            if args.model_ms:
                lines.append(f"  (the stub's sleep alone: {args.model_ms:g} ms/image, {1000 / args.model_ms:.0f} files/s at most)")
    return report(lines, "pipeline", args.save)


if __name__ == "__main__":
    sys.exit(main())
