"""What the CLI tests share: running a command in-process and taking what it printed."""

from __future__ import annotations

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
