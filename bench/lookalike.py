"""Look-alikes at scale: does the look vector's HNSW index find the works that look most
alike, and how fast does the API answer?

    .venv/bin/python bench/lookalike.py [--works 100000] [--queries 200] [--json]
        [--works 10000 30000 100000]  # several sizes in one run
        [--m 16 --ef-construction 128 --ef-search 100]  # the index settings (else the site's)

For each size N: seeds N public works of the ``abstract`` space, with their latents and look
vectors, by SQL (``COPY``) into a database of its own (``--database``, made afresh on the
embedded PostgreSQL or on ``DATABASE_URL``'s server), builds the space's look index
(``breeding.looks.ensure_index``: seconds and MB), then measures, for ``--queries`` works
drawn at random:

- the ground truth: each query's 10 nearest works in ``inference.look.distance`` (the
  perceptual distance on 64 px renders), found exactly, streaming the corpus's maps in
  chunks (100k works' maps would be 8 GB);
- ``recall_at_10``: how many of those the API's answer holds
  (``GET /api/creations/<id>/lookalikes/?limit=10``, anonymous, through a real server);
- the same for exact search over the look vectors (what the vector alone loses, no index),
  and for exact search over vectors that keep more or fewer frequencies (``VARIANTS``):
  what a longer or shorter vector would find;
- ``lookalike_ids`` in this process at several ``hnsw.ef_search``: recall against the
  ground truth and against exact vector search (what the index alone loses), and time;
- ``p50_ms`` / ``p95_ms`` of the API over ``--rounds`` rounds of the queries, after a round
  to warm up, and beside them the baseline: the same work's ``GET /api/creations/<id>/``
  (one work, no search) interleaved on the same server, what any answer costs at the
  machine's load;
- EXPLAIN ANALYZE of the search (the index must be used).

The corpus (latents, renders, looks) comes from ``bench/_look_corpus.py`` and is made once
(100k renders: 15-20 minutes on 2 cores), so is the ground truth (kept beside it).
``--sheet`` also writes docs/img/lookalike-sheet.png (12 random works, each followed by the
API's 8 look-alikes) and docs/img/lookalike-sheet-truth.png (by the ground truth).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
logging.getLogger("httpx").setLevel(logging.WARNING)

from bench._database import drop_database, fresh_database, log, server_url, setup_django  # noqa: E402
from bench._look_corpus import copy_works, look_key  # noqa: E402
from bench._look_corpus import corpus as look_corpus  # noqa: E402
from bench._server import cpu_model, percentile, server  # noqa: E402

K = 10
SPACE = "abstract"
#: ``lookalike_ids`` is also asked at these ``hnsw.ef_search`` (in this process).
EF_SEARCHES = (40, 100, 200, 400)
#: Look vectors keeping frequencies u + v < K_colour of the three colour maps and
#: u + v < K_surface of the two surface maps, searched exactly: what the vector's length
#: costs (look.py's own is among them).
VARIANTS = ((6, 3), (8, 4), (12, 6), (16, 8), (24, 12), (32, 16))
SHEET_ROWS, SHEET_LIKES, TILE, GAP = 12, 8, 64, 3
CHUNK = 2000
PUBLIC_ID = "l{:09d}"  # a work's public id: its row in the corpus


def kept(k: int) -> int:
    return k * (k + 1) // 2


def variant_dims(variant: tuple[int, int]) -> int:
    return 3 * kept(variant[0]) + 2 * kept(variant[1])


# -- the ground truth ----------------------------------------------------------------------


def _dct(size: int):
    import math

    import torch

    n = torch.arange(size, dtype=torch.float64)
    basis = torch.cos(math.pi * (n[None] + 0.5) * n[:, None] / size) * math.sqrt(2 / size)
    basis[0] /= math.sqrt(2)
    return basis.float()


def _low(size: int, k: int):
    import torch

    u, v = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    return ((u + v) < k).flatten()


def variant_vectors(maps, variants) -> dict:
    """The maps' vectors for each (K_colour, K_surface): the low frequencies of their
    orthonormal DCT, as ``look.embed_maps`` keeps them."""
    import torch

    size = maps.shape[-1]
    basis = _dct(size)
    coefficients = (basis @ maps @ basis.T).flatten(2) / size
    out = {}
    for kc, ks in variants:
        out[(kc, ks)] = torch.cat([coefficients[:, :3][:, :, _low(size, kc)].flatten(1),
                                   coefficients[:, 3:][:, :, _low(size, ks)].flatten(1)], 1)
    return out


def top_k(distances: np.ndarray, queries: np.ndarray, size: int, k: int = K) -> np.ndarray:
    """Each query's k nearest among works 0..size-1, itself left out, nearest first."""
    d = np.array(distances[:, :size], dtype=np.float64)
    d[np.arange(len(queries)), queries] = np.inf
    part = np.argpartition(d, k, axis=1)[:, :k]
    order = np.take_along_axis(d, part, 1).argsort(1)
    return np.take_along_axis(part, order, 1)


