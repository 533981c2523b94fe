#!/usr/bin/env bash
# Installs autotagger, then tags a folder of sample photos end to end, offline: writes the tags into
# the files (XMP/IPTC/EXIF), records them in a catalogue and searches it. It uses the tiny
# random-weight BLIP-2 that autotagger builds itself (its captions are noise, the path is real);
# set AUTOTAGGER_DEMO_MODEL=Salesforce/blip2-opt-2.7b (or a local folder) for the real model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh gui
. .venv/bin/activate
work="${AUTOTAGGER_DEMO_DIR:-$(mktemp -d -t autotagger-demo-XXXX)}"
mkdir -p "$work/photos"
python - "$work/photos" <<'PY'
import sys
from pathlib import Path
from PIL import Image, ImageDraw
out = Path(sys.argv[1])
scenes = [("beach.jpg", (70, 150, 220), (230, 210, 160)), ("forest.jpg", (120, 180, 230), (30, 110, 40)),
          ("night-city.jpg", (10, 10, 40), (60, 60, 70)), ("kitchen.png", (200, 190, 170), (120, 80, 50))]
for name, sky, ground in scenes:
    im = Image.new("RGB", (1600, 1200), sky)
    ImageDraw.Draw(im).rectangle([0, 700, 1600, 1200], fill=ground)
    im.save(out / name)
PY
model="${AUTOTAGGER_DEMO_MODEL:-$work/tiny-model}"
[ -n "${AUTOTAGGER_DEMO_MODEL:-}" ] || autotagger model make-tiny "$model" >/dev/null
export AUTOTAGGER_CATALOG="$work/catalog.sqlite3"
echo "== autotagger tag $work/photos --json"
autotagger tag "$work/photos" --model "$model" --json | python -c "import json,sys; [print(json.dumps({k: o[k] for k in ('path','tags','error')})) for o in map(json.loads, sys.stdin)]"
echo "== what exiftool sees in beach.jpg"
if command -v exiftool >/dev/null; then exiftool -s -XMP-lr:HierarchicalSubject -IPTC:Keywords -XMP-dc:Description "$work/photos/beach.jpg"; else echo "(exiftool not installed)"; fi
echo "== autotagger status / search tag:setting"
autotagger status
autotagger search "tag:setting"
echo "demo folder: $work"
