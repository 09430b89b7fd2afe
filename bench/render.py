"""Rendering speed and memory of the built-in spaces on this machine, against torch's own
matmul rate, with the fused kernels and with torch alone.

    .venv/bin/python bench/render.py [--json] [--space abstract|figures|all] [--threads 2]
                                     [--repeats 7]

Baseline: torch's float32 matrix product (2048 x 2048, four in a row: about as long as a
render), measured in the same run on the same threads, interleaved with the renders so
both see the same machine load, and the render/matmul ratio taken per repeat; a render's
FLOP rate counts only its matrix products (``matmul_flops`` of each space; for figures,
one network pass per blended symmetry). Each space renders 16 thumbnails at 256 px with
the fused kernels (inference/fused.py) and with torch alone, interleaved too, so the
speed-up is a ratio within one run. On a shared machine wall-clock rates swing with the
other processes, so the same ratio is also taken in CPU time on one thread (time a process
is not running is not counted): the kernel's efficiency against torch's matmul.
Start-up: compiling the kernels into an empty cache, and loading each space and rendering
its first picture with the cache warm, each in a fresh process. The first prototype CPPN
reached 13 thumbnails/s and 16 GFLOP/s (issue #3).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._server import cpu_model  # noqa: E402

SPACES = ("abstract", "figures")

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

START_SCRIPT = """
import json, time, torch
torch.set_num_threads({threads})
from inference import fused, get_space
took = {{}}
for slug in {spaces!r}:
    started = time.perf_counter()
    space = get_space(slug)
    space.render(space.sample(1, 0), 64)
    took[slug] = time.perf_counter() - started
