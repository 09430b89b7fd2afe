"""Do the genes of a space do what their names say? Selectivity, visibility and steadiness.

    .venv/bin/python bench/genes.py [--json] [--sheet docs/img/genes.png]

Runs gene discovery as the start-up job does (``breeding.genes.discover_candidates``, same
defaults) and prints every candidate, kept or dropped:

- ratio: the change of the gene's own measure from one end of its range to the other, over
  the largest mean absolute change of any other measure, each in units of that measure's
  spread over random pictures, on held-out pictures (kept from ``MIN_RATIO``);
- fresh: the kept genes' ratio again on as many fresh pictures (the held-out ones chose
  the genes, so their ratio leans high), with spreads from 256 other random pictures;
- effect: the own measure's change, in the same units;
- change: the mean absolute pixel difference (0-255) of the pictures at the two ends;
- rho: the Spearman correlation of the measure with the amount along the range;
- the latent coordinates (layer.index) the gene moves, largest first.

``--sheet`` writes a gene sheet: a row per kept gene, five steps across its range on two
base pictures, labelled with the gene's name and ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from breeding.genes import (  # noqa: E402
    HELD_OUT_SEED_OFFSET,
    MIN_CHANGE,
    MIN_EFFECT,
    MIN_RATIO,
    discover_candidates,
    measures_of,
    selectivity,
)
from inference import get_space  # noqa: E402

#: Seed offsets of the fresh pictures (neither fitted nor validated on) and of the random
#: pictures whose spread normalises their measures.
FRESH_SEED_OFFSET, SPREAD_SEED_OFFSET = HELD_OUT_SEED_OFFSET + 1, HELD_OUT_SEED_OFFSET + 2

#: Latents of the sheet's two base pictures: ``space.sample(BASES[1] + 1, BASES[0])`` rows.
SHEET_SEED, SHEET_BASES = 7, (2, 5)


def gene_sheet(space, genes, size: int = 96, steps: int = 5, gap: int = 6, label_width: int = 220):
    """(height, width, 3) uint8: a row per gene, ``steps`` amounts from low to high on each of
    the two base pictures, the gene's label and ratio on the left."""
    from PIL import Image, ImageDraw

    from common.fonts import font_for

    bases = space.sample(max(SHEET_BASES) + 1, SHEET_SEED)[list(SHEET_BASES)]
    columns = steps * len(bases)
    width = label_width + columns * (size + gap) + gap * 3
    height = gap + len(genes) * (size + gap) + 24
    sheet = Image.new("RGB", (width, height), (16, 16, 18))
    draw = ImageDraw.Draw(sheet)
    small = font_for("", 13)
    for row, gene in enumerate(genes):
        top = gap + row * (size + gap)
        amounts = torch.linspace(gene.low, gene.high, steps)
        latents = torch.cat([base[None] + amounts[:, None, None] * gene.direction for base in bases])
        images = space.render(latents, size).numpy()
        for k, image in enumerate(images):
            left = label_width + gap + k * (size + gap) + (k // steps) * gap * 2
            sheet.paste(Image.fromarray(image), (left, top))
        draw.text((gap, top + size // 2 - 26), gene.label, fill=(235, 235, 235),
                  font=font_for(gene.label, 17))
        draw.text((gap, top + size // 2 - 4), f"ratio {gene.ratio:.1f}  (vs {gene.rival})",
                  fill=(170, 170, 170), font=small)
        draw.text((gap, top + size // 2 + 16), f"{gene.low:g} … {gene.high:g}",
                  fill=(170, 170, 170), font=small)
    draw.text((label_width + gap, height - 20), "low end → high end, on two base pictures",
              fill=(140, 140, 140), font=small)
    return np.asarray(sheet)


def uses(direction: torch.Tensor, most: int = 8) -> list[str]:
    """The latent coordinates a direction moves, "layer.index", largest weight first; an
    empty list for a dense one (more than ``most``)."""
    weights = direction.abs().flatten()
    nonzero = int((weights > 0).sum())
    if nonzero > most:
        return []
    order = torch.argsort(weights, descending=True)[:nonzero]
    dim = direction.shape[1]
    return [f"{int(i) // dim}.{int(i) % dim}" for i in order]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--space", default="abstract")
    parser.add_argument("--samples", type=int, default=1024)
    parser.add_argument("--held-out", type=int, default=32)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sheet", type=Path, help="write the gene sheet (PNG) here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    space = get_space(args.space)

    started = time.perf_counter()
    candidates = discover_candidates(
        space, samples=args.samples, held_out=args.held_out, size=args.size, seed=args.seed
    )
    seconds = time.perf_counter() - started
    # The kept genes again on fresh pictures: the held-out ones chose them, so their ratios
    # there lean high.
    randoms = space.render(space.sample(256, args.seed + SPREAD_SEED_OFFSET), args.size).numpy()
    measures = measures_of(space)
    spread = np.array([[fn(image) for fn in measures.values()] for image in randoms]).std(axis=0)
    fresh = space.sample(args.held_out, args.seed + FRESH_SEED_OFFSET)
    fresh_ratio = {
        g.slug: selectivity(space, g, fresh, spread, args.size)[0] for g in candidates if g.kept
    }
    rows = [
        {
            "slug": g.slug,
            "label": g.label,
            "source": g.source,
            "kept": g.kept,
            "range": g.high,
            "ratio": round(g.ratio, 2),
            "fresh_ratio": round(fresh_ratio[g.slug], 2) if g.kept else None,
            "rival": g.rival,
            "effect": round(g.effect, 2),
            "change": round(g.change, 1),
            "rho": round(g.rho, 3),
            "uses": uses(g.direction),
        }
        for g in candidates
    ]
    if args.json:
        print(json.dumps({
            "space": args.space, "version": space.version, "samples": args.samples,
            "held_out": args.held_out, "size": args.size, "seed": args.seed,
            "seconds": round(seconds, 1), "thresholds": {
                "ratio": MIN_RATIO, "effect": MIN_EFFECT, "change": MIN_CHANGE},
            "genes": rows,
        }))
    else:
        print(f"{args.space} (version {space.version}), {args.samples} samples and "
              f"{args.held_out} held out at {args.size} px, seed {args.seed}, {seconds:.1f} s")
        print(f"kept when ratio >= {MIN_RATIO:g}, effect >= {MIN_EFFECT:g} spreads, "
              f"change >= {MIN_CHANGE:g}/255 and rho >= 0.8")
        print(f"{'gene':<15} {'label':<17} {'kept':<5} {'range':>5} {'ratio':>6} "
              f"{'rival':<14} {'fresh':>6} {'effect':>6} {'change':>6} {'rho':>5}  latent coordinates")
        for r in rows:
            print(f"{r['slug']:<15} {r['label']:<17} {'yes' if r['kept'] else 'no':<5} "
                  f"{r['range']:>5g} {r['ratio']:>6.2f} {r['rival']:<14} "
                  f"{'' if r['fresh_ratio'] is None else format(r['fresh_ratio'], '.2f'):>6} "
                  f"{r['effect']:>6.2f} "
                  f"{r['change']:>6.1f} {r['rho']:>5.2f}  {' '.join(r['uses']) or 'dense'}")
    if args.sheet:
        from inference.encode import encode

        kept = [g for g in candidates if g.kept]
        args.sheet.parent.mkdir(parents=True, exist_ok=True)
        args.sheet.write_bytes(encode(torch.from_numpy(gene_sheet(space, kept).copy()), "png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
