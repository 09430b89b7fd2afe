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


def test_symmetry_finds_a_mirror_axis_off_the_centre_and_ignores_how_bold_a_picture_is():
    rng = np.random.default_rng(1)
    half = rng.integers(0, 256, (64, 30, 3), dtype=np.uint8)
    # Mirrored about the axis between columns 33 and 34, not the centre (31.5): shifted by 4.
    mirrored = flat((0, 0, 0))
    mirrored[:, 4:34] = half
    mirrored[:, 34:64] = half[:, ::-1]
    noise = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    assert metrics.symmetry(mirrored) > 0.9
    assert metrics.symmetry(np.ascontiguousarray(mirrored.transpose(1, 0, 2))) > 0.9
    assert metrics.symmetry(noise) < 0.2
    faint = (128 + (mirrored.astype(int) - 128) // 8).astype(np.uint8)
    assert metrics.symmetry(faint) == pytest.approx(metrics.symmetry(mirrored), abs=0.05)


def test_tint_is_green_against_magenta_and_complexity_does_not_count_contrast():
    assert metrics.tint(flat((50, 200, 50))) > 0 > metrics.tint(flat((200, 50, 200)))
    assert metrics.tint(flat((90, 90, 90))) == 0
    stripes = flat((100, 100, 100))
    stripes[:, ::4] = 140
    bold = flat((0, 0, 0))
    bold[:, ::4] = 255
    assert metrics.complexity(bold) == pytest.approx(metrics.complexity(stripes), rel=1e-6)
    assert metrics.complexity(flat((90, 90, 90))) == 0.0


def test_grain_tells_vertical_from_horizontal_stripes_and_light_sides_are_signed():
    vertical = flat((0, 0, 0))
    vertical[:, ::4] = 255
    horizontal = np.ascontiguousarray(vertical.transpose(1, 0, 2))
    assert metrics.grain(vertical) > 0.9 and metrics.grain(horizontal) < -0.9
    assert metrics.grain(flat((90, 90, 90))) == 0.0
    right = flat((0, 0, 0))
    right[:, 32:] = 255
    assert metrics.light_right(right) == pytest.approx(1.0)
    assert metrics.light_bottom(right) == pytest.approx(0.0)
    bottom = np.ascontiguousarray(right.transpose(1, 0, 2))
    assert metrics.light_bottom(bottom) == pytest.approx(1.0)


def subject(size=64, centre=(32, 32), radii=(10, 10), colour=(200, 60, 40)):
    """An ellipse of ``colour`` on white: one subject on a plain ground."""
    picture = flat((255, 255, 255), size)
    ys, xs = np.mgrid[:size, :size]
    inside = ((ys + 0.5 - centre[0]) / radii[0]) ** 2 + ((xs + 0.5 - centre[1]) / radii[1]) ** 2 <= 1
    picture[inside] = colour
    return picture


def test_the_subject_on_a_plain_ground_is_measured_by_its_size_shape_and_place():
    disc = subject()
    assert metrics.subject_size(disc) == pytest.approx(np.pi * 100 / 64**2, rel=0.05)
    assert metrics.subject_size(subject(radii=(20, 20))) == pytest.approx(4 * metrics.subject_size(disc), rel=0.05)
    assert abs(metrics.subject_tall(disc)) < 0.02
    assert metrics.subject_tall(subject(radii=(20, 8))) > 0.5 > -0.5 > metrics.subject_tall(subject(radii=(8, 20)))
    assert metrics.subject_right(disc) == pytest.approx(0.0, abs=0.01)
    assert metrics.subject_right(subject(centre=(32, 48))) == pytest.approx(0.25, abs=0.01)
    assert metrics.subject_low(subject(centre=(16, 32))) == pytest.approx(-0.25, abs=0.01)
    # The ground is whatever colour the border has; a faint shading of it is still ground.
    dark = subject(colour=(250, 250, 120))
    dark[dark.sum(axis=-1) == 765] = (20, 30, 40)
    dark[:, :8] = (30, 36, 50)
    assert metrics.subject_size(dark) == pytest.approx(metrics.subject_size(disc), rel=0.05)
    # Nothing but ground: no subject, in the middle.
    assert metrics.subject_size(flat((255, 255, 255))) == 0.0
    assert (metrics.subject_right(flat((9, 9, 9))), metrics.subject_tall(flat((9, 9, 9)))) == (0.0, 0.0)