print(json.dumps({{"compile_s": fused.compile_seconds, "first_picture_s": took}}))
"""


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def cpu_timed(fn) -> float:
    """CPU seconds of this process (all threads) spent in ``fn``."""
    started = time.process_time()
    fn()
    return time.process_time() - started


def python(script: str, **env: str) -> str:
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, check=True, env={**os.environ, **env}).stdout


def start_up(spaces, threads: int) -> dict:
    """Compile time into an empty kernel cache, then each space's load and first picture
    with the cache warm, each in a fresh process."""
    with tempfile.TemporaryDirectory() as cache:
        script = START_SCRIPT.format(threads=threads, spaces=list(spaces))
        cold = json.loads(python(script, MENDEL_KERNEL_CACHE=cache))
        warm = json.loads(python(script, MENDEL_KERNEL_CACHE=cache))
    return {"kernel_compile_s": cold["compile_s"], "kernel_load_s": warm["compile_s"],
            "first_picture_s": warm["first_picture_s"]}


def summary(samples: list[float], scale: float = 1.0, digits: int = 1) -> dict:
    values = sorted(scale / s for s in samples)
    return {"median": round(statistics.median(values), digits),
            "range": [round(values[0], digits), round(values[-1], digits)]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--space", default="all", choices=[*SPACES, "all"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.threads < 1 or args.repeats < 1:
        parser.error("--threads and --repeats must be at least 1")
    spaces = SPACES if args.space == "all" else (args.space,)

    import torch

    from inference import fused, get_space

    torch.set_num_threads(args.threads)
    started = start_up(spaces, args.threads)
    fast = {slug: get_space(slug) for slug in spaces}
    if any(space.kernels is None for space in fast.values()):
        raise SystemExit("the fused kernels are not available here (see the log): nothing to compare")
    alone = {slug: type(space)(kernels=False) for slug, space in fast.items()}
    thumbs = {slug: space.sample(16, 1) for slug, space in fast.items()}
    big = {slug: space.sample(1, 2) for slug, space in fast.items()}
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    matmuls = 4
    matmul_flops = matmuls * 2 * 2048**3

    def run_matmul():
        for _ in range(matmuls):
            a @ b

    # Warm up every path once, then interleave the measurements.
    a @ b
    for slug in spaces:
        fast[slug].render(thumbs[slug], 256)
        alone[slug].render(thumbs[slug], 256)
        fast[slug].render(big[slug], 1024)
    matmul_s: list[float] = []
    times = {slug: {"fast": [], "alone": [], "big": []} for slug in spaces}
    for _ in range(args.repeats):
        matmul_s.append(timed(run_matmul))
        for slug in spaces:
            times[slug]["fast"].append(timed(lambda: fast[slug].render(thumbs[slug], 256)))  # noqa: B023
            times[slug]["alone"].append(timed(lambda: alone[slug].render(thumbs[slug], 256)))  # noqa: B023
            times[slug]["big"].append(timed(lambda: fast[slug].render(big[slug], 1024)))  # noqa: B023
    matmul = summary(matmul_s, matmul_flops / 1e9)

    # The same ratio in CPU time, on one thread: robust to the machine's other load. Also
    # one 1024 px picture, where the per-picture preparation is under 1 % of the work: the
    # kernel's own rate, nearly.
    torch.set_num_threads(1)
    cpu = {slug: [] for slug in spaces}
    cpu_big = {slug: [] for slug in spaces}
    cpu_matmul = []
    for _ in range(3):
        cpu_matmul.append(cpu_timed(run_matmul))
        for slug in spaces:
            cpu[slug].append(cpu_timed(lambda: fast[slug].render(thumbs[slug], 256)))  # noqa: B023
            cpu_big[slug].append(cpu_timed(lambda: fast[slug].render(big[slug], 1024)))  # noqa: B023
    torch.set_num_threads(args.threads)

    result = {
        "cpu": cpu_model(), "threads": args.threads, "torch": torch.__version__,
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "repeats": args.repeats, "kernel": fused.SOURCE_DIGEST, "matmul_gflops": matmul,
        "kernel_compile_s": round(started["kernel_compile_s"], 2),
        "kernel_load_s": round(started["kernel_load_s"], 3), "spaces": {},
    }
    for slug in spaces:
        space, t = fast[slug], times[slug]
        if slug == "figures":
            flops = space.matmul_flops(16, 256, sum(space.blend_parts(thumbs[slug])))
            big_flops = space.matmul_flops(1, 1024, sum(space.blend_parts(big[slug])))
        else:
            flops, big_flops = space.matmul_flops(16, 256), space.matmul_flops(1, 1024)
        # Per repeat: the render's rate over the matmul rate of the same repeat.
        fractions = [m / f * flops / matmul_flops for f, m in zip(t["fast"], matmul_s, strict=True)]
        peak = python(PEAK_SCRIPT.format(threads=args.threads, space=slug)).split()
        result["spaces"][slug] = {
            "version": space.version,
            "thumbs_per_s_256": summary(t["fast"], 16),
            "thumbs_per_s_256_torch_alone": summary(t["alone"], 16),
            "speedup": round(statistics.median(t["alone"]) / statistics.median(t["fast"]), 2),
            "imgs_per_s_1024": summary(t["big"], 1, 2),
            "render_gflops": summary(t["fast"], flops / 1e9),
            "fraction_of_matmul": {"median": round(statistics.median(fractions), 3),
                                   "range": [round(min(fractions), 3), round(max(fractions), 3)]},
            "cpu_time_fraction_1_thread": round(
                min(cpu_matmul) / min(cpu[slug]) * flops / matmul_flops, 3),
            "cpu_time_fraction_1024_1_thread": round(
                min(cpu_matmul) / min(cpu_big[slug]) * big_flops / matmul_flops, 3),
            "cpu_ms_per_thumb_256": round(min(cpu[slug]) / 16 * 1000, 2),
            "thumbs_per_s_256_free_cores_estimate": round(args.threads * 16 / min(cpu[slug]), 1),
            "peak_rss_mb_4096": int(peak[1]), "rss_mb_before_4096": int(peak[0]),
            "first_picture_s": round(started["first_picture_s"][slug], 2),
        }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['cpu']}, torch {torch.__version__}, {args.threads} threads, "
          f"median (range) of {args.repeats}; load average {result['load_average']}")
    print(f"torch fp32 matmul: {matmul['median']} GFLOP/s ({matmul['range'][0]} - "
          f"{matmul['range'][1]}); fused kernels compiled in {result['kernel_compile_s']} s, "
          f"loaded from the cache in {result['kernel_load_s']} s")
    rows = [
        ("thumbnails/s at 256 px (batch 16)", "thumbs_per_s_256", "goal >= 90"),
        ("  the same, torch alone", "thumbs_per_s_256_torch_alone", ""),
        ("  speed-up", "speedup", ""),
        ("pictures/s at 1024 px", "imgs_per_s_1024", ""),
        ("render matmul work (GFLOP/s)", "render_gflops", ""),
        ("render / matmul", "fraction_of_matmul", "goal >= 0.5"),
        ("  the same in CPU time, 1 thread", "cpu_time_fraction_1_thread", "best of 3"),
        ("  one 1024 px picture, CPU time", "cpu_time_fraction_1024_1_thread", "the kernel, nearly"),
        ("CPU ms per 256 px thumbnail, 1 thread", "cpu_ms_per_thumb_256", "best of 3"),
        ("  thumbnails/s if the cores were free", "thumbs_per_s_256_free_cores_estimate",
         "estimate"),
        ("peak RSS of a 4096 px render (MB)", "peak_rss_mb_4096", "goal < 2048"),
        ("load + first 64 px picture (s)", "first_picture_s", "warm kernel cache"),
    ]
    print(f"{'':<36}" + "".join(f"{slug:>24}" for slug in spaces))
    for name, key, note in rows:
        cells = []
        for slug in spaces:
            value = result["spaces"][slug][key]
            if isinstance(value, dict):
                value = f"{value['median']} ({value['range'][0]}-{value['range'][1]})"
            cells.append(f"{value:>24}")
        print(f"{name:<36}{''.join(cells)}  {note}")
    print("versions: " + ", ".join(f"{slug} {result['spaces'][slug]['version']}" for slug in spaces))
    return 0


if __name__ == "__main__":
    sys.exit(main())
