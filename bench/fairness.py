"""Another person's thumbnail while one person spends a whole minute's render budget on
1024 px pictures: before (one first-come first-served queue, passes of up to 16 pictures
whatever their size, a budget in pixels) and after (people served in turn, a pass of at
most 1 Mpx, at most ``RENDER_WAITING_PER_PERSON`` pictures waiting per person, a budget
in measured CPU seconds).

    .venv/bin/python bench/fairness.py [--json] [--mode before|after|both] [--thumbs 20]

The heavy breeder asks for their budget's worth of new 1024 px pictures at once, as the
attack in issue #24 did (the old budget: 60 Mpx a minute, 57 pictures; the new one: 15 CPU
seconds, about as many at the measured cost, but never more than 32 waiting: the rest are
asked again as earlier ones finish). Meanwhile a second person asks for one new 256 px
thumbnail at a time, each as soon as the last arrived, and the table gives its latency.
Both run through the renderer the picture view uses (``RenderBatcher`` of the abstract
space, with the web server's batch settings), in one process with torch on one thread;
the HTTP layer and WebP encoding are left out, so the figures are the queue's share of a
picture's wait. On a shared machine the absolute times swing with the other processes; the
comparison is within one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from bench._server import cpu_model  # noqa: E402
from inference import get_space  # noqa: E402
from inference.batcher import RenderBatcher  # noqa: E402

MAX_BATCH, MAX_WAIT_MS = 16, 4.0  # mendel.settings RENDER_MAX_BATCH, RENDER_MAX_WAIT_MS
MAX_PASS_PIXELS = 16 * 256 * 256  # RENDER_MAX_PASS_PIXELS
WAITING_PER_PERSON = 32  # RENDER_WAITING_PER_PERSON
OLD_BUDGET_PICTURES = int(60e6 // (1024 * 1024))  # 60 Mpx a minute
NEW_BUDGET_CPU_S = 15.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(mode: str, thumbs: int) -> dict:
    space = get_space("abstract")
    fair = mode == "after"
    batcher = RenderBatcher(space, max_batch=MAX_BATCH, max_wait_ms=MAX_WAIT_MS,
                            max_pixels=MAX_PASS_PIXELS if fair else None)
    batcher.render(space.sample(1, 0), 64)  # warm
    heavy_who, light_who = ("breeder", "visitor") if fair else (None, None)
    done = threading.Event()
    heavy = {"pictures": 0, "cpu_s": 0.0, "refused_waiting": 0}

    def breeder():
        seed, lock = 1000, threading.Lock()
        if not fair:  # the whole minute's pixels at once, all queued
            futures = [batcher.submit(space.sample(1, seed + i), 1024, heavy_who)
                       for i in range(OLD_BUDGET_PICTURES)]
            for f in futures:
                f.result()
            heavy["pictures"] = len(futures)
            heavy["cpu_s"] = sum(f.cpu_s for f in futures)
            done.set()
            return
        # The budget is spent by what renders measure; at most WAITING_PER_PERSON wait.
        in_flight = threading.Semaphore(WAITING_PER_PERSON)
        futures = []
        estimate = 0.3 * 1.05  # images.DEFAULT_S_PER_MPX before anything is measured
        while True:
            with lock:
                spent = sum(f.cpu_s for f in futures if f.done())
                pending = sum(1 for f in futures if not f.done())
                measured = [f.cpu_s for f in futures if f.done()]
            per = statistics.mean(measured) if measured else estimate
            if spent + pending * per + per > NEW_BUDGET_CPU_S:
                if not pending:
                    break
                with lock:
                    oldest = next((f for f in futures if not f.done()), None)
                if oldest is not None:
                    oldest.result()  # the budget settles as renders finish
                continue
            if not in_flight.acquire(blocking=False):
                heavy["refused_waiting"] += 1
                in_flight.acquire()  # asks again once one of theirs is done
            f = batcher.submit(space.sample(1, seed), 1024, heavy_who)
            f.add_done_callback(lambda _: in_flight.release())
            seed += 1
            with lock:
                futures.append(f)
        heavy["pictures"] = len(futures)
        heavy["cpu_s"] = sum(f.cpu_s for f in futures)
        done.set()

    thread = threading.Thread(target=breeder)
    started = time.perf_counter()
    thread.start()
    time.sleep(0.05)  # the breeder's burst is queued first
    latencies = []
    for i in range(thumbs):
        t = time.perf_counter()
        batcher.render(space.sample(1, 50_000 + i), 256, light_who)
        latencies.append(time.perf_counter() - t)
        if done.is_set() and len(latencies) >= 5:
            break
    thread.join()
    wall = time.perf_counter() - started
    batcher.close()
    return {
        "mode": mode,
        "heavy_pictures": heavy["pictures"],
        "heavy_cpu_s": round(heavy["cpu_s"], 2),
        "heavy_wall_s": round(wall, 1),
        "thumbs": len(latencies),
        "thumb_p50_s": round(statistics.median(latencies), 3),
        "thumb_p95_s": round(percentile(latencies, 95), 3),
        "thumb_max_s": round(max(latencies), 3),
    }


def alone(thumbs: int) -> dict:
    space = get_space("abstract")
    batcher = RenderBatcher(space, max_batch=MAX_BATCH, max_wait_ms=MAX_WAIT_MS)
    batcher.render(space.sample(1, 0), 64)
    latencies = []
    for i in range(thumbs):
        t = time.perf_counter()
        batcher.render(space.sample(1, 60_000 + i), 256)
        latencies.append(time.perf_counter() - t)
    batcher.close()
    return {"mode": "alone", "thumbs": thumbs, "thumb_p50_s": round(statistics.median(latencies), 3),
            "thumb_p95_s": round(percentile(latencies, 95), 3), "thumb_max_s": round(max(latencies), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--mode", choices=("before", "after", "both"), default="both")
    parser.add_argument("--thumbs", type=int, default=20, help="the second person's thumbnails at most")
    args = parser.parse_args()
    torch.set_num_threads(1)
    modes = ("before", "after") if args.mode == "both" else (args.mode,)
    rows = [alone(10)] + [run(mode, args.thumbs) for mode in modes]
    result = {"cpu": cpu_model(), "torch_threads": 1, "rows": rows}
    if args.json:
        print(json.dumps(result))
        return
    print(f"CPU: {result['cpu']}, torch on 1 thread")
    print(f"{'mode':<8} {'1024 px':>8} {'CPU s':>7} {'wall s':>7} {'thumbs':>7} {'p50 s':>7} {'p95 s':>7} {'max s':>7}")
    for r in rows:
        print(f"{r['mode']:<8} {r.get('heavy_pictures', '-'):>8} {r.get('heavy_cpu_s', '-'):>7} "
              f"{r.get('heavy_wall_s', '-'):>7} {r['thumbs']:>7} {r['thumb_p50_s']:>7} "
              f"{r['thumb_p95_s']:>7} {r['thumb_max_s']:>7}")


if __name__ == "__main__":
    main()
