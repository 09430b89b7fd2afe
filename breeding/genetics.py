"""Breeding math on latents: pure functions with an explicit seed (no Django here).

Latents are float32 tensors of shape (layers, dim). Every operation can be reproduced from
its inputs and its recorded seed. Where a space's prior is Gaussian, mixing uses spherical
interpolation: a straight average of two N(0, I) draws has a smaller norm than either and
lands in a low-density, washed-out region; slerp stays on the shell where samples live
(Shoemake 1985; White, "Sampling Generative Networks", 2016).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from inference.space import slerp

MAX_CHAOS = 10.0


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


def children(parent: torch.Tensor, n: int, chaos: float, seed: int, std: torch.Tensor) -> torch.Tensor:
    """``n`` mutated copies of ``parent``: p + chaos * std * eps, eps ~ N(0, I).

    ``std`` is the space's per-dimension standard deviation (its ``stats.std``), so chaos
    means the same in every space: at chaos 1 a child is as far from its parent as a random
    draw's spread.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not (0.0 <= chaos <= MAX_CHAOS):
        raise ValueError(f"chaos must be between 0 and {MAX_CHAOS}, got {chaos}")
    noise = torch.randn((n, *parent.shape), generator=_generator(seed))
    return parent.unsqueeze(0) + chaos * std.unsqueeze(0) * noise




def interpolate(a: torch.Tensor, b: torch.Tensor, t: float, gaussian: bool = True) -> torch.Tensor:
    """The latent a fraction ``t`` of the way from ``a`` to ``b`` (per layer), for morphs."""
    if not (0.0 <= t <= 1.0) or math.isnan(t):
        raise ValueError(f"t must be between 0 and 1, got {t}")
    if a.shape != b.shape:
        raise ValueError(f"latents must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    return slerp(a, b, t) if gaussian else torch.lerp(a, b, t)


def _mix(latents: Sequence[torch.Tensor], weights: Sequence[float], gaussian: bool) -> torch.Tensor:
    """Weighted mix of same-shape latents, folding in one parent at a time.

    Folding keeps slerp's exactness: a parent with all the weight is returned unchanged,
    parents with no weight change nothing.
    """
    result, total = latents[0].clone(), float(weights[0])
    for latent, weight in zip(latents[1:], weights[1:], strict=True):
        if weight == 0:
            continue
        t = weight / (total + weight)
        result = slerp(result, latent, t) if gaussian else torch.lerp(result, latent, t)
        total += weight
    return result


def cross(
    parents: Sequence[torch.Tensor],
    content_weights: Sequence[float],
    style_weights: Sequence[float],
    seed: int,
    mutation: float = 0.0,
    *,
    coarse_layers: int,
    std: torch.Tensor,
    gaussian: bool = True,
) -> torch.Tensor:
    """A child of several parents, per layer: content weights decide the coarse layers
    [0, coarse_layers), style weights the rest (Artbreeder's two sliders per parent).

    Each layer is a weighted spherical mix of the parents' layers (see ``_mix``); then an
    optional mutation of strength ``mutation`` as in ``children``.
    """
    k = len(parents)
    if k < 1:
        raise ValueError("a cross needs at least one parent")
    if len(content_weights) != k or len(style_weights) != k:
        raise ValueError(
            f"need one content and one style weight per parent ({k}), "
            f"got {len(content_weights)} and {len(style_weights)}"
        )
    for name, weights in (("content", content_weights), ("style", style_weights)):
        for w in weights:
            if not math.isfinite(w) or w < 0:
                raise ValueError(f"{name} weights must be finite and not negative, got {w}")
        if sum(weights) <= 0:
            raise ValueError(f"{name} weights must not all be zero")
    shape = parents[0].shape
    if any(p.shape != shape for p in parents):
        raise ValueError("all parents must come from the same space (same latent shape)")
    if not 0 <= coarse_layers <= shape[0]:
        raise ValueError(f"coarse_layers must be between 0 and {shape[0]}, got {coarse_layers}")
    layers = []
    for layer in range(shape[0]):
        weights = content_weights if layer < coarse_layers else style_weights
        layers.append(_mix([p[layer] for p in parents], weights, gaussian))
    child = torch.stack(layers)
    if mutation:
        child = children(child, 1, mutation, seed, std)[0]
    return child


def edit(latent: torch.Tensor, moves: Sequence[tuple[torch.Tensor, float]]) -> torch.Tensor:
    """p + sum of amount * direction over the genes moved."""
    result = latent.clone()
    for direction, amount in moves:
        if not math.isfinite(amount):
            raise ValueError(f"gene amounts must be finite, got {amount}")
        if direction.shape != latent.shape:
            raise ValueError(
                f"a gene's direction must have the latent's shape {tuple(latent.shape)}, "
                f"got {tuple(direction.shape)}"
            )
        result += amount * direction
    return result


def mix_groups(
    parents: Sequence[torch.Tensor],
    weights: dict[str, Sequence[float]],
    groups: dict[str, tuple[int, int]],
    gaussian: bool = True,
) -> torch.Tensor:
    """A child whose rows in each named group of layers (a space's ``groups``, e.g. coarse,
    middle and fine) are the weighted mix of the parents' rows with that group's weights.
    Rows in no group mix with equal weights."""
    k = len(parents)
    if k < 1:
        raise ValueError("a cross needs at least one parent")
    shape = parents[0].shape
    if any(p.shape != shape for p in parents):
        raise ValueError("all parents must come from the same space (same latent shape)")
    unknown = sorted(set(weights) - set(groups))
    if unknown:
        raise ValueError(f"unknown layer group {unknown[0]!r} (groups: {', '.join(groups)})")
    row_weights: list[Sequence[float]] = [[1.0] * k for _ in range(shape[0])]
    for name, ws in weights.items():
        if len(ws) != k:
            raise ValueError(f"need one {name} weight per parent ({k}), got {len(ws)}")
        if any(not math.isfinite(w) or w < 0 for w in ws) or sum(ws) <= 0:
            raise ValueError(f"{name} weights must be finite, not negative and not all zero")
        start, end = groups[name]
        for row in range(start, end):
            row_weights[row] = ws
    return torch.stack([_mix([p[row] for p in parents], row_weights[row], gaussian)
                        for row in range(shape[0])])
