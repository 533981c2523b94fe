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

OK, MISSING = "ok", "missing"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok" or "missing"
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
        Check("catalogue", OK, state(settings.catalog_path, "not created yet")),
        Check("cache", OK, state(config.cache_dir(), "not created yet")),
    ]


def model_checks(model: str) -> list[Check]:
    hub_hint = f"run: autotagger model download {model} (needs network once; then works offline)"
    try:
        from huggingface_hub import constants, try_to_load_from_cache
    except ImportError:
        return [Check("model", MISSING, model, "pip install huggingface-hub")]
    hf_cache = Path(constants.HF_HUB_CACHE)
    checks = [Check("hf-cache", OK, str(hf_cache) + ("" if hf_cache.exists() else " (not created yet)"))]
    local = Path(model).expanduser()
    if local.is_dir():
        found = (local / "config.json").is_file()
        detail = f"{model} (local folder)"
        hint = "" if found else f"{local} has no config.json: not a checkpoint folder"
        checks.append(Check("model", OK if found else MISSING, detail, hint))
        return checks
    try:
        hit = try_to_load_from_cache(model, "config.json", cache_dir=hf_cache)
    except Exception as exc:  # a malformed id: say so, do not crash
        return [*checks, Check("model", MISSING, f"{model} ({' '.join(str(exc).split())})", hub_hint)]
    if isinstance(hit, str):
        return [*checks, Check("model", OK, f"{model} cached at {Path(hit).parent}")]
    return [*checks, Check("model", MISSING, f"{model} not in the cache", hub_hint)]


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
