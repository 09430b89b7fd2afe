"""How good a space looks, in numbers: the measures behind the `abstract` space's tuning.

``evaluate`` renders random samples and reports colourfulness, the share of high-frequency
energy, diversity, flat pictures, and how related children are to their parent at several
chaos levels. ``BANDS`` are the target ranges, chosen by looking at contact sheets (see
docs/abstract-space.md); the test suite holds the built-in space to them.
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
    child_ratio: dict[float, float]  # chaos -> parent-child distance / random-pair distance

    def as_dict(self) -> dict:
        flat = asdict(self)
        flat.pop("child_ratio")
        for chaos, ratio in self.child_ratio.items():
            flat[f"child_ratio_{chaos}"] = ratio
        return flat

    def outside_bands(self) -> list[str]:
        values = self.as_dict()
        return [
            f"{name} = {values[name]:.4f}, wanted {low}..{high}"
            for name, (low, high) in BANDS.items()
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
    flat = np.array([metrics.contrast(im) < 0.02 for im in images])
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
        child_ratio=ratios,
    )
