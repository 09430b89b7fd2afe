"""Morph videos on this machine: render + encode speed, and how even even speed is.

    .venv/bin/python bench/video.py [--json] [--threads 2] [--space abstract] [--seconds 2]

Speed: a loop through 4 keyframes, ``--seconds`` long at 24 fps, rendered and encoded to
MP4 (H.264) and WebM (VP9) in memory; "s per video s" is wall time over video length (below
1 is faster than real time). Evenness: the coefficient of variation (std / mean) of the
frame-to-frame picture change (mean abs pixel difference at 64 px) of a 1 s, 24 fps morph
between two random keyframes, with and without even speed (which probes at 48 px).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._server import cpu_model  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--space", default="abstract")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--sizes", default="256,512")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import torch

    from inference import get_space, video

    torch.set_num_threads(args.threads)
    space = get_space(args.space)
    fps = 24
    frames = video.plan(space, space.sample(4, 1), duration=args.seconds, fps=fps, loop=True)
    speed = []
    for size in (int(s) for s in args.sizes.split(",")):
        for fmt in video.FORMATS:
            out = io.BytesIO()
            started = time.perf_counter()
            video.encode(space, frames, size, fps, out, fmt)
            wall = time.perf_counter() - started
            speed.append({
                "size": size, "fmt": fmt, "frames": len(frames), "wall_s": round(wall, 2),
                "s_per_video_s": round(wall / args.seconds, 2), "frames_per_s": round(len(frames) / wall, 1),
                "bytes": len(out.getvalue()),
            })
    evenness = []
    for seed in range(1, args.pairs + 1):
        keys = space.sample(2, 100 + seed)
        started = time.perf_counter()
        even = video.plan(space, keys, duration=1, fps=fps, even_speed=True)
        plan_s = time.perf_counter() - started
        evenness.append({
            "seed": 100 + seed,
            "cv_plain": round(video.speed_cv(space, video.plan(space, keys, duration=1, fps=fps)), 3),
            "cv_even": round(video.speed_cv(space, even), 3),
            "even_plan_s": round(plan_s, 2),
        })
    result = {"cpu": cpu_model(), "threads": args.threads, "space": args.space, "fps": fps,
              "seconds": args.seconds, "speed": speed, "evenness": evenness}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{result['cpu']}, {args.threads} torch threads, space {args.space}, {fps} fps, "
          f"{args.seconds:g} s loop of 4 keyframes ({len(frames)} frames)")
    print(f"{'size':>5} {'fmt':>5} {'wall s':>7} {'s / video s':>12} {'frames/s':>9} {'KB':>7}")
    for row in speed:
        print(f"{row['size']:>5} {row['fmt']:>5} {row['wall_s']:>7} {row['s_per_video_s']:>12} "
              f"{row['frames_per_s']:>9} {row['bytes'] // 1024:>7}")
    print(f"\n{'pair seed':>9} {'CV plain':>9} {'CV even':>8} {'even plan s':>12}")
    for row in evenness:
        print(f"{row['seed']:>9} {row['cv_plain']:>9} {row['cv_even']:>8} {row['even_plan_s']:>12}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
