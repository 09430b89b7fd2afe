from __future__ import annotations

import numpy as np
import pytest

from inference import metrics


def flat(rgb, size=64):
    return np.full((size, size, 3), rgb, dtype=np.uint8)


def test_grey_has_no_colourfulness_and_saturated_colours_have_much():
    assert metrics.colourfulness(flat((128, 128, 128))) == pytest.approx(0.0)
    halves = flat((0, 0, 0))
    halves[:, :32] = (255, 0, 0)
    halves[:, 32:] = (0, 0, 255)
    assert metrics.colourfulness(halves) > 100


def test_noise_has_a_large_high_frequency_share_and_a_gradient_almost_none():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    ramp = np.repeat(np.linspace(0, 255, 128, dtype=np.uint8)[None, :, None], 128, 0).repeat(3, 2)
    assert metrics.high_frequency_share(noise) > 0.7
    assert metrics.high_frequency_share(ramp) < 0.01


def test_attributes_move_the_way_their_names_say():
    dark, light = flat((30, 30, 30)), flat((220, 220, 220))
    assert metrics.brightness(light) > metrics.brightness(dark)
    assert metrics.warmth(flat((200, 100, 50))) > 0 > metrics.warmth(flat((50, 100, 200)))
    stripes = flat((0, 0, 0))
    stripes[:, ::2] = 255
    assert metrics.contrast(stripes) > metrics.contrast(dark)
    assert metrics.complexity(stripes) > metrics.complexity(dark)
    lopsided = flat((0, 0, 0))
    lopsided[:10, :10] = 255
    assert metrics.symmetry(dark) == 1.0 > metrics.symmetry(lopsided)


def test_distance_is_zero_for_the_same_picture():
    assert metrics.distance(flat((10, 20, 30)), flat((10, 20, 30))) == 0
    assert metrics.distance(flat((0, 0, 0)), flat((255, 255, 255))) == pytest.approx(1.0)
