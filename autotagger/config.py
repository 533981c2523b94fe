"""Typed settings: defaults here, then the TOML config file, then AUTOTAGGER_* variables, then CLI flags.

Imports nothing else from autotagger: every layer may read it.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

APP_NAME = "autotagger"
DEFAULT_MODEL = "Salesforce/blip2-opt-2.7b"
WRITE_MODES = ("auto", "embed", "sidecar", "both", "none")
SIDECAR_NAMES = ("ext", "base")
DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("auto", "float32", "float16", "bfloat16")
QUANTIZE = ("none", "8bit", "4bit")
#: How the caption and open answers are decoded (engine/decode.py): auto = CUDA graphs on CUDA
#: (the dynamic cache for quantized models), the dynamic cache on the CPU.
DECODE_MODES = ("auto", "dynamic", "static", "graph")


class ConfigError(ValueError):
    """A bad setting; the message is one line for the user."""


def config_dir() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME, appauthor=False))


def default_config_path() -> Path:
    env = os.environ.get("AUTOTAGGER_CONFIG")
    return Path(env) if env else config_dir() / "config.toml"


def default_catalog_path() -> Path:
    return data_dir() / "catalog.sqlite3"


@dataclass
class Settings:
    model: str = DEFAULT_MODEL
    device: str = "auto"
    dtype: str = "auto"
    quantize: str = "none"
    decode: str = "auto"
    questions: str = ""  # path to a question-set TOML; "" = the default set shipped in resources/
    batch_size: int = 0  # images per model batch; 0 = auto (from free GPU memory, 8 on the CPU)
    write: str = "auto"
    sidecar_name: str = "ext"
    keep_backup: bool = False
    catalog: str = ""  # "" = platformdirs default
    settle_seconds: float = 2.0
    poll: bool = False
    recursive: bool = True
    folders: list[str] = field(default_factory=list)

    def validate(self) -> Settings:
        choices = {
            "device": DEVICES,
            "dtype": DTYPES,
            "quantize": QUANTIZE,
            "decode": DECODE_MODES,
            "write": WRITE_MODES,
            "sidecar_name": SIDECAR_NAMES,
        }
        for name, allowed in choices.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ConfigError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        if self.batch_size < 0:
            raise ConfigError(f"batch_size must be 0 (auto) or more, not {self.batch_size}")
        if self.settle_seconds < 0:
            raise ConfigError(f"settle_seconds must be >= 0, not {self.settle_seconds}")
        return self

    @property
    def catalog_path(self) -> Path:
        env = os.environ.get("AUTOTAGGER_CATALOG")
        if self.catalog:
            return Path(self.catalog).expanduser()
        if env:
            return Path(env).expanduser()
        return default_catalog_path()

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied; ``None`` values mean "not given" and are skipped."""
        given = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, **given).validate()

    def to_toml_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_KINDS = {"bool": "true or false", "int": "a whole number", "float": "a number", "list": "a list of paths",
          "str": "a string"}


def _kind(typ: Any) -> str:
    text = str(typ)
    return next(k for k in ("bool", "int", "float", "list", "str") if k in text)


def _coerce(name: str, raw: Any, typ: Any) -> Any:
    """``raw`` (a TOML value, or the text of a variable) as the setting's type. Text that reads as the
    type is taken ("4", "no"); a value of another kind is refused rather than turned into something
    else: 2.7 is not the batch size 2, true is not 1 second, a table is not a model name."""
    kind = _kind(typ)
    bad = ConfigError(f"{name} must be {_KINDS[kind]}, not {raw!r}")
    if isinstance(raw, (dict, list)) and kind != "list":
        raise bad
    if isinstance(raw, bool) and kind not in ("bool", "str"):
        raise bad
    if kind == "str" and not isinstance(raw, str):
        raise bad
    try:
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        if kind == "int":
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError(raw)
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "list":
            if isinstance(raw, list):
                if not all(isinstance(x, str) for x in raw):
                    raise ValueError(raw)
                return list(raw)
            return [p for p in str(raw).split(os.pathsep) if p]
        return str(raw)
    except (TypeError, ValueError):
        raise bad from None


