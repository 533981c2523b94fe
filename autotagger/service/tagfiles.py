"""Tag a given list of files now (the `autotagger tag` command, the GUI's "tag selected"):
decode on a thread pool ahead of the model, run the engine in batches, write the metadata,
record in the catalogue. One file's failure never stops the others."""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Callable, Generator, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from autotagger.engine.base import Tagger
from autotagger.service.items import one_line
from autotagger.types import TagResult


@dataclass(frozen=True)
class FileOutcome:
    result: TagResult
    embedded: bool = False
    sidecar: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)
    kept_caption: str | None = None  # the caption the file already had and kept instead of the model's

    @property
    def ok(self) -> bool:
        return self.result.error is None

    def to_json(self) -> dict[str, Any]:
        d = {"path": self.result.path, "ok": self.ok, **self.result.to_json()}  # as `watch --json`: path, ok
        d["written"] = {"embedded": self.embedded, "sidecar": self.sidecar}
        d["kept_caption"] = self.kept_caption
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


def decode_for(path: str, prepare: Callable[[Any], Any] | None = None, min_size: int | None = None) -> Any:
    """The decoded (and, with ``prepare``, preprocessed) image, or the ImageLoadError that says why not:
    the `tag` command's decode threads and the service's loader both decode through here."""
    from autotagger.imageio import ImageLoadError, load_image

    try:
        image = load_image(path) if min_size is None else load_image(path, min_size=min_size)
        return prepare(image) if prepare is not None else image
    except ImageLoadError as exc:
        return exc
    except Exception as exc:  # a decoder bug must not stop the batch
        return ImageLoadError(path, f"cannot decode ({type(exc).__name__}: {one_line(exc)})")


def _decode_group(members: Sequence[str], prepare: Callable[[Any], Any] | None) -> tuple[str, Any]:
    """The first of ``members`` (in preference order) that decodes, and its image; when none does, the
    first's path and its error (a damaged JPEG whose RAW is fine gets the RAW's preview)."""
    from autotagger.watch.files import by_preference

    first: tuple[str, Any] | None = None
    for path in by_preference(members):
        img = decode_for(path, prepare)
        if not isinstance(img, Exception):
            return path, img
        first = first or (path, img)
    assert first is not None
    return first


def tag_paths(
    paths: Sequence[str],
    tagger: Tagger,
    *,
    batch_size: int = 8,
    workers: int | None = None,
) -> Generator[TagResult, None, None]:
    """One result per path, a capture's files together (the model runs once per capture, as the
    watcher does: a RAW+JPEG pair gets one caption and one set of tags), otherwise in input order.
    Decoding (and the tagger's ``preprocess``, where it has one) runs ``2 * batch_size`` captures ahead
    of the model on ``workers`` threads."""
    from autotagger.watch.files import capture_groups

    prepare = getattr(tagger, "preprocess", None)
    workers = workers or min(16, os.cpu_count() or 2)
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="decode")
    pending: deque[tuple[list[str], Future[tuple[str, Any]]]] = deque()
    it = iter(capture_groups(paths))

    def refill() -> None:
        while len(pending) < 2 * batch_size:
            try:
                members = next(it)
            except StopIteration:
                return
            pending.append((members, pool.submit(_decode_group, members, prepare)))

    try:
        refill()
        while pending:
            batch: list[tuple[str, Any]] = []
            ordered: list[tuple[list[str], TagResult | None]] = []
            while pending and len(batch) < batch_size:
                members, fut = pending.popleft()
                seen, img = fut.result()
                if isinstance(img, Exception):
                    failed = TagResult(path=seen, model_id=tagger.model_id, error=str(getattr(img, "reason", img)))
                    ordered.append((members, failed))
                else:
                    batch.append((seen, img))
                    ordered.append((members, None))
            refill()
            results = iter(tagger.tag_images(batch) if batch else [])
            for members, r in ordered:
                r = r if r is not None else next(results)
                for member in members:
                    yield r if member == r.path else replace(r, path=member)
    finally:  # also when closed early (the run stopped): the decodes not started are not wanted
        pool.shutdown(wait=True, cancel_futures=True)


NOT_RECORDED = "not recorded in the catalogue"


@dataclass(frozen=True)
class _Written:
    outcome: FileOutcome
    facts: dict[str, Any] | None  # for the catalogue: stat after the write, hash, header facts


