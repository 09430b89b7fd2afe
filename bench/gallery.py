"""The public gallery at scale: list API under load, and nearest neighbours with HNSW.

    .venv/bin/python bench/gallery.py [--sizes 100000 1000000] [--json]

For each size N, seeds N synthetic public creations into a separate database of the
embedded PostgreSQL (pictures not rendered), builds the space's HNSW index (time and size
reported), then measures
- the newest and trending list API under 16 concurrent clients (a real uvicorn server):
  requests/s and p95 (two uvicorn worker processes, one per core);
- the neighbour query (p50, p95) on 200 random works, and recall@10 against exact search
  (the same query with index scans off), in the same run.

Latents (``--latents``):
- ``bred`` (default): what a breeding gallery holds. A few works are random draws from the
  space's prior; every other is a child of an earlier work (chaos 0.1-0.6, as the studio
  makes them), so works come in families, as on a real site.
- ``prior``: every work an independent draw from the prior, N(0, I) in 512 dimensions. The
  worst case for any approximate index: every point is about equally far from every other.
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


ROOT_SHARE = 0.05  # of bred galleries: works made at random rather than bred


def bred_latents(rng, n: int, dims: int, std, chunk: int = 10_000):
    """Yield (latents, depths) chunks of a gallery grown by breeding: the first works are
    random; later ones are mostly children of earlier ones."""
    import numpy as np

    std = np.asarray(std, dtype=np.float32).reshape(-1)
    made = np.empty((n, dims), dtype=np.float32)
    depth = np.zeros(n, dtype=np.int32)
    first = min(n, max(100, int(n * ROOT_SHARE / 10)))
    made[:first] = rng.standard_normal((first, dims), dtype=np.float32)
    yield made[:first], depth[:first]
    for start in range(first, n, chunk):
        end = min(n, start + chunk)
        count = end - start
        parents = rng.integers(0, start, count)
        chaos = rng.uniform(0.1, 0.6, (count, 1)).astype(np.float32)
        noise = rng.standard_normal((count, dims), dtype=np.float32)
        made[start:end] = made[parents] + chaos * std * noise
        depth[start:end] = depth[parents] + 1
        roots = rng.random(count) < ROOT_SHARE
        made[start:end][roots] = rng.standard_normal((int(roots.sum()), dims), dtype=np.float32)
        depth[start:end][roots] = 0
        yield made[start:end], depth[start:end]


def prior_latents(rng, n: int, dims: int, chunk: int = 20_000):
    import numpy as np

    for start in range(0, n, chunk):
        count = min(chunk, n - start)
        yield rng.standard_normal((count, dims), dtype=np.float32), np.zeros(count, dtype=np.int32)


def seed(n: int, kind: str = "bred") -> tuple[object, float]:
    """N public creations (replacing earlier ones); returns (space, seconds)."""
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from breeding import actions
    from breeding.models import HOT_HALF_LIFE
    from gallery.neighbours import index_name

    space = actions.sync_spaces()[0]
    owners = [get_user_model().objects.get_or_create(username=f"artist{i}")[0] for i in range(50)]
    with connection.cursor() as cursor:  # load first, index after: far faster than row by row
        cursor.execute(f"DROP INDEX IF EXISTS {index_name(space)}")
        # not the ORM's delete(): it would load every earlier row (a million latents) first
        cursor.execute("TRUNCATE breeding_creation CASCADE")
    started = time.perf_counter()
    rng = np.random.default_rng(0)
    now = timezone.now().timestamp()
    connection.ensure_connection()
    raw = connection.connection
    from pgvector.psycopg import register_vector

    register_vector(raw)
    columns = ("public_id, owner_id, space_id, latent, latent_sha, origin, genes, title, "
               "visibility, depth, created, like_count, hot")
    dims = space.latent_size
    chunks = (bred_latents(rng, n, dims, space.generator().stats.std) if kind == "bred"
              else prior_latents(rng, n, dims))
    start = 0
    with raw.cursor() as cursor:
        for latents, depths in chunks:
            count = len(latents)
            likes = rng.poisson(2.0, count)
            ages = rng.uniform(0, 90 * 86400, count)
            with cursor.copy(f"COPY breeding_creation ({columns}) FROM STDIN") as copy:
                for i in range(count):
                    created = now - ages[i]
                    copy.write_row((
                        f"b{start + i:09d}", owners[i % 50].pk, space.pk, latents[i],
                        secrets.token_hex(16), "random" if depths[i] == 0 else "children", "{}",
                        f"Work {start + i}", "public", int(depths[i]),
                        datetime.fromtimestamp(created, tz=UTC),
                        int(likes[i]), float(np.log2(1 + likes[i]) + created / HOT_HALF_LIFE),  # liked when made
                    ))
            start += count
        raw.commit()
        cursor.execute("ANALYZE breeding_creation")
        raw.commit()
    return space, time.perf_counter() - started


def build_index(space) -> tuple[float, int]:
    from django.db import connection

    from gallery.neighbours import ensure_index, index_name

    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {index_name(space)}")
        cursor.execute("SET maintenance_work_mem = '4GB'")  # the whole graph in memory: 1M needs ~2.6 GB
        cursor.execute("SET max_parallel_maintenance_workers = 1")
    started = time.perf_counter()
    ensure_index(space)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_size(%s)", [index_name(space)])
        size = cursor.fetchone()[0]
    return seconds, size


EF_SEARCHES = (64, 100, 200, 300)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def neighbours(space, efs, samples: int = 200, recall_samples: int = 100) -> dict[int, tuple[list[float], float]]:
    """For each ef_search in ``efs``: query times (s) of the HNSW neighbour query on
    ``samples`` works, and recall@10 against exact search on the first ``recall_samples``."""
    import random

    from django.db import connection

    from breeding.models import Creation
    from gallery.neighbours import neighbour_ids

    ids = list(Creation.objects.values_list("pk", flat=True)[:: max(1, Creation.objects.count() // 5000)])
    random.Random(1).shuffle(ids)
    times = {ef: [] for ef in efs}
    recalls = {ef: [] for ef in efs}
    dims = space.latent_size
    for k, pk in enumerate(ids[:samples]):
        creation = Creation.objects.select_related("space").get(pk=pk)
        approx = {}
        for ef in efs:
            started = time.perf_counter()
            approx[ef] = neighbour_ids(creation, 10, ef_search=ef)
            times[ef].append(time.perf_counter() - started)
        if k >= recall_samples:
            continue
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
        for ef in efs:
            recalls[ef].append(len(set(approx[ef]) & set(exact)) / 10)
    return {ef: (times[ef], statistics.mean(recalls[ef])) for ef in efs}


async def list_load(base: str, seconds: float = 15.0) -> tuple[float, list[float], float]:
    """CLIENTS clients asking for the newest and trending pages in turn, as fast as answers
    come; returns (requests/s, latencies, the load clients' own CPU per request in s).

    aiohttp, not httpx: at several hundred requests/s httpx's own CPU (about 1 ms a request
    on this machine) competed with the server for the two cores and queued answers in the
    client's event loop, so the figure measured the client.
    """
    import aiohttp

    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    paths = ["/api/gallery/?order=newest", "/api/gallery/?order=trending"]

    async def client(http, k: int):
        i = k
        while time.monotonic() < deadline:
            started = time.perf_counter()
            async with http.get(base + paths[i % 2]) as response:
                response.raise_for_status()
                await response.read()
            latencies.append(time.perf_counter() - started)
            i += 1

    cpu = time.process_time()
    started = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=CLIENTS)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(client(http, k) for k in range(CLIENTS)))
    wall = time.perf_counter() - started
    return len(latencies) / wall, latencies, (time.process_time() - cpu) / max(len(latencies), 1)


def serve_and_load(db_url: str, cache_seconds: int | None = None) -> tuple[float, list[float], float]:
    # A web node of this machine: one process per core (a Python process runs one core).
    env = {**os.environ, "DATABASE_URL": db_url, "INPROCESS_WORKER": "0", "OMP_NUM_THREADS": "1"}
    if cache_seconds is not None:
        env["GALLERY_CACHE_SECONDS"] = str(cache_seconds)
    with server(env, workers=WEB_WORKERS) as base:
        asyncio.run(list_load(base, 3.0))  # warm-up
        return asyncio.run(list_load(base))


def list_load_into(result: dict, db_url: str, n: int) -> None:
    rps, latencies, client_cpu = serve_and_load(db_url)
    result["list_rps"] = round(rps, 1)
    result["list_p95_ms"] = round(percentile(latencies, 95) * 1000, 2)
    result["list_size"] = n
    result["list_client_cpu_ms"] = round(client_cpu * 1000, 3)
    # baseline, same run: every request answered from the database
    rps, latencies, _ = serve_and_load(db_url, cache_seconds=0)
    result["list_uncached_rps"] = round(rps, 1)
    result["list_uncached_p95_ms"] = round(percentile(latencies, 95) * 1000, 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--latents", choices=["bred", "prior"], default="bred")
    parser.add_argument("--recall-samples", type=int, default=100)
    parser.add_argument("--no-list", action="store_true", help="skip the list API load")
    parser.add_argument("--list-only", action="store_true",
                        help="only the list API load, on the works an earlier run seeded")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    db_url = setup_django()
    result: dict = {}
    rows = []
    from django.conf import settings

    chosen = settings.NEIGHBOURS_EF_SEARCH
    if args.list_only:
        from breeding.models import Creation

        args.sizes = [Creation.objects.count()]
    for n in args.sizes if not args.list_only else []:
        space, seed_s = seed(n, args.latents)
        log(f"{n:,}: seeded in {seed_s:.0f} s; building the index")
        build_s, index_bytes = build_index(space)
        log(f"{n:,}: index built in {build_s:.0f} s; querying")
        by_ef = neighbours(space, sorted({*EF_SEARCHES, chosen}), recall_samples=args.recall_samples)
        times, recall = by_ef[chosen]
        label = f"{n // 1000}k" if n < 1_000_000 else f"{n // 1_000_000}m"
        result[f"neighbours_p50_ms_{label}"] = round(statistics.median(times) * 1000, 2)
        result[f"neighbours_p95_ms_{label}"] = round(percentile(times, 95) * 1000, 2)
        result[f"recall_at_10_{label}"] = round(recall, 3)
        result[f"hnsw_build_s_{label}"] = round(build_s, 1)
        result[f"hnsw_index_mb_{label}"] = round(index_bytes / 2**20, 1)
        result[f"ef_search_{label}"] = {ef: {"p50_ms": round(statistics.median(t) * 1000, 2),
                                              "p95_ms": round(percentile(t, 95) * 1000, 2),
                                              "recall_at_10": round(r, 3)} for ef, (t, r) in by_ef.items()}
        rows.append((n, seed_s, build_s, index_bytes, by_ef))
        if n == args.sizes[0] and not args.no_list:  # the list API at the first size
            list_load_into(result, db_url, n)
    if args.list_only:
        list_load_into(result, db_url, args.sizes[0])
    if args.json:
        print(json.dumps(result))
        return 0
    for n, seed_s, build_s, index_bytes, by_ef in rows:
        print(f"{n:,} public creations, {args.latents} latents (seeded in {seed_s:.0f} s)")
        print(f"  HNSW build {build_s:.1f} s, index {index_bytes / 2**20:.0f} MB")
        print(f"  {'ef_search':>10} {'p50 ms':>8} {'p95 ms':>8} {'recall@10':>10}")
        for ef, (times, recall) in by_ef.items():
            mark = " (default)" if ef == chosen else ""
            print(f"  {ef:>10} {statistics.median(times) * 1000:>8.2f} "
                  f"{percentile(times, 95) * 1000:>8.2f} {recall:>10.3f}{mark}")
    if "list_rps" not in result:
        return 0
    print(f"list API at {result['list_size']:,}, {CLIENTS} clients, {WEB_WORKERS} web processes:")
    print(f"  pages kept {settings.GALLERY_CACHE_SECONDS} s (default): {result['list_rps']} req/s, "
          f"p95 {result['list_p95_ms']} ms")
    print(f"  every request from the database: {result['list_uncached_rps']} req/s, "
          f"p95 {result['list_uncached_p95_ms']} ms")
    print(f"  (the load clients' own CPU: {result['list_client_cpu_ms']} ms a request)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
