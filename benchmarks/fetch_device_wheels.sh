#!/usr/bin/env bash
# Fill .whl/ (git-ignored, in the repo root) with the wheels the GPU machine lacks, for
# benchmarks/gpu.sh to install there without network. Run it here, where PyPI is reachable.
#
# The GPU machine: x86_64, Python 3.12, torch (CUDA), transformers, huggingface_hub, tokenizers,
# safetensors, accelerate, numpy and pillow preinstalled. It lacks bitsandbytes and autotagger's
# small dependencies; transformers goes along too, at the version of this checkout's .venv, so the
# same transformers runs in both places. No pillow-heif or rawpy: the benchmarks read JPEGs only,
# and the working tree plus .whl/ must stay under 64 MiB to travel.
#
#     bash benchmarks/fetch_device_wheels.sh            # versions from .venv where it has them
#     TRANSFORMERS_VERSION=5.24.0 bash benchmarks/fetch_device_wheels.sh
set -euo pipefail

cd "$(dirname "$0")/.."
LIMIT=$((64 * 1024 * 1024))

venv_version() {  # the version installed in .venv, else the fallback given
    local v=""
    if [ -x .venv/bin/python ]; then
        v=$(.venv/bin/python -c "from importlib.metadata import version; print(version('$1'))" 2>/dev/null || true)
    fi
    echo "${v:-$2}"
}

TRANSFORMERS_VERSION=${TRANSFORMERS_VERSION:-$(venv_version transformers 5.24.0)}
BITSANDBYTES_VERSION=${BITSANDBYTES_VERSION:-0.50.2}
PIEXIF_VERSION=$(venv_version piexif 1.1.3)
WATCHDOG_VERSION=$(venv_version watchdog 7.1.0)
PLATFORMDIRS_VERSION=$(venv_version platformdirs 4.14.9)
TOMLI_W_VERSION=$(venv_version tomli-w 1.2.0)

rm -rf .whl  # no stale versions: gpu.sh installs every wheel in the folder
mkdir -p .whl
python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl \
    "bitsandbytes==$BITSANDBYTES_VERSION" \
    "transformers==$TRANSFORMERS_VERSION" \
    "piexif==$PIEXIF_VERSION" \
    "watchdog==$WATCHDOG_VERSION" \
    "platformdirs==$PLATFORMDIRS_VERSION" \
    "tomli-w==$TOMLI_W_VERSION"

echo
ls -l .whl
wheels=$(find .whl -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
# What travels to the device: tracked files plus untracked ones git does not ignore, plus .whl/.
tree=$(git ls-files -z --cached --others --exclude-standard \
    | xargs -0 -r stat -c '%s' -- 2>/dev/null | awk '{s += $1} END {print s + 0}')
total=$((wheels + tree))
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
echo "wheels $(mib "$wheels") + working tree $(mib "$tree") = total $(mib "$total") (limit 64 MiB)"
if [ "$total" -ge "$LIMIT" ]; then
    echo "too big to travel: drop a wheel" >&2
    exit 1
fi
