"""Fetch a BLIP-2 checkpoint into the normal Hugging Face cache, with byte progress and cancel.

The same call serves `autotagger model download` and the GUI's first-run "Download now". Only the
files a safetensors-only load needs are fetched (``ALLOW_PATTERNS``). Files are fetched one after
another with ``hf_hub_download`` pinned to one commit; each gets a silent tqdm stand-in that counts
bytes written, so the caller sees one overall ``progress(done, total)`` in bytes. A final
``snapshot_download`` (every file already there: only listing calls) records the branch ref, so an
offline load finds the snapshot afterwards. ``download_to`` then copies it into a folder of one's own
(`model download --to DIR`). No torch, no Qt.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# What a download fetches: weights as safetensors only (never pickles), configs, tokenizer files.
ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.model", "tokenizer*", "*.tiktoken"]

Progress = Callable[[int, int], None]

# Exception class names (anywhere in the MRO or the cause chain) that mean "the hub cannot be reached";
# httpx/httpx2/requests/urllib3 spell them differently, so match by name rather than import them all.
_NETWORK_NAMES = frozenset({
    "OfflineModeIsEnabled", "LocalEntryNotFoundError", "ConnectError", "ConnectTimeout", "ConnectionError",
    "TimeoutException", "ReadTimeout", "Timeout", "NetworkError", "NewConnectionError", "MaxRetryError",
    "NameResolutionError", "gaierror", "TimeoutError",
})
_NOT_FOUND_NAMES = frozenset({
    "RepositoryNotFoundError", "RevisionNotFoundError", "EntryNotFoundError", "RemoteEntryNotFoundError",
    "HFValidationError",
})


class ModelDownloadError(Exception):
    """A download that did not finish, in one line. ``reason``: offline, not-found, gated, disk-full,
    cancelled, destination (a ``download_to`` folder refused before anything was fetched) or failed."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(" ".join(message.split()))
        self.reason = reason


@dataclass(frozen=True)
class _File:
    name: str
    size: int


class _Cancelled(Exception):
    """Raised inside a progress update to stop the transfer in flight."""


def looks_like_a_path(model_id: str) -> bool:
    """A hub id is NAME or OWNER/NAME; a leading /, ~ or ., a drive letter, a backslash or more
    slashes is a folder (one that is missing must be said so, not looked up on the hub)."""
    return (model_id.startswith(("/", "~", ".")) or "\\" in model_id or model_id.count("/") > 1
            or (len(model_id) > 2 and model_id[0].isalpha() and model_id[1:3] in (":/", ":\\")))


def hub_offline(environ: dict[str, str] | None = None) -> bool:
    """True when the environment turns the hub off (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE)."""
    env = os.environ if environ is None else environ
    return any(env.get(k, "").strip().lower() in ("1", "true", "yes", "on")
               for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for e in _causes(exc) for cls in type(e).__mro__}


