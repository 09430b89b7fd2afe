"""The ``emoji`` space on this machine: thumbnails per second through the site's batcher,
and how fast its generator trains.

    .venv/bin/python bench/emoji.py [--json] [--threads 2] [--repeats 5] [--no-train]

Rendering: 64 random latents rendered as 256 px thumbnails (64 px from the generator, a
bicubic upscale) through ``inference.batcher.Batcher``, the batcher every site process
renders with, one request of 8 at a time as the studio sends them; the baseline is the
``abstract`` space through the same batcher in the same run, the two taking turns in each
repeat so that a neighbour's load falls on both alike. Goal (issue "A GAN of Mendel's
own"): at least 50 emoji thumbnails per second on two cores. Through the inference
service, ``bench/inference.py --space emoji --size 256`` measures the same pictures.

Training: pictures shown per second by ``inference.gan.Trainer`` (the recipe of the
shipped space: batch 32, lazy R1 every 16 minibatches, DiffAugment) at 64 and 128 px, over
``--steps`` minibatches after two to warm up, on random pictures (the speed does not depend
on what they show).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._server import cpu_model  # noqa: E402


def render_rate(batcher, latents, size: int = 256, per_request: int = 8) -> float:
    started = time.perf_counter()
    for chunk in latents.split(per_request):
        batcher.render(chunk, size)
    return latents.shape[0] / (time.perf_counter() - started)


def train_rate(resolution: int, steps: int) -> float:
    import torch

    from inference import gan

    pictures = torch.randint(0, 256, (256, 3, resolution, resolution), dtype=torch.uint8)
    trainer = gan.Trainer(pictures, gan.Recipe(resolution=resolution, r1_every=4))
    for _ in range(2):
        trainer.step()
    started = time.perf_counter()
    for _ in range(steps):
        trainer.step()
    return steps * trainer.recipe.batch / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--no-train", dest="train", action="store_false")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import torch

    from inference import get_space
    from inference.batcher import RenderBatcher as Batcher

    torch.set_num_threads(args.threads)
    batchers = {slug: Batcher(get_space(slug)) for slug in ("emoji", "abstract")}
    latents = {slug: b.space.sample(64, seed=1) for slug, b in batchers.items()}
    for slug, b in batchers.items():  # warm up (kernels, allocator)
        render_rate(b, latents[slug][:8])
    rates = {slug: [] for slug in batchers}
    for _ in range(args.repeats):
        for slug, b in batchers.items():
            rates[slug].append(render_rate(b, latents[slug]))
    for b in batchers.values():
        b.close()
    result = {
        "cpu": cpu_model(), "threads": args.threads,
        "emoji_thumbnails_per_s": round(statistics.median(rates["emoji"]), 1),
        "emoji_range": [round(min(rates["emoji"]), 1), round(max(rates["emoji"]), 1)],
        "abstract_thumbnails_per_s": round(statistics.median(rates["abstract"]), 1),
        "emoji_over_abstract": round(statistics.median(
            e / a for e, a in zip(rates["emoji"], rates["abstract"], strict=True)), 2),
        "emoji_gmac_per_picture": round(batchers["emoji"].space.gmac, 3),
    }
    if args.train:
        result["train_64px_pictures_per_s"] = round(train_rate(64, args.steps), 1)
        result["train_128px_pictures_per_s"] = round(train_rate(128, max(2, args.steps // 2)), 1)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"CPU: {result['cpu']}, {args.threads} threads")
    print(f"{'measure':<34}{'value':>10}")
    for key, value in result.items():
        if key not in ("cpu", "threads"):
            print(f"{key:<34}{value!s:>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
