"""Projection into a space on this machine: seconds per picture and how close it gets.

    .venv/bin/python bench/project.py [--json] [--threads 2] [--targets 10] [--sheet PATH]

Measures ``inference.projection.project`` at 128 px with its default steps: the seconds per
projection (median over the rendered targets), the PSNR of each projection's 128 px render
against its 128 px target, for pictures rendered from hidden random latents of the space
(seeds never used to tune projection) and for photographs and a drawing shipped inside
scikit-image (public domain / CC0 samples; see docs/abstract-space.md), and the longest
wait between two ``on_step`` calls (the first counted from the call). Goals (issue #10):
median PSNR >= 25 dB on rendered targets, <= 20 s per projection, on_step at least every
second. ``--sheet`` writes originals beside their projections, labelled with the PSNR.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._server import cpu_model  # noqa: E402
from inference import get_space  # noqa: E402
from inference.projection import prepare_target, project  # noqa: E402

HIDDEN_SEED = 20261126  # the rendered targets' latents: not a seed projection was tuned on
SIZE = 128
#: scikit-image's bundled samples (inside the wheel, no download): name -> what it is.
PHOTOS = {
    "coffee": "photo",
    "astronaut": "photo",
    "chelsea": "photo",
    "rocket": "photo",
    "camera": "photo (grey)",
    "hubble_deep_field": "photo",
    "retina": "photo",
    "horse": "drawing",
}



def sample_picture(name: str) -> np.ndarray:
    """A scikit-image sample as (H, W, 3) uint8 (grey and black-and-white ones as RGB)."""
    from skimage import data

    picture = np.asarray(getattr(data, name)())
    if picture.dtype == bool:
        picture = picture.astype(np.uint8) * 255
    if picture.ndim == 2:
        picture = np.repeat(picture[:, :, None], 3, axis=2)
    return np.ascontiguousarray(picture[:, :, :3])


def spread(values: list[float]) -> dict[str, float]:
    q = np.percentile(values, [0, 25, 50, 75, 100])
    return {k: round(float(v), 2) for k, v in zip(("min", "p25", "median", "p75", "max"), q, strict=True)}


def run_one(space, picture, seed: int):
    """(result, seconds, longest gap between progress calls)."""
    last = [time.perf_counter()]
    gaps = []

    def on_step(progress) -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    started = last[0]
    result = project(space, picture, size=SIZE, seed=seed, on_step=on_step)
    return result, time.perf_counter() - started, max(gaps)


def sheet(space, rows: list[tuple[str, torch.Tensor, torch.Tensor, float]], columns: int = 4):
    """Originals beside their projections, a label with the PSNR under each pair."""
    from PIL import Image, ImageDraw

    gap, label_h, pair_gap = 12, 18, 4
    cell_w, cell_h = 2 * SIZE + pair_gap, SIZE + label_h
    n_rows = -(-len(rows) // columns)
    width = gap + columns * (cell_w + gap)
    height = gap + n_rows * (cell_h + gap)
    canvas = Image.new("RGB", (width, height), (24, 24, 26))
    draw = ImageDraw.Draw(canvas)
    for i, (name, original, projected, psnr) in enumerate(rows):
        x = gap + (i % columns) * (cell_w + gap)
        y = gap + (i // columns) * (cell_h + gap)
        canvas.paste(Image.fromarray(original.numpy()), (x, y))
        canvas.paste(Image.fromarray(projected.numpy()), (x + SIZE + pair_gap, y))
        draw.text((x, y + SIZE + 4), f"{name}: {psnr:.1f} dB", fill=(225, 225, 225))
    return canvas


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--space", default="abstract")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--targets", type=int, default=10, help="rendered targets")
    parser.add_argument("--no-photos", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sheet", type=Path, help="write originals beside projections (PNG)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    space = get_space(args.space)

    rendered = space.render(space.sample(args.targets, HIDDEN_SEED), SIZE)
    times, psnrs, gaps, shown = [], [], [], []
    for i, target in enumerate(rendered):
        result, seconds, gap = run_one(space, target, seed=i)
        times.append(seconds)
        psnrs.append(result.psnr_db)
        gaps.append(gap)
        shown.append((f"rendered {i}", target, space.render(result.latent, SIZE)[0], result.psnr_db))
        if not args.json:
            print(f"  rendered {i}: {result.psnr_db:5.2f} dB in {seconds:5.2f} s", flush=True)
    photo_psnrs: dict[str, float] = {}
    if not args.no_photos:
        for name in PHOTOS:
            picture = sample_picture(name)
            result, seconds, gap = run_one(space, picture, seed=0)
            photo_psnrs[name] = result.psnr_db
            gaps.append(gap)
            original = (prepare_target(picture, SIZE) * 255).round().to(torch.uint8)
            shown.append((name, original, space.render(result.latent, SIZE)[0], result.psnr_db))
            if not args.json:
                print(f"  {name} ({PHOTOS[name]}): {result.psnr_db:5.2f} dB in {seconds:5.2f} s",
                      flush=True)

    result = {
        "cpu": cpu_model(),
        "threads": torch.get_num_threads(),
        "size": SIZE,
        "targets": args.targets,
        "project_s_median": round(statistics.median(times), 2),
        "project_s_max": round(max(times), 2),
        "psnr_median_db": round(statistics.median(psnrs), 2),
        "psnr_db": spread(psnrs),
        "max_step_gap_s": round(max(gaps), 3),
    }
    if photo_psnrs:
        result["photo_psnr_median_db"] = round(statistics.median(photo_psnrs.values()), 2)
        result["photo_psnr_db"] = spread(list(photo_psnrs.values()))
        result["photo_psnr_each_db"] = {k: round(v, 2) for k, v in photo_psnrs.items()}
    if args.sheet:
        # A few rendered targets, then every photograph and drawing.
        rows = shown[:4] + shown[args.targets :]
        args.sheet.parent.mkdir(parents=True, exist_ok=True)
        sheet(space, rows).save(args.sheet, optimize=True)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{args.space} (version {space.version}), torch {torch.__version__}, "
          f"{result['threads']} threads, {result['cpu']}, {SIZE} px")
    rows = [
        ("seconds per projection (median)", result["project_s_median"], "goal <= 20"),
        ("seconds per projection (max)", result["project_s_max"], ""),
        ("rendered targets: PSNR median (dB)", result["psnr_median_db"], "goal >= 25"),
        ("  min / p25 / p75 / max", " / ".join(str(result["psnr_db"][k])
                                               for k in ("min", "p25", "p75", "max")), ""),
        ("longest gap between on_step (s)", result["max_step_gap_s"], "goal <= 1"),
    ]
    if photo_psnrs:
        rows += [
            ("photos and drawing: PSNR median", result["photo_psnr_median_db"], ""),
            ("  min / p25 / p75 / max", " / ".join(str(result["photo_psnr_db"][k])
                                                   for k in ("min", "p25", "p75", "max")), ""),
        ]
    for name, value, note in rows:
        print(f"{name:<36} {value!s:>24}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