def _checked(source: str, values: dict[str, Any]) -> None:
    """ConfigError naming ``source`` (the file, the variable) when one of ``values`` is out of range:
    each setting is checked on its own, so the one at fault is the one named."""
    try:
        Settings(**values).validate()
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def read_config_file(path: Path | None = None) -> dict[str, Any]:
    """What the config file itself sets, checked and typed: no defaults, no AUTOTAGGER_* variables, no
    flags ({} when there is no file). ConfigError (one line) for a file that cannot be read or a bad key."""
    path = path or default_config_path()
    if not path.exists():
        return {}
    known = {f.name: f.type for f in fields(Settings)}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(f"cannot read config file {path}: {reason[:1].lower() + reason[1:]}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"cannot read config file {path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    values: dict[str, Any] = {}
    for key, raw in data.items():
        if key not in known:
            raise ConfigError(f"unknown setting {key!r} in {path}")
        try:
            values[key] = _coerce(key, raw, known[key])
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    _checked(str(path), values)
    return values


def environment_overrides(environ: Mapping[str, str] | None = None) -> set[str]:
    """The settings an AUTOTAGGER_* variable sets for this run (AUTOTAGGER_CATALOG included)."""
    env = os.environ if environ is None else environ
    return {f.name for f in fields(Settings) if f"AUTOTAGGER_{f.name.upper()}" in env}


def load_settings(path: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Defaults, overridden by the config file (if it exists), overridden by AUTOTAGGER_* variables."""
    env = os.environ if environ is None else environ
    values = read_config_file(path)
    for f in fields(Settings):
        env_key = f"AUTOTAGGER_{f.name.upper()}"
        if env_key in env and f.name != "catalog":  # AUTOTAGGER_CATALOG is read at use, see catalog_path
            try:
                values[f.name] = _coerce(f.name, env[env_key], f.type)
            except ConfigError as exc:
                raise ConfigError(f"{env_key}: {exc}") from None
            _checked(env_key, {f.name: values[f.name]})
    return Settings(**values).validate()


def _without_defaults(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` less those equal to their default: a default not written out can still change later."""
    defaults = dataclasses.asdict(Settings())
    return {k: v for k, v in values.items() if k not in defaults or v != defaults[k]}


def _write_config(values: Mapping[str, Any], path: Path | None) -> Path:
    """The one place the config file is written: atomically (temp file + replace), creating the folder."""
    import tomli_w

    path = path or default_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(tomli_w.dumps(dict(values)), encoding="utf-8")
    os.replace(tmp, path)
    return path


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write ``settings`` as the whole config file; what equals the default is left out."""
    return _write_config(_without_defaults(settings.validate().to_toml_dict()), path)


def update_config_file(changes: Mapping[str, Any], path: Path | None = None) -> Path:
    """Set ``changes`` in the config file and keep everything else the file itself says (not what
    AUTOTAGGER_* variables or flags gave this run). A change back to the default removes the key, so
    that a later change of the default still applies. Checked before anything is written."""
    known = {f.name: f.type for f in fields(Settings)}
    unknown = sorted(set(changes) - set(known))
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r}")
    values = read_config_file(path)
    values.update({k: _coerce(k, v, known[k]) for k, v in changes.items()})
    Settings(**values).validate()
    return _write_config(_without_defaults(values), path)


def union_folders(catalog_folders: Iterable[str], extra: Iterable[str]) -> list[str]:
    """The one list of watched folders: the catalogue's (the Folders tab, Settings > Watching,
    `autotagger folders`), then the settings' extra ``folders`` (the config file or AUTOTAGGER_FOLDERS,
    for headless setups) not already in it. Absolute, each once, in that order."""
    out: list[str] = []
    for folder in (*catalog_folders, *extra):
        path = os.path.abspath(os.path.expanduser(folder))
        if path not in out:
            out.append(path)
    return out
