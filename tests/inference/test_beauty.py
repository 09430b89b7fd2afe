"""The built-in spaces are held to their target bands (see inference/beauty.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from breeding.genetics import children
from inference import metrics
from inference.beauty import CHAOS_LEVELS, FIGURES_BANDS, edge_step, evaluate, vivid_share


@pytest.fixture(scope="module")
def beauty(space):
    def mutate(parent, n, chaos, seed):
        return children(parent, n, chaos, seed, space.stats.std)

    return evaluate(space, mutate, n=256, size=256)


def test_random_pictures_stay_inside_every_target_band(beauty):
    assert beauty.outside_bands() == []


def nearest_parent_share(space, chaos: float, parents: int = 32, each: int = 4, size: int = 64) -> float:
    """The share of children that look more like their own parent than like any of the
    other parents (thumbnail distance, as in the bands)."""
    latents = space.sample(parents, 0)
    thumbs = np.stack([metrics.thumbnail(im) for im in space.render(latents, size)])
    kids = torch.cat([children(latents[p], each, chaos, p, space.stats.std) for p in range(parents)])
    kid_images = torch.cat([space.render(kids[i : i + 16], size) for i in range(0, len(kids), 16)])
    kid_thumbs = np.stack([metrics.thumbnail(im) for im in kid_images])
    distances = np.abs(kid_thumbs[:, None] - thumbs[None]).mean(axis=(2, 3, 4))  # (kids, parents)
    own = np.arange(len(kids)) // each
    return float((distances.argmin(axis=1) == own).mean())


def test_children_at_chaos_0_3_are_clearly_related_to_their_parent(space):
    """The bands hold the average parent-child distance; this asks more of each child: picked
    out of a line-up of 32 parents, nearly every one at chaos 0.3 finds its own. At chaos 1
    most do not, so the line-up tells related from unrelated."""
    assert nearest_parent_share(space, 0.3) >= 0.85
    assert nearest_parent_share(space, 1.0) <= 0.5


def test_children_drift_further_from_their_parent_as_chaos_grows(beauty):
    ratios = [beauty.child_ratio[c] for c in CHAOS_LEVELS]
    assert ratios == sorted(ratios)
    assert ratios[0] < 0.3 and ratios[-1] > 0.8


# -- the figures space ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def figures_beauty(figures):
    def mutate(parent, n, chaos, seed):
        return children(parent, n, chaos, seed, figures.stats.std)

    return evaluate(figures, mutate, n=256, size=256)


def test_figures_stay_inside_every_target_band(figures_beauty):
    """Symmetric, sharp and soft pictures each make at least a fifth of 256 random ones;
    none is flat or garish; they are as diverse as abstract's and their children as kin."""
    assert figures_beauty.outside_bands(FIGURES_BANDS) == []


def test_figures_children_at_chaos_0_3_pick_out_their_own_parent(figures):
    """As abstract's: nearly every child at chaos 0.3 finds its own parent among 32, though
    figures look more alike at thumbnail size (a shape in the middle of a ground). Near a
    boundary of the symmetry choice a picture blends both kinds (or both fold counts), so
    a small mutation does not switch it at once."""
    assert nearest_parent_share(figures, 0.3) >= 0.85
    assert nearest_parent_share(figures, 1.0) <= 0.5


def test_figures_children_drift_further_as_chaos_grows(figures_beauty):
    ratios = [figures_beauty.child_ratio[c] for c in CHAOS_LEVELS]
    assert ratios == sorted(ratios)


def test_the_edge_and_garish_measures_tell_the_cases_apart():
    ramp = np.tile(np.linspace(0, 255, 256, dtype=np.uint8)[None, :, None], (256, 1, 3))
    assert edge_step(ramp) < 0.1  # a soft gradient
    step = np.zeros((256, 256, 3), np.uint8)
    step[:, 64:128] = 255
    step[:, 192:] = 255
    assert edge_step(step) >= 0.2  # a hard edge across the picture
    red = np.zeros((64, 64, 3), np.uint8)
    red[..., 0] = 255
    assert vivid_share(red) == 1.0 and vivid_share(ramp) == 0.0
