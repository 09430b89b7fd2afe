"""Gene-slider preview latency end to end through the API, on the embedded default.

    .venv/bin/python bench/preview.py [--json] [--requests 100] [--warmup 10]

One request = what the studio does while a gene slider is dragged: POST
/api/creations/<id>/preview/ with the gene amounts and size 256, then GET the picture it
names. Requests go one after another, as the studio keeps one preview in flight. Each
step moves the slider to a new position, so every picture is rendered on demand.
Baseline, in the same run: the same positions again, pictures already stored (the API
and storage alone).
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

from bench._server import bench_breeder, latency_report, server  # noqa: E402


def setup():
    """A breeder, a creation and a gene to drag (the discovered ones where present)."""
    user, token, space = bench_breeder()
    import torch

    from breeding import actions
    from breeding.models import Gene

    source = actions.do_random(user, space, 1, seed=4242)[0]
    gene = Gene.objects.filter(space=space, version=space.version).first()
    if gene is None:
        direction = torch.zeros(space.layers, space.dim)
        direction[5, 0] = 1.0
        gene, _ = Gene.objects.get_or_create(
            space=space, slug="bench-warmth",
            defaults=dict(version=space.version, label="Warmth", source="attribute",
                          direction=direction.flatten().tolist(), low=-3.0, high=3.0, rho=1.0),
        )
    return token, source.public_id, gene.slug, gene.low, gene.high


async def one_preview(client, source: str, gene: str, amount: float) -> float:
    started = time.perf_counter()
    response = await client.post(f"/api/creations/{source}/preview/",
                                 json={"genes": {gene: amount}, "size": 256})
    response.raise_for_status()
    picture = await client.get(response.json()["image"])
    picture.raise_for_status()
    return time.perf_counter() - started


async def run(base, token, source, gene, low, high, requests, warmup):
    import httpx

    # Slider positions as a drag makes them: many small steps, never the same twice.
    step = (high - low) / (requests + warmup + 1)
    positions = [low + step * (i + 1) for i in range(requests + warmup)]
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Token {token}"},
                                 timeout=60) as client:
        for amount in positions[:warmup]:
            await one_preview(client, source, gene, amount)
        fresh = [await one_preview(client, source, gene, a) for a in positions[warmup:]]
        stored = [await one_preview(client, source, gene, a) for a in positions[warmup:]]
    return fresh, stored


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    token, source, gene, low, high = setup()
    env = {**os.environ, "RENDER_BUDGET_CPU_S_PER_MIN": "1000000", "INPROCESS_WORKER": "0",
           "OMP_NUM_THREADS": str(args.threads)}
    with server(env) as base:
        fresh, stored = asyncio.run(run(base, token, source, gene, low, high, args.requests, args.warmup))

    latency_report(
        f"gene-slider preview at 256 px, {len(fresh)} positions after {args.warmup} warm-up",
        [("rendered on demand (goal p95 150)", "preview256", fresh),
         ("pictures already stored", "stored", stored)],
        args.json,
        {"preview256_max_ms": round(max(fresh) * 1000, 1), "requests": len(fresh)},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
