#!/usr/bin/env bash
# The engine benchmarks on the GPU machine, in one call of about 9 minutes (H100/H200).
#
# Before: run benchmarks/fetch_device_wheels.sh here (it fills the git-ignored .whl/), then run
# this there with .whl carried along, from the repo root:  bash benchmarks/gpu.sh   (carry [".whl"])
# Steps the deadline cut or skipped can get a second call: ONLY="t5-xl opt-fp16-6g" bash benchmarks/gpu.sh
# Each step's output goes to $OUT/<step>.txt (its stderr to $OUT/<step>.err); a summary ends it.
# Every step has its own timeout, so one that hangs or is slow cannot eat the others; the most
# important come first. Timeouts (s): main 190, decode-dynamic 60, batch-128 45, 4bit 75, 8bit 60, fp16-6g 40,
# t5 90: at most 560 s of steps, about 9 minutes with the setup (run it with timeout_s 600).
set -u

cd "$(dirname "$0")/.." || exit 1
OUT=${OUT:-/tmp/autotagger-gpu-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HOME=/tmp/autotagger-gpu-hf
export TMPDIR=/tmp/autotagger-gpu-tmp  # the benchmark's photos and checkpoints: emptied after each step
CKPT=/tmp/autotagger-gpu-ckpt/blip2-opt-2.7b  # one fp16 checkpoint, saved once, loaded by the capped steps
rm -rf "$TMPDIR" "$(dirname "$CKPT")"
mkdir -p "$TMPDIR"
START=$SECONDS

echo "=== setup"
if ! compgen -G ".whl/*.whl" >/dev/null; then
    echo "no wheels in .whl/: run benchmarks/fetch_device_wheels.sh on the dev machine, carry .whl" >&2
    exit 2
fi
timeout 120 python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || echo "pip install failed: rc $?" >&2
export PYTHONPATH=/tmp/site:$PWD
nvidia-smi -L
nvidia-smi --query-gpu=name,memory.total,memory.used --format=csv,noheader
timeout 60 python3 -c 'import sys, torch, transformers
print("python", sys.version.split()[0], "| torch", torch.__version__, "cuda", torch.version.cuda,
      "| transformers", transformers.__version__, "from", transformers.__file__)'
timeout 60 python3 -c 'import bitsandbytes; print("bitsandbytes", bitsandbytes.__version__)' 2>&1 | tail -1
echo "setup took $((SECONDS - START))s"

NAMES=()
RCS=()
TOOK=()

DEADLINE=${DEADLINE:-585}  # seconds from the start for everything, under the device call's 600
ONLY=${ONLY:-}  # e.g. ONLY="t5-xl batch-128": run just these steps (a second call, for what the first cut)
step() {  # step NAME TIMEOUT_S ARGS...: one engine.py run, its timeout cut to what is left before DEADLINE
    local name=$1 limit=$2
    shift 2
    if [ -n "$ONLY" ] && [[ " $ONLY " != *" $name "* ]]; then
        return
    fi
    local t0=$SECONDS rc left=$((DEADLINE - (SECONDS - START)))
    if [ "$left" -lt 20 ]; then
        echo
        echo "=== $name: skipped, ${left}s left before the ${DEADLINE}s deadline"
        NAMES+=("$name")
        RCS+=(125)
        TOOK+=(0)
        return
    fi
    [ "$limit" -gt "$left" ] && limit=$left
    echo
    echo "=== $name (timeout ${limit}s): python3 benchmarks/engine.py $*"
    timeout -k 10 "$limit" python3 benchmarks/engine.py "$@" --out "$OUT/$name.txt" 2>"$OUT/$name.err"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "--- $name: rc $rc; last lines of its stderr:"
        tail -n 3 "$OUT/$name.err"
    fi
    NAMES+=("$name")
    RCS+=("$rc")
    TOOK+=($((SECONDS - t0)))
    rm -rf "${TMPDIR:?}"/autotagger-bench-*
}

status_of() {  # status_of RC FILE
    case $1 in
        0) echo "ok" ;;
        3) echo "does not fit" ;;
        124 | 137) echo "timed out" ;;
        125) echo "skipped (out of time)" ;;
        1) if grep -q '^equal to (1)' "$2" 2>/dev/null; then echo "NOT EQUAL to (1)"; else echo "failed"; fi ;;
        *) echo "failed" ;;
    esac
}

OPT=(--arch blip2-opt-2.7b)
CAPPED=(--memory-cap 6 --engine-only --images 64 --dtype float16 --batch-size 8 --checkpoint "$CKPT")

# The photos are 12 MP, about 4 MB (as camera JPEGs); every run also prints what decoding and
# preprocessing alone reach on its threads, the most the CPU side can feed the GPU.
# (2) plain batched generate preprocesses every image once per prompt (10 per image, on one CPU
# core, ~0.1-0.2 s for a 12 MP photo): on all 256 photos that alone is minutes, so it gets 16.
# --service last: the photographer's whole path (queue, decode, engine, embed, catalogue) on the same photos.
step main 190 "${OPT[@]}" --images 256 --documented-images 8 --plain-images 16 --dtype bfloat16 --service
# The engine alone with the dynamic cache (no CUDA graphs), to set against main's engine row (auto: graphs).
step decode-dynamic 60 "${OPT[@]}" --images 128 --engine-only --decode dynamic --dtype bfloat16
# Batches of 128 against main's 64 (the cap of the automatic batch size): does the cap leave speed behind?
step batch-128 45 "${OPT[@]}" --images 256 --engine-only --batch-size 128 --dtype bfloat16
step opt-4bit-6g 75 "${OPT[@]}" --quantize 4bit "${CAPPED[@]}"
step opt-8bit-6g 60 "${OPT[@]}" --quantize 8bit "${CAPPED[@]}"
step opt-fp16-6g 40 "${OPT[@]}" --via-pretrained "${CAPPED[@]}"  # ~7.7 GB of weights: expected not to fit
step t5-xl 90 --arch blip2-flan-t5-xl --images 64 --documented-images 4 --plain-images 16 --dtype bfloat16
rm -rf "$TMPDIR" "$(dirname "$CKPT")"

echo
echo "=== summary (outputs in $OUT; total $((SECONDS - START))s)"
for i in "${!NAMES[@]}"; do
    f="$OUT/${NAMES[i]}.txt"
    echo "--- ${NAMES[i]}: $(status_of "${RCS[i]}" "$f") (rc ${RCS[i]}, ${TOOK[i]}s)"
    [ -f "$f" ] || continue
    if grep -q '^method' "$f"; then  # the table is there: its rows, not the progress lines
        grep -E '^[1234] |images/s|ratio|equal|peak|weights|does not fit|# failed' "$f" | grep -v '^# done'
    else  # killed before the table: what had finished
        grep -E 'images/s|ratio|equal|peak|weights|does not fit|# failed' "$f"
    fi
done
