"""Shared fixtures: the tiny random-weight BLIP-2 checkpoints (built once per test session)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests never touch the network or the user's own config and catalogue.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own config file and catalogue unless it names one."""
    monkeypatch.setenv("AUTOTAGGER_CONFIG", str(tmp_path / "_config" / "config.toml"))
    monkeypatch.setenv("AUTOTAGGER_CATALOG", str(tmp_path / "_catalog" / "catalog.sqlite3"))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from autotagger.engine.tiny import make_tiny

    return make_tiny(tmp_path_factory.mktemp("tiny-opt"))


@pytest.fixture(scope="session")
def tiny_t5_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from autotagger.engine.tiny import make_tiny

    return make_tiny(tmp_path_factory.mktemp("tiny-t5"), text_model="t5")
