"""Sheets of the ``emoji`` space for docs/img (looked at before its weights ship):

    .venv/bin/python docs/emoji_sheets.py [--out docs/img]

- ``emoji-random.png``: 64 random pictures (seed 0, the space's truncation);
- ``emoji-family.png``: a parent and 8 children at chaos 0.3, as the studio makes them;
- ``emoji-crosses.png``: two parents, then their crosses by layer group (coarse from one
  parent and the rest from the other, and so on) and the even mix;
- ``emoji-genes.png``: every gene the discovery keeps (the same validation as the site's),
  from its lowest amount to its highest, on three pictures.

The projections of the six photographs are ``bench/project.py --space emoji --sheet``.
Pictures are rendered at the trained 64 px and upscaled to 128 px by the space itself.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from breeding import genetics  # noqa: E402
from breeding.genes import discover_genes  # noqa: E402
from inference import get_space  # noqa: E402

SIZE = 128
GAP = 6
INK = (236, 235, 232)
GROUND = (16, 16, 18)


def sheet(rows: list[list[np.ndarray]], labels: list[str] | None = None) -> Image.Image:
    label_w = 150 if labels else 0
    columns = max(len(r) for r in rows)
    width = label_w + columns * (SIZE + GAP) + GAP
    height = len(rows) * (SIZE + GAP) + GAP
    out = Image.new("RGB", (width, height), GROUND)
    draw = ImageDraw.Draw(out)
    for y, row in enumerate(rows):
        top = GAP + y * (SIZE + GAP)
        if labels:
            draw.text((GAP, top + SIZE // 2 - 6), labels[y], fill=INK)
        for x, picture in enumerate(row):
            out.paste(Image.fromarray(picture), (label_w + GAP + x * (SIZE + GAP), top))
    return out


def render(space, latents: torch.Tensor) -> list[np.ndarray]:
    return [p.numpy() for p in space.render(latents, SIZE)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="docs/img")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    space = get_space("emoji")

    pictures = render(space, space.sample(64, seed=0))
    sheet([pictures[i:i + 8] for i in range(0, 64, 8)]).save(out / "emoji-random.png")

    parents = space.sample(3, seed=11)
    rows = []
    for parent in parents:
        kids = genetics.children(parent, 8, 0.3, seed=5, std=space.stats.std)
        rows.append(render(space, torch.cat([parent[None], kids])))
    sheet(rows, ["parent, then 8 children"] * 3).save(out / "emoji-family.png")

    a, b = space.sample(2, seed=21)
    groups = space.groups
    rows, labels = [], []
    for name_a in ("coarse", "middle", "fine"):
        weights = {g: [1.0, 0.0] if g == name_a else [0.0, 1.0] for g in groups}
        mixed = genetics.mix_groups([a, b], weights, groups, gaussian=False)
        rows.append(render(space, torch.stack([a, b, mixed])))
        labels.append(f"{name_a} from the first")
    half = genetics.mix_groups([a, b], {g: [0.5, 0.5] for g in groups}, groups, gaussian=False)
    rows.append(render(space, torch.stack([a, b, half])))
    labels.append("half of each")
    sheet(rows, labels).save(out / "emoji-crosses.png")

    genes = discover_genes(space)
    bases = space.sample(3, seed=31)
    rows, labels = [], []
    for gene in genes:
        amounts = torch.linspace(gene.low, gene.high, 7)
        for base in bases[:1]:
            moved = torch.stack([base + t * gene.direction for t in amounts])
            rows.append(render(space, moved))
            labels.append(f"{gene.label} ({gene.source})")
    if rows:
        sheet(rows, labels).save(out / "emoji-genes.png")
    print(f"{len(genes)} genes kept: " + ", ".join(f"{g.slug} ({g.label}, rho {g.rho:.2f})" for g in genes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
