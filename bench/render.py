"""Rendering speed and memory of a space on this machine, against torch's own matmul rate.

    .venv/bin/python bench/render.py [--json] [--threads 2] [--repeats 7]

Baseline: torch's float32 matrix product (2048 x 2048), measured in the same run on the
same threads, interleaved with the renders so both see the same machine load; the render's
FLOP rate counts only its matrix products (see AbstractSpace.matmul_flops). The first
prototype CPPN reached 13 thumbnails/s and 16 GFLOP/s here (issue #3).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PEAK_SCRIPT = """
import resource, sys, torch
torch.set_num_threads({threads})
from inference import get_space
space = get_space("{space}")
z = space.sample(1, 0)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
space.render(z, 4096)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(before // 1024, after // 1024)
"""


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--space", default="abstract")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import torch

    from inference import get_space

    torch.set_num_threads(args.threads)
    space = get_space(args.space)
    thumbs = space.sample(16, 1)
    big = space.sample(1, 2)
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    matmul_flops = 2 * 2048**3

    # Warm up every path once, then interleave the measurements.
    a @ b
    space.render(thumbs, 256)
    space.render(big, 1024)
    matmul_s, thumb_s, big_s = [], [], []
    for _ in range(args.repeats):
        matmul_s.append(timed(lambda: a @ b))
        thumb_s.append(timed(lambda: space.render(thumbs, 256)))
        big_s.append(timed(lambda: space.render(big, 1024)))
    matmul_gflops = matmul_flops / statistics.median(matmul_s) / 1e9
    thumb_time = statistics.median(thumb_s)
    render_gflops = space.matmul_flops(16, 256) / thumb_time / 1e9

    # Peak memory of a 4096 px render, in a fresh process.
    out = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT.format(threads=args.threads, space=args.space)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()
    rss_before, rss_peak = int(out[0]), int(out[1])

    result = {
        "thumbs_per_s_256": round(16 / thumb_time, 1),
        "imgs_per_s_1024": round(1 / statistics.median(big_s), 2),
        "peak_rss_mb_4096": rss_peak,
        "matmul_gflops": round(matmul_gflops, 1),
        "render_gflops": round(render_gflops, 1),
        "fraction_of_matmul": round(render_gflops / matmul_gflops, 3),
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{args.space} (version {space.version}), torch {torch.__version__}, "
          f"{args.threads} threads, median of {args.repeats}")
    rows = [
        ("thumbnails/s at 256 px (batch 16)", result["thumbs_per_s_256"], "goal >= 40"),
        ("pictures/s at 1024 px", result["imgs_per_s_1024"], ""),
        ("peak RSS of a 4096 px render (MB)", rss_peak, f"goal < 2048; {rss_before} before"),
        ("torch fp32 matmul (GFLOP/s)", result["matmul_gflops"], "baseline"),
        ("render matmul work (GFLOP/s)", result["render_gflops"], ""),
        ("render / matmul", result["fraction_of_matmul"], "goal >= 0.5"),
    ]
    for name, value, note in rows:
        print(f"{name:<36} {value:>9}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
