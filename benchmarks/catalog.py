"""Catalogue benchmark: fill a fresh catalogue with N synthetic tagged images, then time searches.

    python benchmarks/catalog.py --images 100000 [--db PATH] [--keep] [--seed 1] [--cjk 0.1]

Prints the bulk insert rate, search latency p50/p95 per query kind (100 queries of each kind),
a few other calls, and the file size. Not a test: figures depend on the machine.
``--cjk F``: a share F of the shoots get a Chinese, Japanese or Korean folder name, and their photos
CJK tags and captions as a person types them (drawn from a random stream of their own: the Latin
data are the same whatever F, and ``--cjk 0``, the default, makes exactly the data of earlier runs).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from autotagger.catalog import Catalog, FileInfo
from autotagger.types import Answer, Tag, TagResult

ADJ = ["small", "large", "old", "young", "red", "blue", "green", "white", "black", "wooden", "rusty",
       "colorful", "quiet", "busy", "empty", "snowy", "sunny", "foggy", "bright", "dark", "golden"]
SUBJ = ["dog", "cat", "man", "woman", "child", "group of people", "car", "bicycle", "boat", "house",
        "bridge", "tree", "mountain", "lake", "river", "beach", "street", "market", "church", "horse",
        "bird", "flower", "train", "table with food", "couple", "building", "field", "forest", "city skyline"]
VERB = ["standing", "sitting", "walking", "running", "parked", "lying", "waiting", "playing", "floating"]
PREP = ["on", "in", "near", "next to", "in front of", "under", "behind"]
PLACE = ["the beach", "a park", "the street", "a field", "the snow", "a lake", "the city", "a forest",
         "the mountains", "a kitchen", "a living room", "the sunset", "a garden", "the harbour", "a station"]
TAGS = {
    "setting": ["indoors", "outdoors"],
    "time": ["day", "night", "golden hour", "blue hour"],
    "weather": ["sunny", "cloudy", "rain", "snow", "fog"],
    "people": ["none", "one person", "two people", "group", "crowd"],
    "subject": ["animal", "landscape", "portrait", "architecture", "vehicle", "food", "plant", "street"],
    "animal": ["dog", "cat", "horse", "bird", "cow", "sheep"],
    "color": ["red", "blue", "green", "yellow", "black and white", "warm", "cool"],
    "style": ["close-up", "wide angle", "aerial", "macro", "long exposure", "silhouette"],
    "season": ["spring", "summer", "autumn", "winter"],
    "place": ["beach", "mountain", "city", "forest", "lake", "park", "home", "market"],
    "object": ["car", "bicycle", "boat", "bridge", "tree", "flower", "table", "chair", "umbrella", "sign"],
    "mood": ["calm", "busy", "happy", "moody", "dramatic"],
    "event": ["wedding", "birthday", "holiday", "concert", "sports"],
}
CAMERAS = ["Canon EOS R5", "Canon EOS 5D Mark IV", "Nikon Z 6", "NIKON D850", "Sony ILCE-7M3",
           "FUJIFILM X-T4", "Apple iPhone 13", "Google Pixel 7", "OLYMPUS E-M1", "Panasonic DC-G9"]
PROMPT = "Question: {} Answer:"
CJK_PLACES = ["京都旅行", "東京タワーの夜景", "北海道の雪まつり", "沖縄の海と空", "上海外滩夜景", "北京故宫博物院",
              "台北101跨年烟火", "서울 남산타워", "부산 해운대 해수욕장", "제주도 여행"]
CJK_CAPTIONS = ["東京タワーの夜景がきれい", "京都の紅葉と古いお寺", "家族で行った北海道旅行", "猫が窓辺で寝ている",
                "雪の中を走る電車", "上海外滩的夜景很美", "和朋友在北京吃烤鸭", "公园里的樱花盛开",
                "남산타워에서 본 서울 야경", "해운대 해변의 일출"]
CJK_TAGS = ["場所|東京タワー", "場所|京都", "イベント|花火大会", "人物|家族", "地点|上海", "活动|春节", "장소|서울",
            "행사|불꽃축제"]
CJK_WORDS = ["タワー", "夜景", "旅行", "紅葉", "電車", "雪まつり", "外滩", "故宫", "樱花", "烤鸭", "타워", "야경",
             "해수욕장", "花火", "家族"]
CJK_CHARS = ["猫", "海", "雪", "夜", "京", "花", "寺", "서", "空", "春"]
CJK_SHARE = [0.0]


def caption(rng: random.Random) -> str:
    s = f"a {rng.choice(ADJ)} {rng.choice(SUBJ)} {rng.choice(VERB)} {rng.choice(PREP)} {rng.choice(PLACE)}"
    if rng.random() < 0.4:
        s += f" with a {rng.choice(ADJ)} {rng.choice(SUBJ)}"
    return s


def make_result(i: int, rng: random.Random, crng: random.Random) -> tuple[TagResult, FileInfo]:
    year = 2010 + (i * 15) // N_GLOBAL[0]
    month = 1 + (i // 997) % 12
    shoot = i // 250
    cjk = random.Random(shoot).random() < CJK_SHARE[0]  # whole shoots, as a person names a folder
    place = f" {year}年 {CJK_PLACES[shoot % len(CJK_PLACES)]}" if cjk else ""
    path = f"/photos/{year}/{year}-{month:02d}/shoot-{shoot:05d}{place}/IMG_{i % 10000:04d}_{i}.CR3"
    groups = rng.sample(sorted(TAGS), rng.randint(8, 13))
    tags = [Tag(f"{g}|{rng.choice(TAGS[g])}", round(rng.random(), 4), g) for g in groups]
    while len(tags) < rng.randint(8, 15):
        g = rng.choice(["object", "color", "place"])
        tags.append(Tag(f"{g}|{rng.choice(TAGS[g])}", round(rng.random(), 4), g))
    answers = tuple(
        Answer(g, PROMPT.format(f"What is the {g} of this photo?"), t.path.split("|")[1], t.confidence)
        for g, t in zip(groups[:4], tags[:4], strict=False)
    )
    text = caption(rng)
    if cjk:
        if crng.random() < 0.5:
            tags.append(Tag(crng.choice(CJK_TAGS), None, None))
        if crng.random() < 0.3:
            text = crng.choice(CJK_CAPTIONS)
    result = TagResult(path=path, caption=text, answers=answers, tags=tuple(tags),
                       model_id="Salesforce/blip2-opt-2.7b", question_set_version="1")
    day = 1 + (i // 31) % 28
    info = FileInfo(size=20_000_000 + i, mtime=1.6e9 + i, content_hash=f"{rng.getrandbits(64):016x}",
                    width=6000, height=4000, captured_at=f"{year}-{month:02d}-{day:02d}T12:00:00",
                    camera=rng.choice(CAMERAS))
    return result, info


N_GLOBAL = [1]


def gen(n: int, seed: int) -> Iterator[tuple[TagResult, FileInfo]]:
    rng, crng = random.Random(seed), random.Random(-seed)
    for i in range(n):
        yield make_result(i, rng, crng)


def queries(rng: random.Random, n: int) -> dict[str, list[str]]:
    words = sorted({w for s in ADJ + SUBJ + VERB + PLACE for w in s.split() if len(w) > 3})
    leaves = sorted({v for vs in TAGS.values() for v in vs if " " not in v})
    paths = [f"{g}|{v}" for g, vs in sorted(TAGS.items()) for v in vs]
    years = list(range(2010, 2025))
    def folder() -> str:
        y = rng.choice(years)
        return f"folder:/photos/{y}/{y}-{rng.randint(1, 12):02d}"
    kinds: dict[str, Callable[[], str]] = {
        "word": lambda: rng.choice(words),
        "prefix": lambda: rng.choice(words)[:3],
        "two words": lambda: f"{rng.choice(words)} {rng.choice(words)}",
        "phrase": lambda: f'"{rng.choice(ADJ)} {rng.choice(SUBJ).split()[0]}"',
        "tag:leaf": lambda: f"tag:{rng.choice(leaves)}",
        "tag:path": lambda: f'tag:"{rng.choice(paths)}"',
        "tag:group": lambda: f"tag:{rng.choice(sorted(TAGS))}",
        "word -tag": lambda: f"{rng.choice(words)} -tag:{rng.choice(leaves)}",
        "-word": lambda: f"-{rng.choice(words)}",
        "folder:": folder,
        "after/before": lambda: f"after:{rng.choice(years)}-06-01 before:{rng.choice(years) + 1}",
        "camera:": lambda: f'camera:"{rng.choice(CAMERAS).split()[0]}"',
        "mixed": lambda: f"{rng.choice(words)} tag:{rng.choice(leaves)} after:{rng.choice(years)}",
        "cjk word": lambda: rng.choice(CJK_WORDS),
        "cjk char": lambda: rng.choice(CJK_CHARS),
        "word cjk": lambda: f"{rng.choice(words)} {rng.choice(CJK_WORDS)}",
        "word -cjk": lambda: f"{rng.choice(words)} -{rng.choice(CJK_WORDS)}",
    }
    return {k: [f() for _ in range(n)] for k, f in kinds.items()}


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=100_000)
    ap.add_argument("--db", help="catalogue file to create (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the catalogue afterwards")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--queries", type=int, default=100, help="queries of each kind")
    ap.add_argument("--batch", type=int, default=20_000, help="images per transaction")
    ap.add_argument("--search-only", metavar="DB", help="only time searches on an existing catalogue")
    ap.add_argument("--cjk", type=float, default=0.0, help="share of shoots with CJK folder, tags and captions")
    args = ap.parse_args()
    N_GLOBAL[0] = max(1, args.images)
    CJK_SHARE[0] = args.cjk
    tmp = None
    if args.search_only:
        db = Path(args.search_only)
        print(f"catalogue benchmark, searches only, on {db} ({db.stat().st_size / 1e6:,.1f} MB)")
        search_figures(db, args)
        return 0
    if args.db:
        db = Path(args.db)
        if db.exists():
            print(f"{db} exists; give a new path", file=sys.stderr)
            return 2
    else:
        tmp = tempfile.mkdtemp(prefix="catbench-", dir=os.environ.get("TMPDIR"))
        db = Path(tmp) / "catalog.sqlite3"
    print(f"catalogue benchmark: {args.images:,} images, seed {args.seed}, batch {args.batch}, cjk {args.cjk}, "
          f"file {db}")
    t0 = time.perf_counter()
    sample = list(gen(min(args.images, 20_000), args.seed))
    gen_rate = len(sample) / (time.perf_counter() - t0)
    print(f"synthetic data generation alone: {gen_rate:,.0f} images/s (not included in the insert figure)")
    cat = Catalog(db)
    done, wall, cpu = 0, 0.0, 0.0
    step = max(args.batch, min(100_000, args.images // 10))
    it = gen(args.images, args.seed)
    while done < args.images:
        chunk = [next(it) for _ in range(min(step, args.images - done))]  # generated outside the timing
        t, p = time.perf_counter(), time.process_time()
        n = cat.bulk_record(chunk, batch_size=args.batch)
        dw, dc = time.perf_counter() - t, time.process_time() - p
        wall, cpu, done = wall + dw, cpu + dc, done + n
        print(f"  {done:>10,} images  {n / dw:>8,.0f}/s wall  {n / dc:>8,.0f}/s cpu", flush=True)
    print(f"bulk insert: {done:,} images in {wall:.1f} s wall = {done / wall:,.0f} images/s "
          f"({done / cpu:,.0f} images/s of this process's CPU time; the machine is shared)")
    t0 = time.perf_counter()
    cat.optimize()
    print(f"optimize (FTS merge, vocabulary snapshot, ANALYZE, checkpoint): {time.perf_counter() - t0:.1f} s")
    size = db.stat().st_size
    free = cat._conn.execute("PRAGMA freelist_count").fetchone()[0] * cat._conn.execute("PRAGMA page_size").fetchone()[0]
    print(f"file size: {size / 1e6:,.1f} MB ({size / max(1, done):,.0f} bytes/image; {free / 1e6:,.1f} MB of it free pages)")
    cat.close()
    search_figures(db, args)
    if tmp and not args.keep:
        for p in Path(tmp).iterdir():
            p.unlink()
        os.rmdir(tmp)
    return 0


def search_figures(db: Path, args: argparse.Namespace) -> None:
    cat = Catalog(db, readonly=True)
    print(f"images in catalogue: {cat.status().images:,}")
    rng = random.Random(args.seed + 1)
    print(f"search latency, limit 100, {args.queries} queries per kind (ms):")
    print(f"  {'kind':<14}{'p50':>8}{'p95':>8}{'max':>8}{'cpu p50':>9}{'cpu p95':>9}  {'mean hits':>9}  example")
    worst = worst_cpu = 0.0
    for kind, qs in queries(rng, args.queries).items():
        times, cpus, hits = [], [], []
        for q in qs:
            t, p = time.perf_counter(), time.process_time()
            hits.append(len(cat.search(q, limit=100)))
            times.append((time.perf_counter() - t) * 1000)
            cpus.append((time.process_time() - p) * 1000)
        worst, worst_cpu = max(worst, pct(times, 95)), max(worst_cpu, pct(cpus, 95))
        print(f"  {kind:<14}{pct(times, 50):>8.1f}{pct(times, 95):>8.1f}{max(times):>8.1f}"
              f"{pct(cpus, 50):>9.1f}{pct(cpus, 95):>9.1f}  {statistics.mean(hits):>9.1f}  {qs[0]}")
    print(f"worst p95 over all kinds: {worst:.1f} ms wall, {worst_cpu:.1f} ms cpu "
          "(wall includes waiting for the shared CPUs; cpu is this process's time)")
    for label, fn in (("status()", cat.status), ("tag_counts()", cat.tag_counts),
                      ("count('tag:dog')", lambda: cat.count("tag:dog")),
                      ("count('beach')", lambda: cat.count("beach"))):
        t = time.perf_counter()
        fn()
        print(f"{label:<20} {(time.perf_counter() - t) * 1000:8.1f} ms")
    cat.close()


if __name__ == "__main__":
    sys.exit(main())
