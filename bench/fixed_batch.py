"""Full batches on a GPU with pixels that never depend on their companions: the inference
service with ``--fixed-batch`` against the generator's own batched rate.

    .venv/bin/python bench/fixed_batch.py [--json] [--device cuda] [--spaces emoji]
        [--add SLUG=KIND:PATH] [--size 256] [--clients 16] [--seconds 5]

For each StyleGAN space (a full-size StyleGAN2 of random weights comes from
``bash bench/fixed_batch_gpu.sh``; the built-in ``emoji`` space is one too), in this order:

1. **raw**: the generator alone, in this process on the device, rendering passes of 16
   pictures back to back (``StyleGANSpace.render_fixed``): pictures per second. This is the
   ceiling.
2. **invariant**: one latent rendered alone (its pass filled with copies of itself) and
   among three sets of other latents, in first, middle and last places: are the bytes the
   same every time?
3. **service**: a real inference service process (``python -m inference serve``) with
   ``--max-batch 16 --fixed-batch``, then the same without ``--fixed-batch`` (one picture a
   pass, what it did before), each with ``--clients`` clients sending one-picture raw
   renders back to back for ``--seconds``: pictures per second and p95. The ratio
   fixed/raw is the goal of issue 30 (at least 0.8 at 16 clients).

On the CPU the script runs too (the service then paints on its render workers, not in fixed
passes, so its ratio says nothing of a GPU): that is how it is checked before a GPU is lent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._server import cpu_model, percentile  # noqa: E402
from bench.inference import load  # noqa: E402
from mendel import processes  # noqa: E402
from mendel.processes import free_port  # noqa: E402

BATCH = 16


def sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


def raw_rate(space, size: int, seconds: float) -> float:
    """Pictures per second of passes of BATCH pictures, back to back, after a warm-up."""
    latents = space.sample(BATCH, 1)
    space.render_fixed(latents, size, BATCH)
    sync(space.device)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        space.render_fixed(latents, size, BATCH)
        done += BATCH
    sync(space.device)
    return done / (time.perf_counter() - started)


def invariant(space, size: int) -> bool:
    import torch

    latents = space.sample(3 * BATCH + 1, 2)
    target, others = latents[:1], latents[1:]
    alone = space.render_fixed(target, size, BATCH)
    for place, companions in ((0, others[:BATCH - 1]), (7, others[BATCH - 1:2 * BATCH - 2]),
                              (BATCH - 1, others[2 * BATCH - 2:3 * BATCH - 3])):
        batch = torch.cat([companions[:place], target, companions[place:]])
        if not torch.equal(space.render_fixed(batch, size, BATCH)[place:place + 1], alone):
            return False
    return True


def service(args, slug: str, fixed: bool, body: bytes, shape: str) -> dict:
    port = free_port()
    proc = processes.start(
        [sys.executable, "-m", "inference", "--threads", str(args.threads), "serve",
         "--spaces", slug, *(f"--add={spec}" for spec in args.add), "--port", str(port),
         "--device", args.device, "--max-queue", "100000", "--max-batch", str(BATCH),
         "--max-wait-ms", "5", *(["--fixed-batch"] if fixed else [])],
        log=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        processes.wait_ready({"the inference service": (proc, f"{base}/readyz")}, 300)
        asyncio.run(load(base, slug, body, shape, args.size, 4, 1.0))  # warm
        done, latencies, elapsed = asyncio.run(
            load(base, slug, body, shape, args.size, args.clients, args.seconds))
    finally:
        processes.stop(proc, timeout=60)
    return {"rate": done / elapsed, "p50_ms": statistics.median(latencies) * 1000,
            "p95_ms": percentile(latencies, 95) * 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spaces", default="emoji", help="comma-separated StyleGAN space slugs")
    parser.add_argument("--add", action="append", default=[], metavar="SLUG=KIND:PATH")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--clients", type=int, default=BATCH)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (CPU runs)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import torch

    from inference import get_space
    from inference.space import register_file

    torch.set_num_threads(args.threads)
    for spec in args.add:
        register_file(spec)
    device = torch.device(args.device)
    machine = (torch.cuda.get_device_name(device) if device.type == "cuda"
               else f"{cpu_model()}, {args.threads} torch threads")
    out: dict = {"machine": machine, "device": str(device), "size": args.size, "batch": BATCH,
                 "clients": args.clients, "load_average": os.getloadavg()[0]}
    for slug in args.spaces.split(","):
        space = get_space(slug)
        if not hasattr(space, "render_fixed"):
            raise SystemExit(f"{slug} is not a StyleGAN space: it has no fixed passes")
        space.to(device)
        latent = space.sample(1, 0)
        body, shape = latent.numpy().astype("<f4").tobytes(), ",".join(map(str, latent.shape))
        with torch.no_grad():
            raw = raw_rate(space, args.size, args.seconds)
            same = invariant(space, args.size)
        space.to("cpu")  # the GPU is the service's now
        if device.type == "cuda":
            torch.cuda.empty_cache()
        fixed = service(args, slug, True, body, shape)
        single = service(args, slug, False, body, shape)
        out[slug] = {"raw_pictures_per_s": round(raw, 1), "invariant": same,
                     "fixed_pictures_per_s": round(fixed["rate"], 1),
                     "fixed_p95_ms": round(fixed["p95_ms"], 1),
                     "one_a_pass_pictures_per_s": round(single["rate"], 1),
                     "one_a_pass_p95_ms": round(single["p95_ms"], 1),
                     "fixed_over_raw": round(fixed["rate"] / raw, 2),
                     "one_a_pass_over_raw": round(single["rate"] / raw, 2)}
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"fixed passes of {BATCH} at {args.size} px, {args.clients} clients, on {machine} "
          f"(load average {out['load_average']:.2f})")
    print(f"{'space':>12} {'raw/s':>8} {'same?':>6} {'fixed/s':>8} {'p95 ms':>7} "
          f"{'1-a-pass/s':>10} {'p95 ms':>7} {'fixed/raw':>9}")
    for slug in args.spaces.split(","):
        r = out[slug]
        print(f"{slug:>12} {r['raw_pictures_per_s']:>8.1f} {str(r['invariant']):>6} "
              f"{r['fixed_pictures_per_s']:>8.1f} {r['fixed_p95_ms']:>7.0f} "
              f"{r['one_a_pass_pictures_per_s']:>10.1f} {r['one_a_pass_p95_ms']:>7.0f} "
              f"{r['fixed_over_raw']:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
