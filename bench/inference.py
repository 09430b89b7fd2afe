"""The inference service under load: throughput and p95 latency, dynamic batching on and off.

    .venv/bin/python bench/inference.py [--json] [--size 256] [--levels 1,8,32,128]
        [--seconds 4] [--threads 2] [--device cpu] [--precision fp32]

Two real service processes (``python -m inference serve``) run side by side on the same
threads: batching on (``--max-batch 16 --max-wait-ms 5``) and off (``--max-batch 1
--max-wait-ms 0``). At each concurrency level, that many clients send one-picture raw
renders back to back for ``--seconds`` to each, the two modes taking turns in
``--rounds`` rounds (so a neighbour's load on a shared machine falls on both alike); the table gives pictures per second
and p50/p95 latency, and the ratio batched/unbatched of the throughputs. The clients run
in this process (one event loop, httpx with keep-alive), on the same machine: on a small
CPU they take a share of it, the same share in both modes.

On a GPU machine: ``--device cuda --size 256`` and ``--size 1024``, each with
``--precision fp32`` and ``fp16``; the service says the GPU in ``/readyz`` and the table
names it. A space from weights (a StyleGAN, what a GPU is for) comes with ``--add
SLUG=KIND:PATH --space SLUG``, as the service takes it; ``bash bench/inference_gpu.sh``
does all of this with a full-size StyleGAN2 of random weights.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._server import cpu_model, percentile  # noqa: E402
from mendel import processes  # noqa: E402
from mendel.processes import free_port  # noqa: E402

MODES = {"batched": ("--max-batch", "16", "--max-wait-ms", "5"),
         "unbatched": ("--max-batch", "1", "--max-wait-ms", "0")}


def start(mode: str, args) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = processes.start(
        [sys.executable, "-m", "inference", "--threads", str(args.threads), "serve",
         "--spaces", args.space, *(f"--add={spec}" for spec in args.add),
         "--port", str(port), "--device", args.device,
         "--precision", args.precision, "--max-queue", "100000", *MODES[mode]],
        log=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        processes.wait_ready({f"the {mode} service": (proc, f"{base}/readyz")}, 120)
    except processes.NotReady as failed:
        raise SystemExit(str(failed)) from None
    return proc, base


async def load(base: str, space: str, body: bytes, shape: str, size: int, clients: int,
               seconds: float) -> tuple[int, list[float], float]:
    """``clients`` loops rendering for ``seconds``: pictures done, latencies, elapsed."""
    import httpx

    params = {"space": space, "shape": shape, "size": str(size), "format": "raw"}
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=300) as client:
        started = time.perf_counter()
        stop_at = started + seconds

        async def one_client():
            while time.perf_counter() < stop_at:
                sent = time.perf_counter()
                response = await client.post("/v1/render", params=params, content=body)
                response.raise_for_status()
                latencies.append(time.perf_counter() - sent)

        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return len(latencies), latencies, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--space", default="abstract")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--levels", default="1,8,32,128")
    parser.add_argument("--seconds", type=float, default=4.0, help="per level and mode")
    parser.add_argument("--rounds", type=int, default=2, help="alternations of the two modes")
    parser.add_argument("--threads", type=int, default=2, help="torch threads of the service")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--add", action="append", default=[], metavar="SLUG=KIND:PATH",
                        help="a space from weights, as the service's --add (e.g. a StyleGAN)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    levels = [int(c) for c in args.levels.split(",")]

    import torch

    from inference import get_space
    from inference.space import register_file

    for spec in args.add:
        register_file(spec)
    torch.set_num_threads(1)  # this process only sends requests
    space = get_space(args.space)
    latent = space.sample(1, 0)
    body = latent.numpy().astype("<f4").tobytes()
    shape = ",".join(map(str, latent.shape))

    import httpx

    # Both services run side by side (an idle one costs nothing) and the measurements
    # alternate, round after round, so that a neighbour's load on a shared machine falls on
    # both modes alike.
    samples = {mode: {c: {"done": 0, "elapsed": 0.0, "latencies": []} for c in levels} for mode in MODES}
    started = {mode: start(mode, args) for mode in MODES}
    try:
        device = httpx.get(f"{started['batched'][1]}/readyz").json()["device"]
        for _, base in started.values():
            asyncio.run(load(base, args.space, body, shape, args.size, 4, 1.0))  # warm
        for _ in range(args.rounds):
            for clients in levels:
                for mode, (_, base) in started.items():
                    done, latencies, elapsed = asyncio.run(load(
                        base, args.space, body, shape, args.size, clients, args.seconds / args.rounds))
                    sample = samples[mode][clients]
                    sample["done"] += done
                    sample["elapsed"] += elapsed
                    sample["latencies"] += latencies
    finally:
        processes.stop(*(proc for proc, _ in started.values()), timeout=60)
    results = {mode: {c: {"rps": s["done"] / s["elapsed"],
                          "p50_ms": statistics.median(s["latencies"]) * 1000,
                          "p95_ms": percentile(s["latencies"], 95) * 1000}
                      for c, s in by_level.items()}
               for mode, by_level in samples.items()}

    # The ceiling: how much faster the space itself renders 16 pictures at once than one
    # by one, in this process on the service's threads (alternating, best of three).
    torch.set_num_threads(args.threads)
    sixteen = space.sample(16, 1)
    together, apart = [], []
    for _ in range(3):
        began = time.perf_counter()
        space.render(sixteen, args.size)
        together.append(time.perf_counter() - began)
        began = time.perf_counter()
        for i in range(16):
            space.render(sixteen[i : i + 1], args.size)
        apart.append(time.perf_counter() - began)
    space_gain = min(apart) / min(together)

    if device.startswith("cuda"):
        machine = torch.cuda.get_device_name(torch.device(device)) if torch.cuda.is_available() else device
    else:
        machine = f"{cpu_model()}, {args.threads} torch threads"
    out = {"machine": machine, "device": device, "precision": args.precision, "size": args.size,
           "seconds_per_level": args.seconds, "space_batch_of_16_gain": round(space_gain, 2)}
    for clients in levels:
        b, u = results["batched"][clients], results["unbatched"][clients]
        for mode, r in (("batched", b), ("unbatched", u)):
            out[f"{mode}_pictures_per_s_at_{clients}"] = round(r["rps"], 2)
            out[f"{mode}_p95_ms_at_{clients}"] = round(r["p95_ms"], 1)
        out[f"batched_over_unbatched_at_{clients}"] = round(b["rps"] / u["rps"], 2)
        out[f"p95_ms_at_{clients}"] = round(b["p95_ms"], 1)
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"inference service, {args.space} at {args.size} px, one picture a request, "
          f"{args.precision} on {machine}")
    print(f"{'clients':>8} {'batched/s':>10} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'unbatched/s':>12} {'p50 ms':>8} {'p95 ms':>8} {'ratio':>6}")
    for clients in levels:
        b, u = results["batched"][clients], results["unbatched"][clients]
        print(f"{clients:>8} {b['rps']:>10.1f} {b['p50_ms']:>8.0f} {b['p95_ms']:>8.0f} "
              f"{u['rps']:>12.1f} {u['p50_ms']:>8.0f} {u['p95_ms']:>8.0f} "
              f"{b['rps'] / u['rps']:>6.2f}")
    print(f"the space alone renders 16 pictures at once {space_gain:.2f}x as fast as one by one "
          "(the ceiling of the batching gain)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
