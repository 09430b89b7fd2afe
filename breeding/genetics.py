"""Breeding math on latents: pure functions with an explicit seed (no Django here).

Latents are float32 tensors of shape (layers, dim). Every operation can be reproduced from
its inputs and its recorded seed.
"""

from __future__ import annotations

import torch


def children(parent: torch.Tensor, n: int, chaos: float, seed: int, std: torch.Tensor) -> torch.Tensor:
    """``n`` mutated copies of ``parent``: p + chaos * std * eps, eps ~ N(0, I).

    ``std`` is the space's per-dimension standard deviation (its ``stats.std``), so chaos
    means the same in every space: at chaos 1 a child is as far from its parent as a random
    draw's spread.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 0.0 <= chaos <= 10.0:
        raise ValueError(f"chaos must be between 0 and 10, got {chaos}")
    generator = torch.Generator().manual_seed(int(seed))
    noise = torch.randn((n, *parent.shape), generator=generator)
    return parent.unsqueeze(0) + chaos * std.unsqueeze(0) * noise
