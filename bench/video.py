"""Morph videos on this machine: a 10 s video's render + encode time, memory, and evenness.

    .venv/bin/python bench/video.py [--json] [--threads 2] [--space abstract]
                                    [--sizes 256,512] [--pairs 4]

The headline is the issue's video: 4 keyframes, a 10 s loop at 512 px and 30 fps (300
frames), even speed on, rendered once and encoded to MP4 (H.264) and WebM (VP9) files
together, as the video job does. Reported: seconds from keyframes to both files (the plan,
with its even-speed probing, included), the process's peak RSS (torch included; also the
figure before the video), and the coefficient of variation (std / mean) of the
frame-to-frame picture change of that video with even speed on and off
(``video.speed_cv``: 0 is a perfectly even glide). Goals: <= 45 s, <= 1 GB, speed_cv <=
0.25 and well below speed_cv_plain.

``--sizes`` adds a table of render + encode speed per size and format (a 2 s loop at
24 fps, in memory); ``--pairs`` the evenness of 1 s morphs between random pairs.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._server import cpu_model  # noqa: E402


def peak_rss_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def headline(space, video) -> dict:
    """The 10 s, 512 px, 30 fps video of 4 keyframes, even speed on."""
    keys = space.sample(4, 2026)
    before = peak_rss_mb()
    started = time.perf_counter()
    frames = video.plan(space, keys, duration=10, fps=30, loop=True, even_speed=True)
    plan_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        outs = {"mp4": Path(folder) / "v.mp4", "webm": Path(folder) / "v.webm"}
        video.encode_all(space, frames, 512, 30, outs)
        wall = time.perf_counter() - started
        sizes = {fmt: path.stat().st_size for fmt, path in outs.items()}
    plain = video.plan(space, keys, duration=10, fps=30, loop=True)
    return {
        "video_s_512_10s": round(wall, 1), "plan_s": round(plan_s, 1), "frames": len(frames),
        "peak_rss_mb": peak_rss_mb(), "rss_before_mb": before,
        "speed_cv": round(video.speed_cv(space, frames), 3),
        "speed_cv_plain": round(video.speed_cv(space, plain), 3),
        "mp4_kb": sizes["mp4"] // 1024, "webm_kb": sizes["webm"] // 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--space", default="abstract")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=2.0, help="length of the --sizes loop")
    parser.add_argument("--sizes", default="", help="e.g. 256,512: a speed table per size")
    parser.add_argument("--pairs", type=int, default=0, help="random pairs for an evenness table")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import torch

    from inference import get_space, video

    torch.set_num_threads(args.threads)
    space = get_space(args.space)
    top = headline(space, video)
    fps = 24
    frames = video.plan(space, space.sample(4, 1), duration=args.seconds, fps=fps, loop=True)
    speed = []
    for size in (int(s) for s in args.sizes.split(",") if s):
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
    result = {"cpu": cpu_model(), "threads": args.threads, "space": args.space, **top,
              "fps": fps, "seconds": args.seconds, "speed": speed, "evenness": evenness}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{result['cpu']}, {args.threads} torch threads, space {args.space}")
    print(f"10 s loop of 4 keyframes, 512 px, 30 fps ({top['frames']} frames), even speed, "
          f"MP4 + WebM from one rendering")
    print(f"  seconds to render and encode   {top['video_s_512_10s']:>7}  goal <= 45 "
          f"(planning {top['plan_s']} s)")
    print(f"  peak RSS (MB)                  {top['peak_rss_mb']:>7}  goal <= 1024 "
          f"({top['rss_before_mb']} before the video)")
    print(f"  speed CV, even speed           {top['speed_cv']:>7}  goal <= 0.25")
    print(f"  speed CV, plain slerp          {top['speed_cv_plain']:>7}")
    print(f"  files (KB)                     MP4 {top['mp4_kb']}, WebM {top['webm_kb']}")
    if not speed and not evenness:
        return 0
    print(f"\n{args.seconds:g} s loop at {fps} fps ({len(frames)} frames), in memory")
    print(f"{'size':>5} {'fmt':>5} {'wall s':>7} {'s / video s':>12} {'frames/s':>9} {'KB':>7}")
    for row in speed:
        print(f"{row['size']:>5} {row['fmt']:>5} {row['wall_s']:>7} {row['s_per_video_s']:>12} "
              f"{row['frames_per_s']:>9} {row['bytes'] // 1024:>7}")
    if evenness:
        print(f"\n{'pair seed':>9} {'CV plain':>9} {'CV even':>8} {'even plan s':>12}")
    for row in evenness:
        print(f"{row['seed']:>9} {row['cv_plain']:>9} {row['cv_even']:>8} {row['even_plan_s']:>12}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
