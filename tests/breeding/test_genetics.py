"""Properties of the breeding math (hypothesis)."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from breeding.genetics import children, cross, edit, interpolate, slerp

LAYERS, DIM = 4, 16
STD = torch.ones(LAYERS, DIM)
seeds = st.integers(min_value=0, max_value=2**31 - 1)


def latent(seed: int) -> torch.Tensor:
    return torch.randn(LAYERS, DIM, generator=torch.Generator().manual_seed(seed))


@given(seeds, st.floats(0.0, 1.5), st.integers(1, 8))
def test_the_same_seed_gives_the_same_children(seed, chaos, n):
    parent = latent(seed % 1000)
    assert torch.equal(children(parent, n, chaos, seed, STD), children(parent, n, chaos, seed, STD))


@given(seeds)
def test_different_seeds_give_different_children(seed):
    parent = latent(1)
    assert not torch.equal(children(parent, 2, 0.5, seed, STD), children(parent, 2, 0.5, seed + 1, STD))


@given(seeds, st.floats(0.05, 0.7))
def test_child_distance_grows_with_chaos(seed, chaos):
    parent = latent(seed % 1000)
    near = (children(parent, 8, chaos, seed, STD) - parent).norm(dim=(1, 2))
    far = (children(parent, 8, chaos * 2, seed, STD) - parent).norm(dim=(1, 2))
    assert torch.all(far > near)


def test_chaos_zero_returns_the_parent():
    parent = latent(3)
    assert torch.equal(children(parent, 3, 0.0, 5, STD)[1], parent)


@given(seeds, st.integers(2, 6), st.integers(0, 5))
@settings(max_examples=50)
def test_all_weight_on_one_parent_without_mutation_returns_that_parent(seed, k, chosen):
    chosen %= k
    parents = [latent(seed % 997 + i) for i in range(k)]
    weights = [1.0 if i == chosen else 0.0 for i in range(k)]
    child = cross(parents, weights, weights, seed, 0.0, coarse_layers=2, std=STD)
    assert torch.equal(child, parents[chosen])


def test_content_and_style_weights_act_on_their_own_layers():
    a, b = latent(1), latent(2)
    child = cross([a, b], [1.0, 0.0], [0.0, 1.0], 0, coarse_layers=2, std=STD)
    assert torch.equal(child[:2], a[:2]) and torch.equal(child[2:], b[2:])


@given(seeds, st.floats(0.1, 10.0), st.floats(0.1, 10.0))
def test_a_gaussian_cross_keeps_the_typical_norm(seed, wa, wb):
    a, b = latent(seed % 1000), latent(seed % 1000 + 1)
    child = cross([a, b], [wa, wb], [wa, wb], seed, coarse_layers=2, std=STD)
    norms = child.norm(dim=1)
    low = torch.minimum(a.norm(dim=1), b.norm(dim=1)) - 1e-4
    high = torch.maximum(a.norm(dim=1), b.norm(dim=1)) + 1e-4
    assert torch.all((norms >= low) & (norms <= high))


def test_mutation_is_seeded():
    a, b = latent(1), latent(2)
    one = cross([a, b], [1, 1], [1, 1], 7, 0.3, coarse_layers=2, std=STD)
    assert torch.equal(one, cross([a, b], [1, 1], [1, 1], 7, 0.3, coarse_layers=2, std=STD))
    assert not torch.equal(one, cross([a, b], [1, 1], [1, 1], 8, 0.3, coarse_layers=2, std=STD))


@pytest.mark.parametrize(
    "content,style,message",
    [
        ([1.0], [1.0, 1.0], "one content and one style weight per parent"),
        ([0.0, 0.0], [1.0, 1.0], "content weights must not all be zero"),
        ([1.0, -1.0], [1.0, 1.0], "content weights must be finite and not negative, got -1.0"),
        ([1.0, 1.0], [math.nan, 1.0], "style weights must be finite"),
    ],
)
def test_bad_weights_are_refused_by_name(content, style, message):
    with pytest.raises(ValueError, match=message):
        cross([latent(1), latent(2)], content, style, 0, coarse_layers=2, std=STD)


def test_parents_of_different_spaces_are_refused():
    with pytest.raises(ValueError, match="same space"):
        cross([latent(1), torch.zeros(3, DIM)], [1, 1], [1, 1], 0, coarse_layers=2, std=STD)


def angle(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The angle between rows of ``u`` and ``v`` in radians, in float64 and stable near 0
    (arccos of a dot product loses precision there)."""
    u = u.double() / u.double().norm(dim=-1, keepdim=True)
    v = v.double() / v.double().norm(dim=-1, keepdim=True)
    return 2 * torch.atan2((u - v).norm(dim=-1), (u + v).norm(dim=-1))


@given(seeds)
def test_interpolation_hits_both_ends(seed):
    a, b = latent(seed % 1000), latent(seed % 1000 + 7)
    assert torch.equal(interpolate(a, b, 0.0), a)
    assert torch.equal(interpolate(a, b, 1.0), b)
    assert torch.equal(interpolate(a, b, 0.0, gaussian=False), a)
    assert torch.allclose(interpolate(a, b, 1.0, gaussian=False), b)
    # Just inside the ends the general formula runs, not the early returns, and must agree.
    for gaussian in (True, False):
        assert torch.allclose(interpolate(a, b, 1e-6, gaussian), a, atol=1e-4)
        assert torch.allclose(interpolate(a, b, 1 - 1e-6, gaussian), b, atol=1e-4)


@given(seeds, st.floats(0.0, 1.0))
def test_slerp_walks_the_great_circle_from_a_to_b(seed, t):
    """Per layer: a fraction t of the angle from a, 1 - t of it from b, the norm in between."""
    a, b = latent(seed % 1000), latent(seed % 1000 + 3)
    mid = slerp(a, b, t)
    omega = angle(a, b)
    assert torch.allclose(angle(mid, a), t * omega, atol=1e-4)
    assert torch.allclose(angle(mid, b), (1 - t) * omega, atol=1e-4)
    expected_norm = (1 - t) * a.double().norm(dim=1) + t * b.double().norm(dim=1)
    assert torch.allclose(mid.double().norm(dim=1), expected_norm, rtol=1e-5)


@given(seeds)
def test_slerp_moves_steadily_away_from_a(seed):
    a, b = latent(seed % 1000), latent(seed % 1000 + 3)
    steps = torch.stack([angle(slerp(a, b, t), a) for t in torch.linspace(0, 1, 11).tolist()])
    assert torch.all(steps[1:] > steps[:-1]), "each layer's angle to a grows with t"


def test_interpolation_refuses_t_outside_0_1():
    with pytest.raises(ValueError, match="t must be between 0 and 1, got 1.5"):
        interpolate(latent(1), latent(2), 1.5)


def test_edit_adds_amounts_along_directions():
    p = latent(1)
    d = torch.zeros(LAYERS, DIM)
    d[0, 0] = 1.0
    moved = edit(p, [(d, 2.5)])
    assert moved[0, 0] == pytest.approx(p[0, 0] + 2.5)
    assert torch.equal(moved[1:], p[1:])
    assert torch.equal(edit(p, []), p)
    with pytest.raises(ValueError, match="finite"):
        edit(p, [(d, math.inf)])