def ground_truth(corpus, queries: np.ndarray, sizes: list[int]) -> dict:
    """{"truth": {size: (Q, K)}, "variants": {variant: {size: (Q, K)}}}: the exact nearest
    works in ``look.distance`` and in each variant's vectors, made once and kept beside the
    corpus."""
    import torch

    from inference import look

    n = max(sizes)
    digest = hashlib.sha256(queries.tobytes() + json.dumps([sizes, VARIANTS]).encode()).hexdigest()[:10]
    path = corpus.path / f"truth-{look_key()}-{n}-{digest}.npz"
    if path.exists():
        saved = np.load(path)
        return {"truth": {s: saved[f"truth_{s}"] for s in sizes},
                "variants": {v: {s: saved[f"v{v[0]}_{v[1]}_{s}"] for s in sizes} for v in VARIANTS}}
    started = time.perf_counter()
    query_maps = look.maps(np.array(corpus.pictures[queries]))
    query_vectors = variant_vectors(query_maps, VARIANTS)
    distances = np.empty((len(queries), n), dtype=np.float32)
    by_variant = {v: np.empty((len(queries), n), dtype=np.float32) for v in VARIANTS}
    for start in range(0, n, CHUNK):
        end = min(n, start + CHUNK)
        with torch.no_grad():
            maps = corpus.maps(start, end)
            distances[:, start:end] = look.distance(query_maps, maps).numpy()
            for v, vectors in variant_vectors(maps, VARIANTS).items():
                by_variant[v][:, start:end] = torch.cdist(query_vectors[v].double(),
                                                          vectors.double()).numpy()
        if end % 20_000 == 0 or end == n:
            log(f"ground truth: {end:,}/{n:,} works compared ({time.perf_counter() - started:.0f} s)")
    result = {"truth": {s: top_k(distances, queries, s) for s in sizes},
              "variants": {v: {s: top_k(d, queries, s) for s in sizes} for v, d in by_variant.items()}}
    arrays = {f"truth_{s}": a for s, a in result["truth"].items()}
    arrays.update({f"v{v[0]}_{v[1]}_{s}": a for v, per in result["variants"].items() for s, a in per.items()})
    np.savez(path, **arrays)
    return result


def exact_vector_top_k(looks: np.ndarray, queries: np.ndarray, size: int) -> np.ndarray:
    """Each query's nearest works by Euclidean distance of the stored look vectors."""
    q = np.asarray(looks[queries], dtype=np.float64)
    distances = np.empty((len(queries), size), dtype=np.float64)
    for start in range(0, size, 20_000):
        block = np.asarray(looks[start:min(size, start + 20_000)], dtype=np.float64)
        distances[:, start:start + len(block)] = np.sqrt(np.maximum(
            (q * q).sum(1)[:, None] + (block * block).sum(1)[None] - 2 * q @ block.T, 0))
    return top_k(distances, queries, size)


def recall(found: list[list[int]] | np.ndarray, truth: np.ndarray, k: int = K) -> float:
    return float(statistics.mean(len(set(list(f)[:k]) & set(t[:k].tolist())) / k
                                 for f, t in zip(found, truth, strict=True)))


# -- the database ----------------------------------------------------------------------------


def seed(corpus, n: int):
    """The first n works of the corpus as public works of the space (replacing any), made
    over 90 days; returns (space, seconds)."""
    from django.db import connection

    from breeding import actions
    from breeding.looks import index_name

    space = next(s for s in actions.sync_spaces() if s.slug == SPACE)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {index_name(space)}")
        cursor.execute("TRUNCATE breeding_creation CASCADE")
    started = time.perf_counter()
    rng = np.random.default_rng(0)
    now = time.time()
    copy_works(corpus, n, space, PUBLIC_ID, "Look {}",
               made=lambda start, end: now - rng.uniform(0, 90 * 86400, end - start))
    return space, time.perf_counter() - started