class ResultWriter:
    """Writes results into their files on ``threads`` threads, so that the model goes on while files
    are written and fsynced, and records them in the catalogue on the caller's thread, in the order
    given. A capture's files (IMG_1.CR2 + IMG_1.JPG, which may share IMG_1.xmp) are written one after
    the other. ``submit`` and ``finish`` return the outcomes that are complete, in order.

    ``stop`` (safe in a signal handler) starts no more writes; those in flight finish and come out of
    ``finish``. A catalogue that refuses a record stops the writer too: a file changed but not
    recorded must be reported, and no more are made; ``catalog_error`` says why, once."""

    def __init__(
        self, *, write_mode: str, sidecar_name: str, keep_backup: bool, catalog: Any | None, threads: int = 4
    ) -> None:
        self.write_mode, self.sidecar_name, self.keep_backup = write_mode, sidecar_name, keep_backup
        self.catalog = catalog
        self.catalog_error: str | None = None
        self.unrecorded = 0  # outcomes returned with NOT_RECORDED
        self.stopped = False
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="write")
        self._window = 4 * max(1, threads)
        self._pending: deque[Future[_Written | None]] = deque()
        self._last_of_group: dict[str, Future[_Written | None]] = {}

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        """Also when the caller fails: no write is left half done, and each one made is recorded
        (its outcome cannot be returned any more, but the catalogue must not lag the files)."""
        self.stop()
        self._pool.shutdown(wait=True)
        if self._pending:
            with contextlib.suppress(Exception):  # the caller's error is the one to see
                self._collect(wait_for=len(self._pending))

    def stop(self) -> None:
        self.stopped = True

    def submit(self, result: TagResult) -> list[FileOutcome]:
        from autotagger.service.results import person_edits
        from autotagger.watch.files import group_key

        edits = person_edits(self.catalog, result.path) if self.catalog is not None and result.ok else None
        key = group_key(result.path)
        fut = self._pool.submit(self._write, result, edits, self._last_of_group.get(key))
        self._last_of_group[key] = fut
        self._pending.append(fut)
        return self._collect(wait_for=len(self._pending) - self._window)

    def finish(self) -> list[FileOutcome]:
        return self._collect(wait_for=len(self._pending))

    def _collect(self, wait_for: int) -> list[FileOutcome]:
        out: list[FileOutcome] = []
        while self._pending and (wait_for > 0 or self._pending[0].done()):
            written = self._pending.popleft().result()
            wait_for -= 1
            if written is not None:  # None: not started, the writer was stopped
                out.append(self._recorded(written))
        if not self._pending:
            self._last_of_group.clear()
        return out

    def _recorded(self, written: _Written) -> FileOutcome:
        """The outcome, recorded; once the catalogue refused one, none is tried again and each says so."""
        from autotagger.catalog import CatalogError

        if self.catalog is None:
            return written.outcome
        if self.catalog_error is None:
            try:
                _record(self.catalog, written)
                return written.outcome
            except CatalogError as exc:
                self.catalog_error = str(exc)
                self.stop()
        self.unrecorded += 1
        o = written.outcome
        return replace(o, warnings=(*o.warnings, NOT_RECORDED))

    def _write(self, result: TagResult, edits: Any, before: Future[_Written | None] | None) -> _Written | None:
        """On the pool: no catalogue here. None when stopped before it began: the file is untouched."""
        from autotagger.metadata import MetadataError
        from autotagger.service.items import kept_caption, write_and_read_back
        from autotagger.service.results import PersonEdits, metadata_for

        if before is not None:
            before.result()  # submitted earlier, so already started: the pool runs tasks in order
        if self.stopped:
            return None
        if not result.ok:
            return _Written(FileOutcome(result), None)
        try:
            done, st, h, info = write_and_read_back(
                result.path, metadata_for(result, edits), write_mode=self.write_mode,
                sidecar_name=self.sidecar_name, keep_backup=self.keep_backup,
            )
        except (MetadataError, OSError) as exc:
            failed = replace(result, error=f"cannot write metadata: {' '.join(str(exc).split())}")
            return _Written(FileOutcome(failed), None)
        facts = {"size": st.size, "mtime": st.mtime, "content_hash": h, **info}
        kept = kept_caption(done, result.caption, edits or PersonEdits())
        outcome = FileOutcome(result, bool(done and done.embedded), done.sidecar if done else None,
                              tuple(done.warnings) if done else (), kept)
        return _Written(outcome, facts)


def _record(catalog: Any, written: _Written) -> None:
    result = written.outcome.result
    if written.facts is None:
        catalog.record_failure(result.path, result.error or "failed")
    else:
        catalog.record_result(result, **written.facts)
        if written.outcome.kept_caption is not None:  # what the file says, as the person's (the service does so too)
            catalog.set_caption(result.path, written.outcome.kept_caption)
