"""What the CLI tests share: running a command in-process and taking what it printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotagger.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``autotagger ARGV...``: its exit code, stdout and stderr."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def no_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No settings file and no AUTOTAGGER_CATALOG from the machine running the tests: each test's
    commands see only what it gives them."""
    monkeypatch.setenv("AUTOTAGGER_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.delenv("AUTOTAGGER_CATALOG", raising=False)
