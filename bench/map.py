"""The map of a space at scale: how long a relayout takes, and how smoothly the page draws.

    .venv/bin/python bench/map.py [--works 100000] [--threads 2] [--fps-seconds 10] [--json]
    .venv/bin/python bench/map.py --compare 10000 --sheet /tmp/map-sheets   # look or latent?

The works are the look corpus (``bench/_look_corpus.py``: latents drawn from the abstract
space's prior, their 64 px renders and look vectors, made once and cached), written by SQL
(``COPY``) as public works into a database of their own (``--database``, made afresh). Then
the relayout job runs as the worker runs it (``gallery.maps.run_build``: PCA and openTSNE,
Z-order, atlases, points, labels), its pictures taken from the corpus instead of rendered
(64 px, scaled up for the 128 px cells): ``layout_s`` is the layout phase (PCA + t-SNE) on
``--threads`` cores, ``build_s`` the whole job. Last, a server serves the map and
``bench/_map_fps.py`` pans and zooms its page in headless Chromium under a performance
trace: ``fps`` (null when that module or Chromium is missing, and the reason is said).

``--compare N`` lays out the first N works twice, from their look vectors and from their
latents, and says how alike the works that sit together look: for each work, the mean look
distance to its 10 nearest neighbours on the map, over the mean look distance between random
pairs (lower: the map puts look-alikes together); ``--sheet DIR`` draws both maps as
pictures (map-look.png, map-latent.png) to look at.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._database import drop_database, fresh_database, log, server_url, setup_django  # noqa: E402
from bench._look_corpus import copy_works  # noqa: E402

SPACE = "abstract"
PUBLIC_ID = "m{:09d}"  # a work's public id: its row in the corpus
NEIGHBOURS = 10


def seed(corpus, n: int):
    """The first n works of the corpus as public works of the space; (space, seconds)."""
    from breeding import actions

    space = next(s for s in actions.sync_spaces() if s.slug == SPACE)
    started = time.perf_counter()
    copy_works(corpus, n, space, PUBLIC_ID, "Map {}")
    return space, time.perf_counter() - started


def corpus_pictures(corpus):
    """``gallery.maps.thumbnails`` from the corpus: its 64 px renders, scaled to 128 px."""
    from gallery import maps

    def pictures_of(works) -> np.ndarray:
        rows = [int(w.public_id[1:]) for w in works]
        small = np.asarray(corpus.pictures[sorted(rows)])[np.argsort(np.argsort(rows))]
        return np.repeat(np.repeat(small, maps.THUMB // small.shape[1], axis=1),
                         maps.THUMB // small.shape[2], axis=2)

    return pictures_of


def build(corpus, space, threads: int) -> tuple[dict, int]:
    from gallery import maps

    job = maps.start_build(space)  # the nightly kind: no owner (no worker runs its task here)
    timings: dict = {}
    started = time.perf_counter()
    layout = maps.run_build(job.pk, threads=threads, pictures_of=corpus_pictures(corpus),
                            timings=timings)
    timings["build_s"] = round(time.perf_counter() - started, 1)
    return timings, layout


def fps(db_url: str, media: str, seconds: float) -> tuple[dict | None, str]:
    try:
        from bench._map_fps import measure_fps
    except ImportError as missing:
        return None, f"bench/_map_fps.py is not importable ({missing})"
    from bench._server import server

    env = {**os.environ, "DATABASE_URL": db_url, "INPROCESS_WORKER": "0", "OMP_NUM_THREADS": "1",
           "MEDIA_ROOT": media}
    try:
        with server(env) as base:
            return measure_fps(base, SPACE, seconds), ""
    except Exception as failed:  # no Chromium, a page that never loads: said, not hidden
        return None, f"{type(failed).__name__}: {failed}"


def points_size(db_url: str, media: str) -> tuple[int, float]:
    """The points' answer: bytes, and seconds for the first (uncached) request."""
    import httpx

    from bench._server import server

    env = {**os.environ, "DATABASE_URL": db_url, "INPROCESS_WORKER": "0", "OMP_NUM_THREADS": "1",
           "MEDIA_ROOT": media}
    with server(env) as base, httpx.Client(base_url=base, timeout=60) as http:
        state = http.get(f"/api/maps/{SPACE}/").json()
        started = time.perf_counter()
        body = http.get(state["points"]).content
        return len(body), time.perf_counter() - started


# -- look or latent? ---------------------------------------------------------------------------


