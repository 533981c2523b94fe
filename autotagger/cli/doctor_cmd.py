"""autotagger doctor: what is installed, where things live, and what is missing (with hints)."""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from autotagger.cli.common import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    emit_json,
    load_settings_from_args,
    quiet_libraries,
)

OK, MISSING, ERROR = "ok", "missing", "error"
#: The catalogue's quick check reads every page (0.2 s for 150,000 photos); past this it is left unfinished.
QUICK_CHECK_SECONDS = 3.0


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok", "missing", or "error" (there, but damaged or not usable)
    detail: str  # a version, a path, a device name
    hint: str = ""  # what to do when missing
    required: bool = True  # a missing required item makes `doctor` exit 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("doctor", help="check the installation: libraries, GPU, exiftool, paths, model cache")
    p.add_argument("--json", action="store_true", help="one JSON object: {ok, checks: [...]}")
    p.set_defaults(run=run)


# (label, distribution names to try, required, hint)
PACKAGES: tuple[tuple[str, tuple[str, ...], bool, str], ...] = (
    ("torch", ("torch",), True, "pip install torch (CPU: --index-url https://download.pytorch.org/whl/cpu)"),
    ("transformers", ("transformers",), True, "pip install transformers"),
    ("Pillow", ("pillow", "Pillow"), True, "pip install pillow"),
    ("pillow-heif", ("pillow-heif", "pillow_heif"), True, "pip install pillow-heif (HEIC/HEIF photos)"),
    ("rawpy", ("rawpy",), True, "pip install rawpy (camera RAW files)"),
    (
        "PySide6",
        ("PySide6-Essentials", "PySide6"),
        False,
        "pip install 'autotagger[gui]' (only for gui/tray)",
    ),
)


def _version(dists: tuple[str, ...]) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    for dist in dists:
        try:
            return version(dist)
        except PackageNotFoundError:
            continue
    return None


def package_checks() -> list[Check]:
    checks = [
        Check(
            "python",
            OK if sys.version_info >= (3, 10) else MISSING,
            f"{platform.python_version()} ({sys.executable})",
            "" if sys.version_info >= (3, 10) else "autotagger needs Python 3.10 or newer",
        )
    ]
    for label, dists, required, hint in PACKAGES:
        found = _version(dists)
        checks.append(
            Check(label, OK if found else MISSING, found or "not installed", "" if found else hint, required)
        )
    return checks


def gpu_check() -> Check:
    hint = "optional: without CUDA the model runs on the CPU (slow); install a CUDA build of torch for a GPU"
    try:
        import torch
    except ImportError:
        return Check("cuda", MISSING, "torch not installed", hint, required=False)
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        major, minor = torch.cuda.get_device_capability(0)
        dtype = "bfloat16" if major >= 8 else "float16"
        detail = f"{name} (compute {major}.{minor}, CUDA {torch.version.cuda}, {dtype} by default)"
        return Check("cuda", OK, detail, required=False)
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return Check("cuda", MISSING, "no CUDA; Apple MPS available (--device mps)", "", required=False)
    return Check("cuda", MISSING, f"no CUDA GPU (torch {torch.__version__})", hint, required=False)


def exiftool_check() -> Check:
    hint = (
        "optional: apt-get install libimage-exiftool-perl (or brew install exiftool) to inspect written tags"
    )
    exe = shutil.which("exiftool")
    if exe is None:
        return Check("exiftool", MISSING, "not on PATH", hint, required=False)
    try:
        out = subprocess.run([exe, "-ver"], capture_output=True, text=True, timeout=10, check=False)
        version = out.stdout.strip() or "unknown version"
    except (OSError, subprocess.SubprocessError) as exc:
        return Check("exiftool", MISSING, f"{exe} does not run ({exc})", hint, required=False)
    return Check("exiftool", OK, f"{version} ({exe})", required=False)


def path_checks(settings: Any, config_file: Path) -> list[Check]:
    from autotagger import config

    def state(path: Path, note: str) -> str:
        return f"{path}" if path.exists() else f"{path} ({note})"

    return [
        Check("config", OK, state(config_file, "no file: defaults in use")),
        catalog_check(Path(settings.catalog_path)),
        Check("cache", OK, state(config.cache_dir(), "not created yet")),
    ]


