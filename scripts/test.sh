#!/usr/bin/env bash
# Installs everything the tests need, then runs them: bash scripts/test.sh [PYTEST ARGS]
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v apt-get >/dev/null 2>&1; then bash scripts/system-deps.sh; fi
bash scripts/install.sh "gui,test"
. .venv/bin/activate
export QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
ruff check autotagger tests benchmarks
mypy
python -m pytest -q "$@"
