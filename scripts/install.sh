#!/usr/bin/env bash
# Installs autotagger into ./.venv. Usage: bash scripts/install.sh [EXTRAS]   (e.g. "gui,test")
# torch is installed first, pinned, so that pip does not pull a different multi-GB build.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-gui}"
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1
python -c "import torch" 2>/dev/null || pip install -q "torch==${TORCH_VERSION:-2.13.0}"
pip install -q -e ".[${extras}]"
echo "installed: $(.venv/bin/autotagger --version) in $(pwd)/.venv" >&2
