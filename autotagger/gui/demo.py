"""A demo catalogue of generated, real-looking photos, and the screenshots in docs/.

    xvfb-run -s "-screen 0 1600x1000x24" python -m autotagger.gui.demo docs/

Draws simple scenes (sunsets, mountains, city nights, forests, beaches, flowers), records them in
a temporary catalogue as if the tagger had run, opens the window, and saves main-window.png,
detail-pane.png and settings.png into the folder given.
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path
from typing import Any

SCENES = {
    "sunset": ("a sunset over the sea with orange clouds", "outdoors", "evening", ("landscape|sea", "sky|sunset")),
    "mountain": ("a snowy mountain above a lake", "outdoors", "daytime", ("landscape|mountain", "water|lake")),
    "city": ("a city street at night with lit windows", "outdoors", "night", ("place|city", "architecture|buildings")),
    "forest": ("a path through a green forest", "outdoors", "daytime", ("landscape|forest", "nature|trees")),
    "beach": ("a sandy beach with blue water", "outdoors", "daytime", ("landscape|beach", "water|sea")),
    "flowers": ("red flowers in a garden", "outdoors", "morning", ("nature|flowers", "colour|red")),
    "room": ("a living room with a lamp and a sofa", "indoors", "evening", ("place|home", "furniture|sofa")),
}


def _lerp(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return (int(a[0] + (b[0] - a[0]) * t), int(a[1] + (b[1] - a[1]) * t), int(a[2] + (b[2] - a[2]) * t))


def draw(kind: str, rnd: random.Random, size: tuple[int, int] = (640, 427)) -> Any:
    from PIL import Image, ImageDraw, ImageFilter

    w, h = size
    im = Image.new("RGB", size)
    d = ImageDraw.Draw(im)
    skies = {
        "sunset": ((40, 30, 90), (250, 140, 60)), "mountain": ((70, 130, 210), (200, 225, 245)),
        "city": ((5, 8, 25), (30, 30, 70)), "forest": ((120, 170, 220), (210, 230, 240)),
        "beach": ((60, 150, 230), (190, 225, 250)), "flowers": ((150, 200, 240), (235, 240, 245)),
        "room": ((90, 70, 55), (150, 120, 95)),
    }
    top, bottom = skies[kind]
    horizon = int(h * rnd.uniform(0.5, 0.65))
    for y in range(h):
        d.line([(0, y), (w, y)], fill=_lerp(top, bottom, min(1.0, y / max(horizon, 1))))
    if kind == "sunset":
        cx = rnd.randint(w // 4, 3 * w // 4)
        d.ellipse([cx - 45, horizon - 60, cx + 45, horizon + 30], fill=(255, 200, 90))
        for y in range(horizon, h):
            d.line([(0, y), (w, y)], fill=_lerp((200, 100, 60), (30, 30, 70), (y - horizon) / (h - horizon)))
        for _ in range(12):
            y = rnd.randint(horizon + 5, h - 5)
            d.line([(cx - rnd.randint(10, 90), y), (cx + rnd.randint(10, 90), y)], fill=(255, 190, 110), width=2)
    elif kind in ("mountain", "forest", "flowers"):
        peaks = [(0, horizon)]
        x = 0
        while x < w:
            x += rnd.randint(60, 160)
            peaks.append((x, horizon - rnd.randint(40, 170) if kind == "mountain" else horizon - rnd.randint(5, 40)))
        peaks += [(w, h), (0, h)]
        d.polygon(peaks, fill=(90, 100, 120) if kind == "mountain" else (60, 120, 60))
        if kind == "mountain":
            for px, py in peaks[1:-2]:
                d.polygon([(px - 25, py + 30), (px, py), (px + 25, py + 30)], fill=(245, 245, 250))
            d.rectangle([0, horizon + 20, w, h], fill=(50, 100, 150))
        else:
            d.rectangle([0, horizon, w, h], fill=(50, 110, 45))
        if kind == "forest":
            for _ in range(40):
                tx, ty = rnd.randint(0, w), rnd.randint(horizon - 40, h)
                s = rnd.randint(20, 60)
                d.polygon([(tx - s // 2, ty), (tx, ty - 2 * s), (tx + s // 2, ty)], fill=(20, rnd.randint(70, 110), 30))
            d.polygon([(w // 2 - 20, horizon), (w // 2 + 20, horizon), (w // 2 + 140, h), (w // 2 - 140, h)],
                      fill=(150, 120, 80))
        if kind == "flowers":
            for _ in range(90):
                fx, fy = rnd.randint(0, w), rnd.randint(horizon, h)
                r = rnd.randint(5, 14)
                d.line([(fx, fy), (fx, fy + 25)], fill=(40, 110, 40), width=2)
                d.ellipse([fx - r, fy - r, fx + r, fy + r], fill=(rnd.randint(190, 240), 30, 40))
                d.ellipse([fx - 3, fy - 3, fx + 3, fy + 3], fill=(250, 220, 60))
    elif kind == "city":
        x = 0
        while x < w:
            bw, bh = rnd.randint(40, 110), rnd.randint(120, 330)
            d.rectangle([x, h - bh, x + bw, h], fill=(25, 25, 35))
            for wy in range(h - bh + 10, h - 10, 18):
                for wx in range(x + 6, x + bw - 8, 14):
                    if rnd.random() < 0.45:
                        d.rectangle([wx, wy, wx + 7, wy + 9], fill=(255, 210, 120))
            x += bw + rnd.randint(2, 10)
    elif kind == "beach":
        d.rectangle([0, horizon, w, horizon + (h - horizon) // 2], fill=(30, 120, 190))
        d.rectangle([0, horizon + (h - horizon) // 2, w, h], fill=(230, 210, 160))
        for _ in range(6):
            y = rnd.randint(horizon + 5, horizon + (h - horizon) // 2 - 5)
            d.line([(rnd.randint(0, w // 2), y), (rnd.randint(w // 2, w), y)], fill=(220, 240, 255), width=2)
    elif kind == "room":
        d.rectangle([0, horizon, w, h], fill=(120, 85, 60))
        sx = rnd.randint(60, w - 340)
        d.rounded_rectangle([sx, horizon - 90, sx + 280, horizon + 40], 18, fill=(60, 90, 140))
        lx = sx + 330 if sx + 360 < w else sx - 60
        d.line([(lx, horizon - 170), (lx, horizon + 40)], fill=(40, 40, 40), width=4)
        d.polygon([(lx - 35, horizon - 170), (lx + 35, horizon - 170), (lx + 20, horizon - 215), (lx - 20, horizon - 215)],
                  fill=(255, 230, 160))
        d.rectangle([w - 200, 40, w - 60, 170], outline=(230, 220, 200), width=6)
    return im.filter(ImageFilter.GaussianBlur(0.8))


def make_demo_catalog(root: Path, n: int = 84, seed: int = 7) -> tuple[Path, list[str]]:
    from autotagger.catalog import Catalog, FileInfo
    from autotagger.types import Answer, Tag, TagResult

    rnd = random.Random(seed)
    photos = root / "Pictures" / "2026"
    paths: list[str] = []
    items = []
    kinds = list(SCENES)
    cameras = ("FUJIFILM X-T5", "Canon EOS R6", "SONY ILCE-7M4", "NIKON Z 6_2")
    for i in range(n):
        kind = kinds[i % len(kinds)]
        folder = photos / f"2026-0{1 + i // 30}"
        folder.mkdir(parents=True, exist_ok=True)
        p = folder / f"DSCF{4100 + i:04d}.JPG"
        draw(kind, rnd).save(p, quality=88)
        caption, setting, tod, extra = SCENES[kind]
        conf = [round(rnd.uniform(0.72, 0.99), 2) for _ in range(4)]
        people = "yes" if kind in ("beach", "city") and rnd.random() < 0.5 else "no"
        tags = [Tag(f"setting|{setting}", conf[0], "setting"), Tag(f"time of day|{tod}", conf[1], "time_of_day")]
        tags += [Tag(t, conf[2] if j == 0 else None, "subject" if j == 0 else None) for j, t in enumerate(extra)]
        if people == "yes":
            tags.append(Tag("people", conf[3], "people"))
        answers = (
            Answer("setting", "Is this photo taken indoors or outdoors?", setting, conf[0]),
            Answer("time_of_day", "What time of day is it in this photo?", tod, conf[1]),
            Answer("people", "Are there people in this photo?", people, conf[3]),
            Answer("subject", "What is the main subject of this photo?", extra[0].split("|")[-1], None),
        )
        st = p.stat()
        items.append((
            TagResult(path=str(p), caption=caption, answers=answers, tags=tuple(tags),
                      model_id="Salesforce/blip2-opt-2.7b", question_set_version="2026.11-1"),
            FileInfo(size=st.st_size, mtime=st.st_mtime, width=640, height=427,
                     captured_at=f"2026-0{1 + i // 30}-{1 + i % 28:02d}T{8 + i % 12:02d}:{(i * 7) % 60:02d}:00",
                     camera=cameras[i % len(cameras)]),
        ))
        paths.append(str(p))
    cat_path = root / "catalog.sqlite3"
    with Catalog(cat_path) as cat:
        cat.bulk_record(items)
        cat.add_folder(str(photos))
        cat.record_failure(str(photos / "2026-01" / "DSCF3999.JPG"), "not a JPEG file: starts with 0x00 0x00")
    return cat_path, paths


def screenshots(out: Path) -> int:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from autotagger.config import Settings
    from autotagger.gui.app import catalog_opener, ensure_app
    from autotagger.gui.settings_dialog import SettingsDialog
    from autotagger.gui.window import MainWindow

    ensure_app()
    root = Path(tempfile.mkdtemp(prefix="autotagger-demo-"))
    cat, paths = make_demo_catalog(root)
    settings = Settings(catalog=str(cat), folders=[str(root / "Pictures" / "2026")])

    def spin(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def until(cond: Any, ms: int = 15000) -> None:
        waited = 0
        while not cond() and waited < ms:
            spin(50)
            waited += 50

    win = MainWindow(settings, root / "config.toml", catalog_opener(cat), root / "thumbs")
    win.resize(1480, 900)
    win.show()
    until(lambda: win.model.rowCount() > 0 and not win.model.loading)
    for r in range(win.model.rowCount()):
        win.thumbs.get(win.model.hit(r).path)
    until(lambda: all(win.thumbs.get(win.model.hit(r).path) is not None for r in range(min(40, win.model.rowCount()))))
    win.tags.expandAll()
    win.tags.resizeColumnToContents(0)
    target = win.model.row_of(paths[14])
    win.grid.setCurrentIndex(win.model.index(target))
    until(lambda: win.detail.record is not None and win.detail.preview.pixmap() is not None
          and not win.detail.preview.pixmap().isNull())
    win.status.set_state(
        __import__("autotagger.gui.status", fromlist=["ServiceState"]).ServiceState(
            running=True, queued=37, done=1204, failed=1, rate=3.4, current=paths[20], device="cuda:0 (bfloat16)",
            source="this process"),
        True,
    )
    spin(300)
    out.mkdir(parents=True, exist_ok=True)
    win.grab().save(str(out / "main-window.png"))
    win.detail.body.grab().save(str(out / "detail-pane.png"))
    dlg = SettingsDialog(settings, root / "config.toml", None, paths[14], win)
    dlg.show()
    spin(300)
    dlg.grab().save(str(out / "settings.png"))
    dlg.tabs.setCurrentIndex(3)
    spin(300)
    dlg.grab().save(str(out / "settings-questions.png"))
    dlg.close()
    win.shutdown()
    QApplication.processEvents()
    print(f"screenshots saved in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(screenshots(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")))
