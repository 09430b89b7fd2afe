"""Breeding latency end to end through the API, on the embedded default.

    .venv/bin/python bench/breed.py [--json] [--requests 100] [--warmup 10] [--torch-alone]

One request = "8 children of a creation, and their 256 px pictures ready": POST
/api/creations/<id>/children/ with n=8, then GET the eight 256 px pictures concurrently,
as the studio does. Measured against a real server (uvicorn, one process, in-process
inference on the CPU) on the embedded PostgreSQL. Baseline: the same request with the
pictures already rendered (the API and storage alone), in the same run. ``--torch-alone``
renders without the fused kernels (MENDEL_FUSED=0), for a comparison on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
logging.getLogger("httpx").setLevel(logging.WARNING)

from bench._server import bench_breeder, cpu_model, latency_report, percentile, server  # noqa: E402


def setup_user():
    user, token, space = bench_breeder()
    from breeding import actions

    parent = actions.do_random(user, space, 1, seed=12345)[0]
    return token, parent.public_id


async def one_request(client, parent: str, seed: int | None):
    started = time.perf_counter()
    body = {"n": 8, "chaos": 0.3} | ({"seed": seed} if seed is not None else {})
    response = await client.post(f"/api/creations/{parent}/children/", json=body)
    response.raise_for_status()
    urls = [c["images"]["256"] for c in response.json()]
    pictures = await asyncio.gather(*(client.get(url) for url in urls))
    for picture in pictures:
        picture.raise_for_status()
    return time.perf_counter() - started


async def run(base: str, token: str, parent: str, requests: int, warmup: int):
    import httpx

    headers = {"Authorization": f"Token {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        for _ in range(warmup):
            await one_request(client, parent, None)
        fresh = [await one_request(client, parent, None) for _ in range(requests)]
        # Baseline: the same children again (same seed), pictures already stored.
        await one_request(client, parent, 99)
        cached = [await one_request(client, parent, 99) for _ in range(min(requests, 30))]
    return fresh, cached


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--torch-alone", action="store_true",
                        help="render with torch alone, without the fused kernels")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    token, parent = setup_user()
    env = {**os.environ, "RENDER_BUDGET_CPU_S_PER_MIN": "1000000", "INPROCESS_WORKER": "0",
           "OMP_NUM_THREADS": str(args.threads), "MENDEL_FUSED": "0" if args.torch_alone else "1"}
    with server(env) as base:
        fresh, cached = asyncio.run(run(base, token, parent, args.requests, args.warmup))

    latency_report(
        f"8 children + their 256 px pictures, {len(fresh)} requests after {args.warmup} warm-up, "
        f"{'torch alone' if args.torch_alone else 'fused kernels'}, {cpu_model()}, "
        f"load average {os.getloadavg()[0]:.1f}",
        [("rendered on demand (goal p95 150)", "children8", fresh),
         ("pictures already stored", "cached", cached)],
        args.json,
        {"children8_p90_ms": round(percentile(fresh, 90) * 1000, 1),
         "children8_max_ms": round(max(fresh) * 1000, 1), "requests": len(fresh),
         "renderer": "torch alone" if args.torch_alone else "fused kernels", "cpu": cpu_model(),
         "load_average": [round(x, 1) for x in os.getloadavg()]},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