def catalog_check(path: Path) -> Check:
    """Open the catalogue read-only and read it: a damaged catalogue opens without a word (SQLite meets a
    bad page only when a statement reads it), so "ok" is said only of one whose every page was read."""
    if not path.exists():
        return Check("catalogue", OK, f"{path} (not created yet)")
    from autotagger.catalog import Catalog, CatalogError

    try:
        with Catalog(path, readonly=True) as cat:
            photos = cat.status().images
        checked = _quick_check(path)
    except CatalogError as exc:  # damaged (naming the backup to restore), a newer schema, unreadable
        return Check("catalogue", ERROR, str(exc))
    return Check("catalogue", OK, f"{path} ({photos} photo{'' if photos == 1 else 's'}, {checked})")


def _quick_check(path: Path) -> str:
    """SQLite's quick check of every page (no index contents), given QUICK_CHECK_SECONDS at most: how
    it went, or CatalogDamaged (one line naming the file and its newest backup)."""
    import sqlite3
    import time
    from urllib.parse import quote

    from autotagger.catalog import CatalogError
    from autotagger.catalog.errors import damage_error, damaged

    deadline = time.monotonic() + QUICK_CHECK_SECONDS
    try:
        conn = sqlite3.connect(f"file:{quote(path.resolve().as_posix())}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise CatalogError(f"cannot open catalogue {path}: {exc}") from None
    try:
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
        rows = conn.execute("PRAGMA quick_check(1)").fetchall()
    except sqlite3.OperationalError as exc:
        if time.monotonic() > deadline:  # interrupted: a very large catalogue on a slow disk
            return f"quick check unfinished after {QUICK_CHECK_SECONDS:g} s"
        raise damage_error(path, exc) or CatalogError(f"cannot read catalogue {path}: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise damage_error(path, exc) or CatalogError(f"cannot read catalogue {path}: {exc}") from None
    finally:
        conn.close()
    if rows != [("ok",)]:
        raise damaged(path, " ".join(" ".join(str(r[0]) for r in rows).split())[:200] or "quick check failed")
    return "quick check ok"


def model_checks(model: str) -> list[Check]:
    """Where the model loads from, and whether it loads offline: the file checks the load itself makes
    (engine/checkpoint.py, as `autotagger model info`), so "ok" is never said of a folder or a partial
    download the load would refuse. No torch: only the files are read."""
    from autotagger.engine.checkpoint import checkpoint_problem

    hub_hint = f"run: autotagger model download {model} (needs network once; then works offline)"
    try:
        from huggingface_hub import constants, try_to_load_from_cache
    except ImportError:
        return [Check("model", MISSING, model, "pip install huggingface-hub")]
    hf_cache = Path(constants.HF_HUB_CACHE)
    checks = [Check("hf-cache", OK, str(hf_cache) + ("" if hf_cache.exists() else " (not created yet)"))]
    local = Path(model).expanduser()
    if local.is_dir():
        problem = checkpoint_problem(local)
        if problem is None:
            return [*checks, Check("model", OK, f"{model} (local folder)")]
        hint = "set model (--model, the config file) to a BLIP-2 checkpoint folder or a hub id"
        return [*checks, Check("model", ERROR, f"{model} (local folder): {problem}", hint)]
    try:
        hit = try_to_load_from_cache(model, "config.json", cache_dir=hf_cache)
    except Exception as exc:  # a malformed id: say so, do not crash
        return [*checks, Check("model", MISSING, f"{model} ({' '.join(str(exc).split())})", hub_hint)]
    if not isinstance(hit, str):
        return [*checks, Check("model", MISSING, f"{model} not in the cache", hub_hint)]
    snapshot = Path(hit).parent
    problem = checkpoint_problem(snapshot)
    if problem is None:
        return [*checks, Check("model", OK, f"{model} cached at {snapshot}")]
    return [*checks, Check("model", MISSING, f"{model} only partly in the cache at {snapshot}: {problem}", hub_hint)]


def collect(args: argparse.Namespace) -> list[Check]:
    from autotagger import config

    settings = load_settings_from_args(args)
    config_file = Path(args.config) if getattr(args, "config", None) else config.default_config_path()
    checks = package_checks()
    checks.append(gpu_check())
    checks.append(exiftool_check())
    checks.extend(path_checks(settings, config_file))
    checks.extend(model_checks(settings.model))
    return checks


def run(args: argparse.Namespace) -> int:
    quiet_libraries(args.verbose)
    checks = collect(args)
    healthy = all(c.status == OK for c in checks if c.required)
    if args.json:
        emit_json({"ok": healthy, "checks": [asdict(c) for c in checks]})
    else:
        width = max(len(c.name) for c in checks)
        for c in checks:
            line = f"{c.status:8s} {c.name:{width}s}  {c.detail}"
            if c.status != OK and c.hint:
                line += f"  -- {c.hint}"
            print(line)
    return EXIT_OK if healthy else EXIT_SOME_FAILED