def build_index(space, m: int | None, ef_construction: int | None) -> tuple[float, int]:
    from django.db import connection

    from breeding.looks import ensure_index, index_name

    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {index_name(space)}")
        cursor.execute("SET maintenance_work_mem = '2GB'")  # the whole graph in memory
        cursor.execute("SET max_parallel_maintenance_workers = 1")
    started = time.perf_counter()
    ensure_index(space, m=m, ef_construction=ef_construction)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_size(%s)", [index_name(space)])
        size = cursor.fetchone()[0]
    return seconds, size


def in_process(space, queries: np.ndarray, efs) -> dict[int, tuple[list[list[int]], list[float]]]:
    """``lookalike_ids`` (anonymous: the index) at each ef_search: answers as corpus rows,
    and times (s)."""
    from breeding.looks import lookalike_ids
    from breeding.models import Creation

    rows = {PUBLIC_ID.format(int(q)): int(q) for q in queries}
    found = dict(Creation.objects.filter(public_id__in=rows).values_list("public_id", "pk"))
    pk_of = {rows[p]: pk for p, pk in found.items()}
    result = {}
    for ef in efs:
        answers, times = [], []
        for q in queries:
            q = int(q)
            vector = Creation.objects.values_list("look", flat=True).get(pk=pk_of[q])
            started = time.perf_counter()
            ids = lookalike_ids(vector, space.pk, None, K, exclude=pk_of[q], ef_search=ef)
            times.append(time.perf_counter() - started)
            answers.append(ids)
        every = {pk for ids in answers for pk in ids}
        public = dict(Creation.objects.filter(pk__in=every).values_list("pk", "public_id"))
        result[ef] = ([[int(public[pk][1:]) for pk in ids] for ids in answers], times)
    return result


