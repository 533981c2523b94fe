"""download_model / model_download_size against a simulated hub: no network. The fake hub writes real
files into a Hugging Face cache layout under tmp_path and reports bytes through the tqdm class it is
given, the way huggingface_hub does; two tests drive the installed hub's own progress code."""

from __future__ import annotations

import errno
import logging
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import huggingface_hub
import pytest
from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled, RepositoryNotFoundError

from autotagger.engine import download as dl
from autotagger.engine.download import ALLOW_PATTERNS, ModelDownloadError, download_model, model_download_size

MODEL = "acme/blip2-test"
SHA = "0123456789abcdef0123456789abcdef01234567"
FILES = {  # name -> size; the .bin and .h5 are not in ALLOW_PATTERNS and must never be fetched
    "config.json": 300,
    "model-00001-of-00002.safetensors": 2_500_000,
    "model-00002-of-00002.safetensors": 1_200_000,
    "pytorch_model.bin": 9_000_000,
    "tf_model.h5": 9_000_000,
    "tokenizer.json": 40_000,
    "README.md": 1000,
}
WANTED = {k: v for k, v in FILES.items() if not k.endswith((".bin", ".h5", ".md"))}


class FakeHub:
    """model_info / hf_hub_download / snapshot_download over tmp_path, chunked progress, optional failures."""

    def __init__(self, cache: Path, chunk: int = 500_000) -> None:
        self.cache, self.chunk = cache, chunk
        self.fetched: list[str] = []
        self.fail: BaseException | None = None  # raised by model_info
        self.fail_on: tuple[str, BaseException] | None = None  # raised mid-transfer of one file
        self.after_chunk: Any = None  # called after each chunk (the test's hook)
        self.repo = cache / ("models--" + MODEL.replace("/", "--"))

    def model_info(self, repo_id: str, *, files_metadata: bool = False, timeout: float | None = None,
                   **_: Any) -> Any:
        if self.fail is not None:
            raise self.fail
        assert files_metadata, "sizes need files_metadata=True"
        return SimpleNamespace(sha=SHA, siblings=[
            SimpleNamespace(rfilename=n, size=s, lfs=SimpleNamespace(size=s) if n.endswith("safetensors") else None)
            for n, s in FILES.items()])

    def hf_hub_download(self, repo_id: str, filename: str, *, revision: str, cache_dir: Any, tqdm_class: Any,
                        **_: Any) -> str:
        assert repo_id == MODEL and revision == SHA and Path(cache_dir) == self.cache
        self.fetched.append(filename)
        dest = self.repo / "snapshots" / SHA / filename
        tmp = self.repo / "blobs" / f"{filename}.incomplete"
        tmp.parent.mkdir(parents=True, exist_ok=True)
        size = FILES[filename]
        try:
            with tmp.open("wb") as f, tqdm_class(total=size, initial=0, unit="B", unit_scale=True,
                                                 desc=filename) as bar:
                left = size
                while left:
                    n = min(self.chunk, left)
                    if self.fail_on and self.fail_on[0] == filename and left < size:
                        raise self.fail_on[1]
                    f.write(b"\0" * n)
                    bar.update(n)
                    bar.update_transfer(n)  # network bytes: must not be counted twice
                    left -= n
                    if self.after_chunk:
                        self.after_chunk(filename)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        return str(dest)

    def snapshot_download(self, repo_id: str, *, allow_patterns: list[str], cache_dir: Any, **_: Any) -> str:
        assert allow_patterns == ALLOW_PATTERNS
        snap = self.repo / "snapshots" / SHA
        missing = [n for n in WANTED if not (snap / n).is_file()]
        assert not missing, f"snapshot_download would have to fetch {missing}"
        (self.repo / "refs").mkdir(parents=True, exist_ok=True)
        (self.repo / "refs" / "main").write_text(SHA)
        return str(snap)


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    fake = FakeHub(tmp_path / "hub")
    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", lambda self, *a, **k: fake.model_info(*a, **k))
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake.hf_hub_download)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake.snapshot_download)
    return fake


