"""How good a space looks, in numbers: the measures behind the built-in spaces' tuning.

``evaluate`` renders random samples and reports colourfulness, the share of high-frequency
energy, diversity, flat and garish pictures, the shares of mirror-symmetric, sharp-edged
and soft pictures, and how related children are to their parent at several chaos levels.
``BANDS`` (``abstract``) and ``FIGURES_BANDS`` (``figures``) are the target ranges, chosen
by looking at contact sheets (see docs/abstract-space.md and docs/figures-space.md); the
test suite holds the built-in spaces to them (``bands_for``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch

from inference import metrics

CHAOS_LEVELS = (0.1, 0.3, 0.6, 1.0, 1.5)

#: Target bands: (low, high) for each measure.
BANDS = {
    # Soft palettes: clearly coloured, rarely garish (Hasler–Süsstrunk scale).
    "colourfulness_mean": (20.0, 55.0),
    "colourfulness_p95": (0.0, 85.0),
    "colourfulness_p5": (6.0, 100.0),
    # Structure at several scales, no noise soup: some energy above a quarter of Nyquist.
    "hf_share_mean": (0.002, 0.08),
    "hf_share_p95": (0.0, 0.15),
    # Random pictures should differ clearly from each other.
    "diversity": (0.12, 1.0),
    # Pictures with almost no variation (a flat single colour).
    "flat_share": (0.0, 0.01),
    # Children at chaos 0.3 clearly related to their parent.
    "child_ratio_0.3": (0.0, 0.5),
}

#: ``abstract``'s diversity on 256 pictures at 256 px (seed 0): ``figures`` must reach it.
ABSTRACT_DIVERSITY = 0.228

#: Target bands of the ``figures`` space: figures on grounds, symmetric more often than
#: not, crisp or soft, at least as diverse as ``abstract`` and its children as kin.
FIGURES_BANDS = {
    "colourfulness_mean": (15.0, 55.0),
    "colourfulness_p95": (0.0, 90.0),
    "diversity": (ABSTRACT_DIVERSITY, 1.0),
    "flat_share": (0.0, 0.01),
    "garish_share": (0.0, 0.01),
    "symmetric_share": (0.2, 1.0),
    "sharp_share": (0.2, 1.0),
    "soft_share": (0.2, 1.0),
    "child_ratio_0.3": (0.0, 0.5),
}

#: A picture is *symmetric* when its nearest mirror image differs by under 3 % on average
#: (``metrics.symmetry``), *sharp* when at least 0.5 % of its pixels step by a fifth of the
#: luma range or more to a neighbour (an edge across the picture), *soft* when under 0.5 %
#: step by a tenth or more; *flat* when its luma spread is under 0.02; *garish* when more
#: than a fifth of its pixels are vivid (sRGB max - min over 0.7 of the range).
SYMMETRIC = 0.97
SHARP_STEP = 0.2
SOFT_STEP = 0.1
EDGE_PERCENTILE = 99.5
FLAT = 0.02
VIVID = 0.7
GARISH_SHARE = 0.2


def bands_for(slug: str) -> dict[str, tuple[float, float]]:
    """The target bands of a built-in space."""
    return FIGURES_BANDS if slug == "figures" else BANDS


def edge_step(image) -> float:
    """The luma step to a neighbouring pixel (right or below) that 0.5 % of the picture's
    pixels reach: near 0 for a soft picture, large where edges cross it."""
    y = metrics.luma(image)
    step = np.maximum(np.abs(np.diff(y, axis=1))[:-1], np.abs(np.diff(y, axis=0))[:, :-1])
    return float(np.percentile(step, EDGE_PERCENTILE))


def vivid_share(image) -> float:
    """The share of pixels with a chroma (sRGB max - min) over ``VIVID`` of the range."""
    rgb = (image.numpy() if hasattr(image, "numpy") else np.asarray(image)).astype(np.float64) / 255.0
    return float(((rgb.max(axis=2) - rgb.min(axis=2)) > VIVID).mean())


@dataclass
class Beauty:
    samples: int
    size: int
    colourfulness_mean: float
    colourfulness_p5: float
    colourfulness_p95: float
    hf_share_mean: float
    hf_share_p95: float
    diversity: float
    flat_share: float
    garish_share: float
    symmetric_share: float
    sharp_share: float
    soft_share: float
    child_ratio: dict[float, float]  # chaos -> parent-child distance / random-pair distance

    def as_dict(self) -> dict:
        flat = asdict(self)
        flat.pop("child_ratio")
        for chaos, ratio in self.child_ratio.items():
            flat[f"child_ratio_{chaos}"] = ratio
        return flat

    def outside_bands(self, bands: dict | None = None) -> list[str]:
        values = self.as_dict()
        return [
            f"{name} = {values[name]:.4f}, wanted {low}..{high}"
            for name, (low, high) in (BANDS if bands is None else bands).items()
            if not low <= values[name] <= high
        ]


Mutate = Callable[[torch.Tensor, int, float, int], torch.Tensor]


def evaluate(
    space, mutate: Mutate, n: int = 256, size: int = 256, seed: int = 0,
    parents: int = 32, children_each: int = 4, batch: int = 16,
) -> Beauty:
    """Measure ``n`` random pictures of ``space``; ``mutate(parent, n, chaos, seed)`` makes
    children (Mendel's breeding ``children`` with the space's std)."""
    latents = space.sample(n, seed)
    images = torch.cat([space.render(latents[i : i + batch], size) for i in range(0, n, batch)])
    colour = np.array([metrics.colourfulness(im) for im in images])
    hf = np.array([metrics.high_frequency_share(im) for im in images])
    flat = np.array([metrics.contrast(im) < FLAT for im in images])
    garish = np.array([vivid_share(im) > GARISH_SHARE for im in images])
    symmetric = np.array([metrics.symmetry(im) >= SYMMETRIC for im in images])
    steps = np.array([edge_step(im) for im in images])
    diversity = metrics.mean_pairwise_distance(images)

    # Parent-child distance, relative to the distance between unrelated pictures.
    thumbs = [metrics.thumbnail(im) for im in images[:parents]]
    ratios = {}
    for level, chaos in enumerate(CHAOS_LEVELS):
        kids = torch.cat(
            [mutate(latents[p], children_each, chaos, seed + 1000 * level + p) for p in range(parents)]
        )
        kid_images = torch.cat(
            [space.render(kids[i : i + batch], size) for i in range(0, len(kids), batch)]
        )
        distances = [
            float(np.abs(metrics.thumbnail(kid) - thumbs[i // children_each]).mean())
            for i, kid in enumerate(kid_images)
        ]
        ratios[chaos] = float(np.mean(distances) / diversity)
    return Beauty(
        samples=n,
        size=size,
        colourfulness_mean=float(colour.mean()),
        colourfulness_p5=float(np.percentile(colour, 5)),
        colourfulness_p95=float(np.percentile(colour, 95)),
        hf_share_mean=float(hf.mean()),
        hf_share_p95=float(np.percentile(hf, 95)),
        diversity=diversity,
        flat_share=float(flat.mean()),
        garish_share=float(garish.mean()),
        symmetric_share=float(symmetric.mean()),
        sharp_share=float((steps >= SHARP_STEP).mean()),
        soft_share=float((steps < SOFT_STEP).mean()),
        child_ratio=ratios,
    )