def explain(space, row: int) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of ``lookalike_ids``'s search for one work, under the
    settings it sets (the same SQL: captured as it runs)."""
    from django.db import connection, transaction

    from breeding.looks import lookalike_ids
    from breeding.models import Creation

    pk, vector = Creation.objects.values_list("pk", "look").get(public_id=PUBLIC_ID.format(row))
    captured = []

    def keep(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        lookalike_ids(vector, space.pk, None, K, exclude=pk)
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, params in captured:
            if sql.lstrip().upper().startswith("SET"):
                cursor.execute(sql, params)
        sql, params = next((sql, params) for sql, params in captured if "<->" in sql)
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return [re.sub(r"'\[[^\]]{40,}\]'", "'[...]'", line[0]) for line in cursor.fetchall()]


def _answer_ids(body) -> list[str]:
    items = body.get("results", body.get("lookalikes", body)) if isinstance(body, dict) else body
    return [item.get("id") or item.get("public_id") for item in items]


def through_api(db_url: str, queries: np.ndarray, rounds: int, ef_search: int | None):
    """Each query's answer from the API (corpus rows), the times of ``rounds`` rounds over
    the queries (s), after one round to warm up, and, interleaved with them on the same
    server, the times of the work's own page of the API (``GET /api/creations/<id>/``, one
    work, no search): the baseline, what any answer of this server costs at this load."""
    import httpx

    env = {**os.environ, "DATABASE_URL": db_url, "INPROCESS_WORKER": "0", "OMP_NUM_THREADS": "1"}
    if ef_search:
        env["LOOKS_EF_SEARCH"] = str(ef_search)
    answers, times, baseline = {}, [], []
    with server(env) as base, httpx.Client(base_url=base, timeout=30) as http:
        for round_ in range(rounds + 1):
            for q in queries:
                q = int(q)
                for path, kept in ((f"/api/creations/{PUBLIC_ID.format(q)}/lookalikes/?limit={K}", times),
                                   (f"/api/creations/{PUBLIC_ID.format(q)}/", baseline)):
                    started = time.perf_counter()
                    response = http.get(path)
                    took = time.perf_counter() - started
                    if response.status_code != 200:
                        raise SystemExit(f"{path} answered {response.status_code}: {response.text[:300]}")
                    if round_:
                        kept.append(took)
                    elif kept is times:
                        answers[q] = [int(i[1:]) for i in _answer_ids(response.json())]
    return [answers[int(q)] for q in queries], times, baseline


# -- the sheets ------------------------------------------------------------------------------


def sheet(pictures, rows: list[tuple[int, list[int]]], path: Path) -> int:
    """Each row: a work, a gap, then its look-alikes, nearest first; returns the bytes."""
    from PIL import Image

    width = TILE + 4 * GAP + SHEET_LIKES * (TILE + GAP)
    height = len(rows) * (TILE + GAP) + GAP
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    for r, (work, likes) in enumerate(rows):
        y = GAP + r * (TILE + GAP)
        canvas.paste(Image.fromarray(np.asarray(pictures[work])), (GAP, y))
        for c, like in enumerate(likes[:SHEET_LIKES]):
            canvas.paste(Image.fromarray(np.asarray(pictures[like])), (TILE + 4 * GAP + c * (TILE + GAP), y))
    canvas.save(path, optimize=True)
    if path.stat().st_size > 450_000:  # a small file in the repository: 256 colours
        canvas.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)
    return path.stat().st_size


# -- the run ---------------------------------------------------------------------------------


def measure_size(corpus, n: int, queries, truth, args, db_url: str) -> dict:
    space, seed_s = seed(corpus, n)
    log(f"{n:,}: seeded in {seed_s:.0f} s; building the look index")
    build_s, index_bytes = build_index(space, args.m, args.ef_construction)
    log(f"{n:,}: index built in {build_s:.1f} s ({index_bytes / 2**20:.0f} MB); querying")
    from django.conf import settings

    chosen = args.ef_search or settings.LOOKS_EF_SEARCH
    exact = exact_vector_top_k(corpus.looks, queries, n)
    by_ef = in_process(space, queries, sorted({*EF_SEARCHES, chosen}))
    plan = explain(space, int(queries[0]))
    if args.no_api:  # lookalike_ids in this process stands in for the API
        (api_answers, api_times), baseline = by_ef[chosen], [0.0]
    else:
        api_answers, api_times, baseline = through_api(db_url, queries, args.rounds, args.ef_search)
    from django.db import connections

    connections.close_all()
    return {
        "works": n,
        "via": "lookalike_ids" if args.no_api else "api",
        "recall_at_10": round(recall(api_answers, truth["truth"][n]), 3),
        "p50_ms": round(statistics.median(api_times) * 1000, 2),
        "p95_ms": round(percentile(api_times, 95) * 1000, 2),
        "baseline_p50_ms": round(statistics.median(baseline) * 1000, 2),
        "baseline_p95_ms": round(percentile(baseline, 95) * 1000, 2),
        "recall_exact_vector": round(recall(exact, truth["truth"][n]), 3),
        "recall_api_vs_exact_vector": round(recall(api_answers, exact), 3),
        "seed_s": round(seed_s, 1),
        "index_build_s": round(build_s, 1),
        "index_mb": round(index_bytes / 2**20, 1),
        "ef_search": chosen,
        "m": args.m or settings.LOOKS_HNSW_M,
        "ef_construction": args.ef_construction or settings.LOOKS_HNSW_EF_CONSTRUCTION,
        "by_ef_search": {ef: {"recall_at_10": round(recall(a, truth["truth"][n]), 3),
                              "recall_vs_exact_vector": round(recall(a, exact), 3),
                              "p50_ms": round(statistics.median(t) * 1000, 2),
                              "p95_ms": round(percentile(t, 95) * 1000, 2)}
                         for ef, (a, t) in by_ef.items()},
        "by_vector": {f"{kc}/{ks}": {"dims": variant_dims((kc, ks)),
                                     "recall_at_10": round(recall(truth["variants"][(kc, ks)][n],
                                                                  truth["truth"][n]), 3)}
                      for kc, ks in VARIANTS},
        "plan": plan,
        "_api_answers": api_answers,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--works", type=int, nargs="+", default=[100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds over the queries")
    parser.add_argument("--m", type=int, default=None, help="HNSW links per node (else the site's)")
    parser.add_argument("--ef-construction", type=int, default=None)
    parser.add_argument("--ef-search", type=int, default=None, help="the API's (else the site's)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (renders, maps)")
    parser.add_argument("--no-api", action="store_true",
                        help="no server: recall and times of lookalike_ids in this process")
    parser.add_argument("--sheet", action="store_true", help="write docs/img/lookalike-sheet*.png")
    parser.add_argument("--database", default="mendel_bench_looks",
                        help="the database to make afresh (and leave behind unless --drop)")
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = sorted(set(args.works))
    if sizes[0] <= max(args.queries, K + 1):
        parser.error("--works must be larger than --queries")
    import torch

    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    corpus = look_corpus(SPACE, sizes[-1], threads=args.threads)
    queries = np.random.default_rng(1).choice(sizes[0], args.queries, replace=False)
    truth = ground_truth(corpus, queries, sizes)
    from inference import look

    default_variant = (look.COLOUR_K, look.SURFACE_K)
    if default_variant not in VARIANTS:
        log(f"note: look.py's K {default_variant} is not among the variants searched")
    server_ = server_url()
    results = []
    try:
        db_url = fresh_database(server_, args.database)
        setup_django(db_url)
        for n in sizes:
            results.append(measure_size(corpus, n, queries, truth, args, db_url))
    finally:
        from django.db import connections

        connections.close_all()
        if args.drop:
            drop_database(server_, args.database)
    last = results[-1]
    if args.sheet:
        shown = list(range(SHEET_ROWS))  # the queries are a random draw already
        api_rows = [(int(queries[i]), last["_api_answers"][i]) for i in shown]
        truth_rows = [(int(queries[i]), truth["truth"][last["works"]][i].tolist()) for i in shown]
        for name, rows in (("lookalike-sheet.png", api_rows), ("lookalike-sheet-truth.png", truth_rows)):
            size = sheet(corpus.pictures, rows, ROOT / "docs" / "img" / name)
            log(f"docs/img/{name}: {size / 1000:.0f} kB")
    for r in results:
        r.pop("_api_answers")
    load_after = os.getloadavg()
    result = {**last, "queries": args.queries, "rounds": args.rounds, "cpu": cpu_model(),
              "threads": args.threads, "look_dims": look.DIMS,
              "load_average": [round(load_before[0], 2), round(load_after[0], 2)],
              "sizes": {str(r["works"]): {k: v for k, v in r.items() if k not in ("by_vector",)}
                        for r in results} if len(results) > 1 else None}
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"Look-alikes, {SPACE} space, {args.queries} queries, {cpu_model()}, "
          f"load average {load_before[0]:.1f} -> {load_after[0]:.1f}")
    print(f"{'works':>8} {'recall@10':>10} {'exact vec':>10} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'baseline p50/p95':>17} {'build s':>8} {'index MB':>9}")
    for r in results:
        print(f"{r['works']:>8,} {r['recall_at_10']:>10.3f} {r['recall_exact_vector']:>10.3f} "
              f"{r['p50_ms']:>8.2f} {r['p95_ms']:>8.2f} "
              f"{r['baseline_p50_ms']:>8.2f}/{r['baseline_p95_ms']:<8.2f} "
              f"{r['index_build_s']:>8.1f} {r['index_mb']:>9.1f}")
    print("(recall@10 and times: the API's answer; exact vec: exact search over the look vectors; "
          "baseline: GET /api/creations/<id>/ on the same server, interleaved)")
    for r in results:
        print(f"\n{r['works']:,} works, m={r['m']}, ef_construction={r['ef_construction']}: "
              "lookalike_ids in this process")
        print(f"  {'ef_search':>10} {'recall@10':>10} {'vs exact vec':>13} {'p50 ms':>8} {'p95 ms':>8}")
        for ef, row in r["by_ef_search"].items():
            mark = " (the API's)" if ef == r["ef_search"] else ""
            print(f"  {ef:>10} {row['recall_at_10']:>10.3f} {row['recall_vs_exact_vector']:>13.3f} "
                  f"{row['p50_ms']:>8.2f} {row['p95_ms']:>8.2f}{mark}")
    print(f"\nEXPLAIN ANALYZE of the search, {last['works']:,} works:")
    print("\n".join(f"  {line}" for line in last["plan"]))
    print(f"\nexact search over vectors of other lengths, at {last['works']:,} works "
          "(K colour / K surface)")
    print(f"  {'K':>7} {'dims':>6} {'recall@10':>10}")
    for name, row in last["by_vector"].items():
        mark = " (look.py's)" if name == f"{default_variant[0]}/{default_variant[1]}" else ""
        print(f"  {name:>7} {row['dims']:>6} {row['recall_at_10']:>10.3f}{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