def test_downloads_only_allowed_files_with_overall_byte_progress(hub: FakeHub) -> None:
    calls: list[tuple[int, int]] = []
    path = download_model(MODEL, progress=lambda d, t: calls.append((d, t)), cache_dir=hub.cache)
    total = sum(WANTED.values())
    assert sorted(hub.fetched) == sorted(WANTED)
    assert Path(path) == hub.repo / "snapshots" / SHA
    assert sorted(p.name for p in Path(path).iterdir()) == sorted(WANTED)
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert all(t == total for _, t in calls)
    dones = [d for d, _ in calls]
    assert dones == sorted(dones), "progress went backwards"
    assert len(set(dones)) > len(WANTED), "progress should move within the big files, not only per file"
    assert (hub.repo / "refs" / "main").read_text() == SHA


def test_size_is_the_sum_of_matching_files(hub: FakeHub) -> None:
    assert model_download_size(MODEL) == sum(WANTED.values())
    assert dl.wanted("model.safetensors") and dl.wanted("sub/config.json") and not dl.wanted("pytorch_model.bin")


def test_size_is_none_offline_or_for_a_folder(hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert model_download_size(str(tmp_path)) is None
    hub.fail = OfflineModeIsEnabled("offline")
    assert model_download_size(MODEL) is None
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub.fail = None
    assert model_download_size(MODEL) is None


def test_files_already_cached_are_not_fetched_again(hub: FakeHub) -> None:
    download_model(MODEL, cache_dir=hub.cache)
    hub.fetched.clear()
    calls: list[tuple[int, int]] = []
    download_model(MODEL, progress=lambda d, t: calls.append((d, t)), cache_dir=hub.cache)
    assert hub.fetched == []
    total = sum(WANTED.values())
    assert calls[0] == (total, total)


@pytest.mark.parametrize("exc", [
    OfflineModeIsEnabled("HF_HUB_OFFLINE is set"),
    LocalEntryNotFoundError("connection error, and no cache"),
    ConnectionError("Name or service not known"),
    TimeoutError("timed out"),
])
def test_offline_is_one_line_offline_error(hub: FakeHub, exc: Exception) -> None:
    hub.fail = exc
    with pytest.raises(ModelDownloadError) as info:
        download_model(MODEL, cache_dir=hub.cache)
    assert info.value.reason == "offline"
    assert "\n" not in str(info.value) and "cannot reach the Hugging Face hub" in str(info.value)
    assert hub.fetched == []


def test_offline_env_fails_before_any_call(hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub.fail = AssertionError("the hub must not be asked")
    with pytest.raises(ModelDownloadError) as info:
        download_model(MODEL, cache_dir=hub.cache)
    assert info.value.reason == "offline"


def test_not_found(hub: FakeHub) -> None:
    response = SimpleNamespace(status_code=404, headers={}, request=None, url="https://huggingface.co/x")
    try:
        err = RepositoryNotFoundError("404 Client Error.\nRepository Not Found for url", response=response)
    except TypeError:  # another hub version's constructor
        pytest.skip("RepositoryNotFoundError signature differs")
    hub.fail = err
    with pytest.raises(ModelDownloadError) as info:
        download_model(MODEL, cache_dir=hub.cache)
    assert info.value.reason == "not-found" and "\n" not in str(info.value)


def test_disk_full_mid_transfer_leaves_no_partial_file(hub: FakeHub) -> None:
    hub.fail_on = ("model-00001-of-00002.safetensors", OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(ModelDownloadError) as info:
        download_model(MODEL, cache_dir=hub.cache)
    assert info.value.reason == "disk-full" and "disk full" in str(info.value)
    assert not list(hub.repo.rglob("*.incomplete"))
    assert not (hub.repo / "snapshots" / SHA / "model-00001-of-00002.safetensors").exists()


def test_not_enough_space_is_said_before_fetching(hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dl.shutil, "disk_usage", lambda p: SimpleNamespace(total=10**9, used=10**9, free=1000))
    with pytest.raises(ModelDownloadError) as info:
        download_model(MODEL, cache_dir=hub.cache)
    assert info.value.reason == "disk-full" and "not enough disk space" in str(info.value)
    assert hub.fetched == []


def test_cancel_stops_mid_file(hub: FakeHub) -> None:
    cancel = threading.Event()
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        if done >= 1_000_000:
            cancel.set()

    with pytest.raises(ModelDownloadError) as info:
        download_model(MODEL, progress=progress, cancel=cancel, cache_dir=hub.cache)
    assert info.value.reason == "cancelled"
    big = "model-00001-of-00002.safetensors"
    assert big in hub.fetched and "model-00002-of-00002.safetensors" not in hub.fetched
    assert not (hub.repo / "snapshots" / SHA / big).exists()
    assert not list(hub.repo.rglob("*.incomplete"))
    assert max(seen) < sum(WANTED.values())


def test_cancel_from_another_thread_before_start(hub: FakeHub) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ModelDownloadError) as info:
        download_model(MODEL, cancel=cancel, cache_dir=hub.cache)
    assert info.value.reason == "cancelled" and hub.fetched == []


def test_a_local_folder_is_returned_as_is(tmp_path: Path) -> None:
    assert download_model(str(tmp_path)) == str(tmp_path)


# -- the installed huggingface_hub's own progress code with our counter --------------------------------
def test_counter_with_the_hubs_http_get(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fd = pytest.importorskip("huggingface_hub.file_download")
    if not hasattr(fd, "http_stream_backoff") or not hasattr(fd, "http_get"):
        pytest.skip("this huggingface_hub streams differently")
    body = b"x" * 3_000_000

    @contextmanager
    def stream(**_: Any) -> Any:
        yield SimpleNamespace(status_code=200, headers={"Content-Length": str(len(body))},
                              iter_bytes=lambda chunk_size: (body[i:i + chunk_size]
                                                             for i in range(0, len(body), chunk_size)))

    monkeypatch.setattr(fd, "http_stream_backoff", stream)
    monkeypatch.setattr(fd, "hf_raise_for_status", lambda r, **k: None)
    got: list[int] = []
    with (tmp_path / "f").open("wb") as f:
        fd.http_get("https://example.invalid/f", f, expected_size=len(body), tqdm_class=dl._counter_class(got.append))
    assert sum(got) == len(body)
    assert (tmp_path / "f").stat().st_size == len(body)


def test_counter_with_the_hubs_xet_reporter() -> None:
    mod = pytest.importorskip("huggingface_hub.utils._xet_progress_reporting")
    got: list[int] = []
    reporter = mod.XetDownloadProgressReporter(reconstruction_desc="f", total=100, log_level=logging.INFO,
                                               tqdm_class=dl._counter_class(got.append))
    for written, received in ((30, 50), (70, 90), (100, 100)):
        reporter.update_progress(SimpleNamespace(
            total_bytes_completed=written, total_transfer_bytes_completed=received, total_bytes=100,
            total_bytes_completion_rate=None, total_transfer_bytes_completion_rate=None))
    reporter.close()
    assert sum(got) == 100  # written bytes, each once


# -- `autotagger model download` -----------------------------------------------------------------------
def test_cli_download_prints_the_folder(hub: FakeHub, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from autotagger.cli import main

    real = dl.download_model
    monkeypatch.setattr(dl, "download_model", lambda m, **k: real(m, cache_dir=hub.cache, **k))
    assert main(["model", "download", MODEL]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(hub.repo / "snapshots" / SHA) and err == ""


@pytest.mark.parametrize("exc, words", [
    (OfflineModeIsEnabled("offline"), "cannot reach the Hugging Face hub"),
    (OSError(errno.ENOSPC, "No space left on device"), "disk full"),
])
def test_cli_download_failure_is_one_line(hub: FakeHub, capsys: pytest.CaptureFixture[str], exc: Exception,
                                          words: str) -> None:
    from autotagger.cli import main

    hub.fail = exc
    assert main(["model", "download", MODEL]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("autotagger: error: ") and words in err


def test_terminal_progress_line() -> None:
    import io

    from autotagger.cli.model_cmd import TerminalProgress

    buf = io.StringIO()
    bar = TerminalProgress("downloading x", buf, min_interval=0.0)
    bar(0, 200_000_000)
    bar(100_000_000, 200_000_000)
    bar(200_000_000, 200_000_000)
    bar.finish()
    lines = buf.getvalue().split("\r")[1:]
    assert lines[1].startswith("downloading x  100 / 200 MB   50%")
    assert lines[2].startswith("downloading x  200 / 200 MB  100%") and buf.getvalue().endswith("\n")


# -- download_to: into a folder of one's own ----------------------------------------------------------
def test_download_to_copies_only_the_wanted_files_and_leaves_no_staging(hub: FakeHub, tmp_path: Path) -> None:
    dest = tmp_path / "blip2"
    calls: list[tuple[int, int]] = []
    assert dl.download_to(MODEL, dest, cache_dir=hub.cache, progress=lambda d, t: calls.append((d, t))) == str(dest)
    assert {p.name: p.stat().st_size for p in dest.iterdir()} == WANTED
    assert not any(p.is_symlink() for p in dest.iterdir())  # copies, not links into the cache
    assert calls[-1] == (sum(WANTED.values()),) * 2
    hub.fetched.clear()
    with pytest.raises(ModelDownloadError) as info:  # a second time: the folder is no longer empty
        dl.download_to(MODEL, dest, cache_dir=hub.cache)
    assert info.value.reason == "destination" and hub.fetched == []


@pytest.mark.parametrize("made", [False, True], ids=["new folder", "empty folder"])
@pytest.mark.parametrize("error, reason, words", [
    (OSError(errno.ENOSPC, "No space left on device"), "disk-full", "disk full while copying"),
    (PermissionError(errno.EACCES, "Permission denied"), "failed", "cannot write into"),  # a read-only mount
])
def test_download_to_a_copy_that_fails_leaves_the_folder_as_it_was(
        hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, made: bool, error: OSError, reason: str,
        words: str) -> None:
    dest = tmp_path / "blip2"
    if made:
        dest.mkdir()
    copied: list[str] = []
    real = dl.shutil.copyfile

    def copyfile(src: Any, dst: Any) -> Any:
        if copied:  # the second file
            raise error
        copied.append(str(dst))
        return real(src, dst)

    monkeypatch.setattr(dl.shutil, "copyfile", copyfile)
    with pytest.raises(ModelDownloadError) as info:
        dl.download_to(MODEL, dest, cache_dir=hub.cache)
    assert info.value.reason == reason and words in str(info.value) and "\n" not in str(info.value)
    assert copied  # it failed half way
    assert (list(dest.iterdir()) == []) if made else not dest.exists()
    assert sorted(p.name for p in (hub.repo / "snapshots" / SHA).iterdir()) == sorted(WANTED)  # the cache stays


def test_download_to_not_enough_space_is_said_before_copying(hub: FakeHub, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    dl.download_model(MODEL, cache_dir=hub.cache)
    monkeypatch.setattr(dl.shutil, "disk_usage", lambda p: SimpleNamespace(total=10**9, used=10**9, free=1000))
    with pytest.raises(ModelDownloadError) as info:
        dl.download_to(MODEL, tmp_path / "blip2", cache_dir=hub.cache)
    assert info.value.reason == "disk-full" and "not enough disk space to copy" in str(info.value)
    assert not (tmp_path / "blip2").exists()