def _one_line(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cache_root(cache_dir: str | Path | None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def classify_error(model_id: str, exc: BaseException, cache_dir: str | Path | None = None
                   ) -> ModelDownloadError:
    """Turn whatever the hub client raised into a one-line ModelDownloadError."""
    if isinstance(exc, ModelDownloadError):
        return exc
    names = _names(exc)
    if "_Cancelled" in names:
        return ModelDownloadError("cancelled", f"download of {model_id} cancelled; what was fetched stays in the cache")
    for e in _causes(exc):
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            return ModelDownloadError("disk-full", f"disk full while downloading {model_id} into "
                                                   f"{_cache_root(cache_dir)}: free some space and try again")
    if "GatedRepoError" in names:
        return ModelDownloadError("gated", f"{model_id} is gated: accept its licence on huggingface.co and log in "
                                           "(hf auth login), then try again")
    if "OfflineModeIsEnabled" in names or (names & _NETWORK_NAMES and not names & _NOT_FOUND_NAMES - {"EntryNotFoundError"}):
        return ModelDownloadError("offline", f"cannot reach the Hugging Face hub to download {model_id} "
                                             f"(offline?): {_one_line(exc, 120)}")
    if names & _NOT_FOUND_NAMES:
        return ModelDownloadError("not-found", f"{model_id} was not found on the Hugging Face hub "
                                               "(check the model id)")
    if "HfHubHTTPError" in names:
        return ModelDownloadError("failed", f"the Hugging Face hub refused the download of {model_id}: "
                                            f"{_one_line(exc, 160)}")
    if isinstance(exc, OSError):
        return ModelDownloadError("failed", f"cannot write {model_id} into {_cache_root(cache_dir)}: "
                                            f"{exc.strerror or _one_line(exc)}")
    return ModelDownloadError("failed", f"cannot download {model_id}: {_one_line(exc)}")


def wanted(filename: str) -> bool:
    """True when a repo file matches ALLOW_PATTERNS (as snapshot_download's allow_patterns match)."""
    return any(fnmatch.fnmatch(filename, p) for p in ALLOW_PATTERNS)


def _plan(model_id: str, timeout: float | None) -> tuple[str | None, list[_File]]:
    """The commit and the files (with sizes) that match ALLOW_PATTERNS. Network: one API call."""
    from huggingface_hub import HfApi

    info = HfApi().model_info(model_id, files_metadata=True, timeout=timeout)
    files = []
    for s in sorted(info.siblings or [], key=lambda s: s.rfilename):
        if wanted(s.rfilename):
            size = s.lfs.size if s.lfs is not None else s.size
            files.append(_File(s.rfilename, int(size or 0)))
    return info.sha, files


def model_download_size(model_id: str, *, timeout: float | None = 10.0) -> int | None:
    """Bytes a download of ``model_id`` fetches (the files matching ALLOW_PATTERNS), asked of the hub.
    None when that cannot be known: offline, a local folder, an unknown id, any hub error."""
    if hub_offline() or Path(model_id).expanduser().is_dir() or looks_like_a_path(model_id):
        return None
    try:
        _, files = _plan(model_id, timeout)
    except Exception:
        return None
    return sum(f.size for f in files)


class _ByteCounter:
    """A silent stand-in for the tqdm bar huggingface_hub opens per file. ``update`` counts bytes written
    (plain HTTP and xet both report them there); ``update_transfer`` (network bytes, xet) is ignored so a
    byte is counted once. Any other bar method is accepted and does nothing."""

    on_bytes: Callable[[int], None] = staticmethod(lambda n: None)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.iterable = args[0] if args else kwargs.get("iterable")
        self.n = int(kwargs.get("initial") or 0)
        self.total = kwargs.get("total")
        self.disable = True
        self.format_dict: dict[str, Any] = {}
        if self.n:
            type(self).on_bytes(self.n)

    def update(self, n: float | None = 1) -> None:
        inc = int(n or 0)
        self.n += inc
        type(self).on_bytes(inc)

    def update_transfer(self, n: float | None = 1) -> None:
        return None

    def __enter__(self) -> _ByteCounter:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.iterable if self.iterable is not None else ())

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *a, **k: None


def _counter_class(on_bytes: Callable[[int], None]) -> type[_ByteCounter]:
    return type("_BoundByteCounter", (_ByteCounter,), {"on_bytes": staticmethod(on_bytes)})


def _free_bytes(root: Path) -> int | None:
    for p in (root, *root.parents):
        try:
            return shutil.disk_usage(p).free
        except OSError:
            continue
    return None


def _gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB"


def download_model(
    model_id: str,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    cache_dir: str | Path | None = None,
    timeout: float | None = 10.0,
) -> str:
    """Fetch ``model_id`` into the Hugging Face cache and return its snapshot folder (a local folder is
    returned as it is; a path to a missing one is "not-found", never asked of the hub).
    ``progress(done, total)`` gets bytes, from the calling thread; setting ``cancel`` stops at the next
    progress tick (a xet transfer may finish its current file first). With the hub switched off
    (HF_HUB_OFFLINE), a model already whole in the cache is its snapshot folder. Raises
    ModelDownloadError (one line) for offline, not-found, gated, disk-full, cancelled or anything else."""
    local = Path(model_id).expanduser()
    if local.is_dir():
        return str(local)
    if looks_like_a_path(model_id):
        raise ModelDownloadError("not-found", f"no model folder {local} (a hub id looks like Salesforce/blip2-opt-2.7b)")
    if hub_offline():  # nothing can be fetched: done if the cache holds it whole, else said so
        return str(_cached_snapshot(model_id, cache_dir))
    stop = cancel if cancel is not None else threading.Event()
    report: Progress = progress if progress is not None else (lambda done, total: None)

    def check() -> None:
        if stop.is_set():
            raise _Cancelled()

    try:
        check()
        from huggingface_hub import hf_hub_download, snapshot_download, try_to_load_from_cache

        sha, files = _plan(model_id, timeout)
        total = sum(f.size for f in files)
        cached = {f.name for f in files
                  if isinstance(try_to_load_from_cache(model_id, f.name, cache_dir=cache_dir, revision=sha), str)}
        done = sum(f.size for f in files if f.name in cached)
        missing = total - done
        free = _free_bytes(_cache_root(cache_dir))
        if free is not None and missing > free:
            raise ModelDownloadError("disk-full", f"not enough disk space for {model_id}: {_gb(missing)} to fetch, "
                                                  f"{_gb(free)} free in {_cache_root(cache_dir)}")
        report(done, total)
        state = {"done": done, "total": total}

        def on_bytes(n: int) -> None:
            state["done"] = max(0, state["done"] + n)
            state["total"] = max(state["total"], state["done"])
            report(state["done"], state["total"])
            check()

        counter = _counter_class(on_bytes)
        for f in files:
            check()
            if f.name in cached:
                continue
            before = state["done"]
            hf_hub_download(model_id, f.name, revision=sha, cache_dir=cache_dir, tqdm_class=counter,
                            etag_timeout=timeout or 10.0)
            # A file already in the blob store reports nothing; a resumed one reports only the rest.
            state["done"] = before + f.size
            state["total"] = max(state["total"], state["done"])
            report(state["done"], state["total"])
        check()
        # Every file is there now: this lists the repo, records refs/main and returns the snapshot folder.
        path = snapshot_download(model_id, allow_patterns=ALLOW_PATTERNS, cache_dir=cache_dir, tqdm_class=_ByteCounter,
                                 etag_timeout=timeout or 10.0)
        report(state["total"], state["total"])
        return str(path)
    except Exception as exc:
        raise classify_error(model_id, exc, cache_dir) from None


def check_destination(dest: Path) -> None:
    """Refuse a ``--to`` folder before anything is fetched: a file, a folder that is not empty (nothing
    in it is ever overwritten or deleted), a folder whose parent is missing (a typo must not make a
    tree), or one we may not write. ModelDownloadError reason "destination" (said as bad usage) or
    "failed" (permission)."""
    if dest.exists() and not dest.is_dir():
        raise ModelDownloadError("destination", f"{dest} is a file, not a folder")
    if dest.is_dir():
        try:
            empty = next(dest.iterdir(), None) is None
        except OSError as exc:
            raise ModelDownloadError("failed", f"cannot read {dest}: {exc.strerror or _one_line(exc)}") from None
        if not empty:
            raise ModelDownloadError("destination", f"{dest} is not empty: give a new or empty folder "
                                                    "(nothing in it was changed)")
    elif not dest.absolute().parent.is_dir():
        raise ModelDownloadError("destination", f"{dest}: its folder {dest.absolute().parent} does not exist")
    where = dest if dest.is_dir() else dest.absolute().parent
    if not os.access(where, os.W_OK | os.X_OK):
        raise ModelDownloadError("failed", f"cannot write into {where}: permission denied")


def _cached_snapshot(model_id: str, cache_dir: str | Path | None) -> Path:
    """With the hub switched off: the snapshot already in the cache, when the load would take it whole."""
    from huggingface_hub import snapshot_download

    from autotagger.engine.checkpoint import checkpoint_problem

    try:
        path = Path(snapshot_download(model_id, allow_patterns=ALLOW_PATTERNS, cache_dir=cache_dir,
                                      local_files_only=True))
    except Exception:
        raise ModelDownloadError("offline", f"the Hugging Face hub is switched off (HF_HUB_OFFLINE) and {model_id} "
                                            "is not in its cache: it cannot be downloaded here") from None
    problem = checkpoint_problem(path)
    if problem is not None:
        raise ModelDownloadError("offline", f"the Hugging Face hub is switched off (HF_HUB_OFFLINE) and {model_id} "
                                            f"is only partly in its cache ({problem})")
    return path


def download_to(
    model_id: str,
    dest: str | Path,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    cache_dir: str | Path | None = None,
    timeout: float | None = 10.0,
) -> str:
    """Fetch ``model_id`` as download_model does (into the cache: resumable) and copy its files into the
    folder ``dest``, for ``--model DEST`` or to carry to a machine without network (with the hub switched
    off, a model already whole in the cache is copied). ``dest`` must be new or empty (see
    check_destination). The files are copied into a hidden folder inside ``dest`` and moved into place
    only once all are there, so ``dest`` never holds half a checkpoint; on any failure what we made is
    removed and nothing else is touched. Returns ``dest``; raises ModelDownloadError (one line)."""
    dest = Path(dest).expanduser()
    check_destination(dest)
    snapshot = Path(download_model(model_id, progress=progress, cancel=cancel, cache_dir=cache_dir, timeout=timeout))
    files = sorted(p.relative_to(snapshot) for p in snapshot.rglob("*")
                   if p.is_file() and wanted(p.relative_to(snapshot).as_posix()))
    created = not dest.exists()
    staging = dest / ".autotagger-download.partial"
    moved: list[Path] = []
    try:
        dest.mkdir(exist_ok=True)
        need = sum((snapshot / f).stat().st_size for f in files)
        free = _free_bytes(dest)
        if free is not None and need > free:
            raise ModelDownloadError("disk-full", f"not enough disk space to copy {model_id} into {dest}: "
                                                  f"{_gb(need)} needed, {_gb(free)} free")
        staging.mkdir()
        for f in files:
            if cancel is not None and cancel.is_set():
                raise ModelDownloadError("cancelled", f"copy of {model_id} into {dest} cancelled; nothing was left "
                                                      "there")
            (staging / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(snapshot / f, staging / f)  # follows the cache's links to its blobs
        for f in files:
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / f, dest / f)
            moved.append(dest / f)
        shutil.rmtree(staging)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        for path in moved:  # ours: ``dest`` was empty
            path.unlink(missing_ok=True)
        if created:
            with contextlib.suppress(OSError):
                dest.rmdir()  # only when empty: a file someone put there meanwhile stays
        if isinstance(exc, ModelDownloadError):
            raise
        if isinstance(exc, OSError):
            if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
                raise ModelDownloadError("disk-full", f"disk full while copying {model_id} into {dest}: free some "
                                                      "space and try again") from None
            raise ModelDownloadError("failed", f"cannot write into {dest}: {exc.strerror or _one_line(exc)}") from None
        raise
    return str(dest)