def neighbour_ratio(xy: np.ndarray, looks: np.ndarray, samples: int = 2000) -> float:
    """Mean look distance from a work to its nearest neighbours on the map, over the mean look
    distance of random pairs (1: the map knows nothing of looks; lower is better)."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(0)
    rows = rng.choice(len(xy), min(samples, len(xy)), replace=False)
    _, near = cKDTree(xy).query(xy[rows], NEIGHBOURS + 1)
    near_d = np.linalg.norm(looks[near[:, 1:]] - looks[rows][:, None], axis=2).mean()
    other = rng.integers(0, len(xy), len(rows))
    random_d = np.linalg.norm(looks[other] - looks[rows], axis=1).mean()
    return float(near_d / random_d)


def sheet(xy: np.ndarray, pictures, path: Path, side: int = 2400, thumb: int = 24) -> None:
    from PIL import Image

    canvas = Image.new("RGB", (side, side), (16, 16, 18))
    for i in np.random.default_rng(0).permutation(len(xy)):
        x, y = (xy[i] * (side - thumb)).astype(int)
        canvas.paste(Image.fromarray(np.asarray(pictures[i])).resize((thumb, thumb)), (int(x), int(y)))
    canvas.save(path)


def compare(corpus, n: int, threads: int, sheet_dir: Path | None) -> dict:
    from gallery import maps

    looks = np.asarray(corpus.looks[:n], dtype=np.float32)
    latents = np.asarray(corpus.latents[:n], dtype=np.float32).reshape(n, -1)
    result = {}
    for basis, vectors in (("look", looks), ("latent", latents)):
        started, cpu = time.perf_counter(), time.process_time()
        xy = maps.layout_of(vectors, threads=threads)
        result[basis] = {"layout_s": round(time.perf_counter() - started, 1),
                         "layout_cpu_s": round(time.process_time() - cpu, 1),
                         "neighbour_look_ratio": round(neighbour_ratio(xy, looks), 3)}
        if sheet_dir is not None:
            sheet_dir.mkdir(parents=True, exist_ok=True)
            sheet(xy, corpus.pictures[:n], sheet_dir / f"map-{basis}.png")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--works", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2, help="cores for the layout and renders")
    parser.add_argument("--fps-seconds", type=float, default=10.0)
    parser.add_argument("--no-fps", action="store_true", help="no server, no browser")
    parser.add_argument("--compare", type=int, default=0, metavar="N",
                        help="only lay out N works by look and by latent and compare them")
    parser.add_argument("--sheet", type=Path, default=None, help="with --compare: draw both maps here")
    parser.add_argument("--database", default="mendel_bench_map",
                        help="the database to make afresh (and leave behind unless --drop)")
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    from bench._look_corpus import corpus as look_corpus

    load_before = os.getloadavg()
    corpus = look_corpus(SPACE, args.compare or args.works, threads=args.threads)
    import tempfile

    media = tempfile.mkdtemp(prefix="mendel-map-bench-")
    os.environ["MEDIA_ROOT"] = media
    if args.compare:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mendel.settings")
        import django

        django.setup()
        result = {"works": args.compare, **compare(corpus, args.compare, args.threads, args.sheet)}
        print(json.dumps(result) if args.json else json.dumps(result, indent=2))
        return 0
    server_ = server_url()
    try:
        db_url = fresh_database(server_, args.database)
        setup_django(db_url)
        space, seed_s = seed(corpus, args.works)
        log(f"{args.works:,} works seeded in {seed_s:.0f} s; laying them out")
        timings, layout = build(corpus, space, args.threads)
        log(f"laid out: {timings}")
        from django.db import connections

        connections.close_all()
        points_bytes, points_s = points_size(db_url, media)
        measured, why = (None, "--no-fps") if args.no_fps else fps(db_url, media, args.fps_seconds)
    finally:
        from django.db import connections

        connections.close_all()
        if args.drop:
            drop_database(server_, args.database)
    import platform

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    result = {
        "works": args.works,
        "layout_s": timings.get("layout_s"),
        "fps": None if measured is None else measured.get("fps"),
        "build_s": timings.get("build_s"),
        "read_s": timings.get("read_s"),
        "atlas_s": timings.get("atlas_s"),
        "labels_s": timings.get("labels_s"),
        "layout_cpu_s": timings.get("layout_cpu_s"),
        "build_cpu_s": round(sum(v for k, v in timings.items() if k.endswith("_cpu_s")), 1),
        "points_bytes": points_bytes,
        "atlas_mb": round(sum(f.stat().st_size for f in Path(media, "maps").rglob("*.webp")) / 2**20, 1),
        "atlas_pages": sum(1 for _ in Path(media, "maps").rglob("*.webp")),
        "points_first_s": round(points_s, 3),
        "threads": args.threads,
        "cpu": cpu,
        "load_before": [round(v, 2) for v in load_before],
        "load_after": [round(v, 2) for v in os.getloadavg()],
        "fps_detail": measured,
        "fps_missing": why or None,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{args.works:,} works of the {SPACE} space on {args.threads} cores ({cpu})")
    print(f"  {'phase':<28} {'wall s':>8} {'CPU s':>8}")
    for name in ("read_s", "layout_s", "atlas_s", "labels_s", "build_s"):
        cpu_s = timings.get(name.replace("_s", "_cpu_s"), float("nan"))
        print(f"  {name:<28} {timings.get(name, float('nan')):>8.1f} {cpu_s:>8.1f}")
    print(f"  points: {points_bytes / 2**20:.1f} MB, first answer {points_s:.2f} s")
    print(f"  atlases: {result['atlas_pages']} pages, {result['atlas_mb']} MB")
    print(f"  fps: {result['fps'] if result['fps'] is not None else 'null (' + why + ')'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
