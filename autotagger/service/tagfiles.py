"""Tag a given list of files now (the `autotagger tag` command, the GUI's "tag selected"):
decode on a thread pool ahead of the model, run the engine in batches, write the metadata,
record in the catalogue. One file's failure never stops the others."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from autotagger.engine.base import Tagger
from autotagger.types import TagResult


@dataclass(frozen=True)
class FileOutcome:
    result: TagResult
    embedded: bool = False
    sidecar: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.result.error is None

    def to_json(self) -> dict[str, Any]:
        d = self.result.to_json()
        d["written"] = {"embedded": self.embedded, "sidecar": self.sidecar}
        d["warnings"] = list(self.warnings)
        return d


def collect_files(
    paths: Iterable[str], *, recursive: bool, on_error: Callable[[str, str], None]
) -> list[str]:
    """Files named, plus the images inside named folders (walked with --recursive), in a stable order."""
    from autotagger.imageio import is_image_path
    from autotagger.watch.files import BAD_NAME, bad_name, printable

    out: list[str] = []
    seen: set[str] = set()

    def add(p: str) -> None:
        ap = os.path.abspath(p)
        if ap in seen:
            return
        seen.add(ap)
        if bad_name(ap):
            on_error(printable(ap), BAD_NAME)
        else:
            out.append(ap)

    for raw in paths:
        p = os.path.expanduser(raw)
        if os.path.isdir(p):
            if recursive:
                for root, dirs, files in os.walk(
                    p, onerror=lambda e: on_error(str(e.filename), e.strerror or str(e))
                ):
                    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                    for name in sorted(files):
                        if is_image_path(name) and not name.startswith("."):
                            add(os.path.join(root, name))
            else:
                try:
                    names = sorted(os.listdir(p))
                except OSError as exc:
                    on_error(p, exc.strerror or str(exc))
                    continue
                for name in names:
                    full = os.path.join(p, name)
                    if not is_image_path(name) or name.startswith("."):
                        continue
                    if os.path.isfile(full):
                        add(full)
                    elif os.path.islink(full) and not os.path.exists(full):
                        on_error(printable(full), "broken symlink, skipped")
        elif os.path.exists(p):
            add(p)  # named explicitly: the loader says if it is not an image
        else:
            on_error(p, "no such file or folder")
    return out


def decode_for(path: str, prepare: Callable[[Any], Any] | None = None) -> Any:
    from autotagger.imageio import ImageLoadError, load_image

    try:
        image = load_image(path)
        return prepare(image) if prepare is not None else image
    except ImageLoadError as exc:
        return exc
    except Exception as exc:  # a decoder bug must not stop the batch
        return ImageLoadError(path, f"{type(exc).__name__}: {exc}")


def tag_paths(
    paths: Sequence[str],
    tagger: Tagger,
    *,
    batch_size: int = 8,
    workers: int | None = None,
) -> Iterator[TagResult]:
    """Results in input order; decoding (and the tagger's ``preprocess``, where it has one) runs
    ``2 * batch_size`` images ahead of the model on ``workers`` threads."""
    prepare = getattr(tagger, "preprocess", None)
    workers = workers or min(16, os.cpu_count() or 2)
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="decode") as pool:
        pending: deque[tuple[str, Future[Any]]] = deque()
        it = iter(paths)

        def refill() -> None:
            while len(pending) < 2 * batch_size:
                try:
                    p = next(it)
                except StopIteration:
                    return
                pending.append((p, pool.submit(decode_for, p, prepare)))

        refill()
        while pending:
            batch: list[tuple[str, Any]] = []
            ordered: list[TagResult | None] = []
            while pending and len(batch) < batch_size:
                p, fut = pending.popleft()
                img = fut.result()
                if isinstance(img, Exception):
                    ordered.append(
                        TagResult(path=p, model_id=tagger.model_id, error=str(getattr(img, "reason", img)))
                    )
                else:
                    batch.append((p, img))
                    ordered.append(None)
            refill()
            results = iter(tagger.tag_images(batch) if batch else [])
            for r in ordered:
                yield r if r is not None else next(results)


def finish_result(
    result: TagResult,
    *,
    write_mode: str,
    sidecar_name: str,
    keep_backup: bool,
    catalog: Any | None,
) -> FileOutcome:
    """Write a result into the file (or sidecar) and record it in the catalogue."""
    from autotagger.metadata import MetadataError, write_metadata
    from autotagger.service.results import metadata_for, person_edits

    if not result.ok:
        if catalog is not None:
            catalog.record_failure(result.path, result.error or "failed")
        return FileOutcome(result)
    try:
        outcome = write_metadata(
            Path(result.path),
            metadata_for(result, person_edits(catalog, result.path) if catalog is not None else None),
            mode=write_mode,
            sidecar_name=sidecar_name,
            keep_backup=keep_backup,
        )
        embedded, sidecar, warnings = outcome.embedded, outcome.sidecar, tuple(outcome.warnings)
    except MetadataError as exc:
        failed = replace(result, error=f"cannot write metadata: {exc}")
        if catalog is not None:
            catalog.record_failure(result.path, failed.error or "")
        return FileOutcome(failed)
    if catalog is not None:
        record_in_catalog(catalog, result)
    return FileOutcome(result, embedded, sidecar, warnings)


def record_in_catalog(catalog: Any, result: TagResult) -> None:
    """Record a result with the file's post-write stat, metadata-blind hash and header facts."""
    from autotagger.service.items import probe_info
    from autotagger.watch.hashing import content_hash

    st = os.stat(result.path)
    info = probe_info(result.path)
    try:
        h: str | None = content_hash(result.path)
    except OSError:
        h = None
    catalog.record_result(result, size=st.st_size, mtime=st.st_mtime, content_hash=h, **info)
