"""The abstract space is held to its target bands (see inference/beauty.py)."""

from __future__ import annotations

import pytest

from breeding.genetics import children
from inference.beauty import CHAOS_LEVELS, evaluate


@pytest.fixture(scope="module")
def beauty(space):
    def mutate(parent, n, chaos, seed):
        return children(parent, n, chaos, seed, space.stats.std)

    return evaluate(space, mutate, n=256, size=256)


def test_random_pictures_stay_inside_every_target_band(beauty):
    assert beauty.outside_bands() == []


def test_children_at_chaos_0_3_are_clearly_related_to_their_parent(beauty):
    assert beauty.child_ratio[0.3] < 0.5


def test_children_drift_further_from_their_parent_as_chaos_grows(beauty):
    ratios = [beauty.child_ratio[c] for c in CHAOS_LEVELS]
    assert ratios == sorted(ratios)
    assert ratios[0] < 0.3 and ratios[-1] > 0.8
