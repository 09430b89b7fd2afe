"""The public gallery at scale: list API under load, and nearest neighbours with HNSW.

    .venv/bin/python bench/gallery.py [--sizes 100000 1000000] [--json]

For each size N, seeds N synthetic public creations into a separate database of the
embedded PostgreSQL (latents sampled from the space, pictures not rendered), builds the
space's HNSW index (time and size reported), then measures
- the newest and trending list API under 16 concurrent clients (a real uvicorn server):
  requests/s and p95 (two uvicorn worker processes, one per core);
- the neighbour query (p50, p95) on 200 random works, and recall@10 against exact search
  (the same query with index scans off), in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
logging.getLogger("httpx").setLevel(logging.WARNING)

from bench._server import percentile, server  # noqa: E402

BENCH_DB = "mendel_bench"
CLIENTS = 16
WEB_WORKERS = 2


def setup_django() -> str:
    """Point Django at a bench database of the embedded server; returns its URL."""
    from mendel import embedded

    url = embedded.database_url(ROOT)
    server = embedded._server
    if "(1 row)" not in server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{BENCH_DB}';"):
        server.psql(f"CREATE DATABASE {BENCH_DB};")
    bench_url = url.replace("/mendel?", f"/{BENCH_DB}?")
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(40))
    os.environ["DJANGO_SETTINGS_MODULE"] = "mendel.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return bench_url


def seed(n: int, batch: int = 20000) -> tuple[object, float]:
    """N public creations (replacing earlier ones); returns (space, seconds)."""
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from breeding import actions
    from breeding.models import HOT_SECONDS, Creation
    from gallery.neighbours import index_name

    space = actions.sync_spaces()[0]
    owners = [get_user_model().objects.get_or_create(username=f"artist{i}")[0] for i in range(50)]
    with connection.cursor() as cursor:  # load first, index after: far faster than row by row
        cursor.execute(f"DROP INDEX IF EXISTS {index_name(space)}")
    Creation.objects.all().delete()
    started = time.perf_counter()
    rng = np.random.default_rng(0)
    now = timezone.now().timestamp()
    connection.ensure_connection()
    raw = connection.connection
    from pgvector.psycopg import register_vector

    register_vector(raw)
    columns = ("public_id, owner_id, space_id, latent, latent_sha, origin, genes, title, "
               "visibility, depth, created, like_count, hot")
    with raw.cursor() as cursor:
        for start in range(0, n, batch):
            count = min(batch, n - start)
            latents = rng.standard_normal((count, space.latent_size), dtype=np.float32)
            likes = rng.poisson(2.0, count)
            ages = rng.uniform(0, 90 * 86400, count)
            with cursor.copy(f"COPY breeding_creation ({columns}) FROM STDIN") as copy:
                for i in range(count):
                    created = now - ages[i]
                    copy.write_row((
                        f"b{start + i:09d}", owners[i % 50].pk, space.pk, latents[i],
                        secrets.token_hex(16), "random", "{}", f"Work {start + i}", "public", 0,
                        datetime.fromtimestamp(created, tz=UTC),
                        int(likes[i]), float(np.log10(max(likes[i], 1)) + created / HOT_SECONDS),
                    ))
        raw.commit()
        cursor.execute("ANALYZE breeding_creation")
        raw.commit()
    return space, time.perf_counter() - started


def build_index(space) -> tuple[float, int]:
    from django.db import connection

    from gallery.neighbours import ensure_index, index_name

    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {index_name(space)}")
        cursor.execute("SET maintenance_work_mem = '2GB'")
        cursor.execute("SET max_parallel_maintenance_workers = 1")
    started = time.perf_counter()
    ensure_index(space)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_size(%s)", [index_name(space)])
        size = cursor.fetchone()[0]
    return seconds, size


def neighbours(space, samples: int = 200) -> tuple[list[float], float]:
    """Query times (s) of the HNSW neighbour query, and recall@10 against exact search."""
    import random

    from django.db import connection

    from breeding.models import Creation
    from gallery.neighbours import neighbour_ids

    ids = list(Creation.objects.values_list("pk", flat=True)[:: max(1, Creation.objects.count() // 5000)])
    random.Random(1).shuffle(ids)
    times, recalls = [], []
    dims = space.latent_size
    for pk in ids[:samples]:
        creation = Creation.objects.select_related("space").get(pk=pk)
        started = time.perf_counter()
        approx = neighbour_ids(creation, 10)
        times.append(time.perf_counter() - started)
        with connection.cursor() as cursor:
            cursor.execute("SET enable_indexscan = off")
            cursor.execute(
                f"SELECT id FROM breeding_creation WHERE space_id = %s AND visibility = 'public' "
                f"AND removed_at IS NULL AND id <> %s ORDER BY latent::vector({dims}) <=> "
                f"(SELECT latent FROM breeding_creation WHERE id = %s)::vector({dims}) LIMIT 10",
                [space.pk, pk, pk],
            )
            exact = [row[0] for row in cursor.fetchall()]
            cursor.execute("SET enable_indexscan = on")
        recalls.append(len(set(approx) & set(exact)) / 10)
    return times, statistics.mean(recalls)


async def list_load(base: str, seconds: float = 15.0) -> tuple[float, list[float]]:
    import httpx

    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    paths = ["/api/gallery/?order=newest", "/api/gallery/?order=trending"]

    async def client(k: int):
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            i = k
            while time.monotonic() < deadline:
                started = time.perf_counter()
                response = await http.get(paths[i % 2])
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)
                i += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(CLIENTS)))
    return len(latencies) / (time.perf_counter() - started), latencies


def serve_and_load(db_url: str) -> tuple[float, list[float]]:
    # A web node of this machine: one process per core (a Python process runs one core).
    env = {**os.environ, "DATABASE_URL": db_url, "INPROCESS_WORKER": "0", "OMP_NUM_THREADS": "1"}
    with server(env, workers=WEB_WORKERS) as base:
        asyncio.run(list_load(base, 3.0))  # warm-up
        return asyncio.run(list_load(base))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    db_url = setup_django()
    result: dict = {}
    rows = []
    for n in args.sizes:
        space, seed_s = seed(n)
        build_s, index_bytes = build_index(space)
        times, recall = neighbours(space)
        label = f"{n // 1000}k" if n < 1_000_000 else f"{n // 1_000_000}m"
        result[f"neighbours_p50_ms_{label}"] = round(statistics.median(times) * 1000, 2)
        result[f"neighbours_p95_ms_{label}"] = round(percentile(times, 95) * 1000, 2)
        result[f"recall_at_10_{label}"] = round(recall, 3)
        result[f"hnsw_build_s_{label}"] = round(build_s, 1)
        result[f"hnsw_index_mb_{label}"] = round(index_bytes / 2**20, 1)
        rows.append((n, seed_s, build_s, index_bytes, times, recall))
        if n == args.sizes[0]:
            rps, latencies = serve_and_load(db_url)
            result["list_rps"] = round(rps, 1)
            result["list_p95_ms"] = round(percentile(latencies, 95) * 1000, 2)
            result["list_size"] = n
    if args.json:
        print(json.dumps(result))
        return 0
    for n, seed_s, build_s, index_bytes, times, recall in rows:
        print(f"{n:,} public creations (seeded in {seed_s:.0f} s)")
        print(f"  HNSW build {build_s:.1f} s, index {index_bytes / 2**20:.0f} MB")
        print(f"  neighbours p50 {statistics.median(times) * 1000:.2f} ms, "
              f"p95 {percentile(times, 95) * 1000:.2f} ms, recall@10 {recall:.3f}")
    print(f"list API at {result['list_size']:,}, {CLIENTS} clients, {WEB_WORKERS} web processes: "
          f"{result['list_rps']} req/s, "
          f"p95 {result['list_p95_ms']} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
