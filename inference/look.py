"""A picture's look, as a vector: what "looks alike" means in Mendel, and a short vector
that finds it.

**The distance.** Two pictures look alike when, seen as gallery tiles, they have the same
colours in the same places and the same kind of surface (calm or busy, stripes running the
same way). ``distance`` measures that on 64 px renders:

- *colour layout*: both pictures in OKLab (Ottosson 2020: Euclidean distance there is a
  perceptual colour difference, ΔE), blurred by a Gaussian of ``COLOUR_SIGMA`` px. A tile is
  seen whole; where exactly a marble's veins run is not seen, but where its red half is, is.
  Without the blur, two pictures with the same veins shifted by two pixels would be further
  apart than a red picture and a blue one.
- *surface*: the blur erases fine structure, so the local contrast of lightness is measured
  apart, per orientation (horizontal and vertical differences), as an RMS over a Gaussian
  window of ``SURFACE_SIGMA`` px: busy against calm, stripes against rings.

``distance`` is the root mean square over pixels of the differences of these five maps
(three colour, two surface; surface weighted by ``SURFACE_WEIGHT``). It is the ground truth
of ``bench/lookalike.py``; its sheets (docs/img/lookalike-*.png) show what it finds.

**The vector.** ``embed`` keeps the lowest spatial frequencies of the same five maps: each
map's orthonormal 2-D DCT (type II), coefficients with ``u + v < K`` (``K`` per map kind),
scaled so that the vector's Euclidean distance *is* ``distance`` less the energy of the
frequencies left out. The blur has already taken most of that energy away, so the short
vector orders neighbours nearly as the full maps do (``bench/lookalike.py`` measures how
nearly). The basis is fixed (no fitting): every space, and an uploaded photograph, get
comparable vectors, and a vector never goes stale when a space grows.

Pure torch, no Django; runs on the CPU in a few milliseconds per picture.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import torch
import torch.nn.functional as F

from inference.color import srgb_to_oklab

#: The size pictures are measured at.
SIZE = 64
COLOUR_SIGMA = 2.0
SURFACE_SIGMA = 4.0
SURFACE_WEIGHT = 1.0
#: Frequencies kept per map: u + v < K.
COLOUR_K = 12
SURFACE_K = 6


def _kept(k: int) -> int:
    return k * (k + 1) // 2


#: The vector's length: 3 colour maps and 2 surface maps.
DIMS = 3 * _kept(COLOUR_K) + 2 * _kept(SURFACE_K)


@cache
def _gaussian(sigma: float) -> torch.Tensor:
    radius = max(1, math.ceil(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    return kernel / kernel.sum()


def _blur(maps: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (n, c, h, w), edges reflected."""
    kernel = _gaussian(sigma)
    c, pad = maps.shape[1], kernel.numel() // 2
    out = F.conv2d(F.pad(maps, (pad, pad, 0, 0), mode="reflect"),
                   kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(F.pad(out, (0, 0, pad, pad), mode="reflect"),
                    kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def _as_pictures(pictures) -> torch.Tensor:
    """uint8 (n, h, w, 3) or (h, w, 3), numpy or torch, any size -> float (n, 3, 64, 64) in
    [0, 1], resized with area averaging (a faithful small version)."""
    x = pictures if isinstance(pictures, torch.Tensor) else torch.from_numpy(np.array(pictures))
    if x.ndim == 3:
        x = x[None]
    x = x[..., :3].permute(0, 3, 1, 2).float() / 255.0
    if x.shape[-2:] != (SIZE, SIZE):
        x = F.interpolate(x, size=(SIZE, SIZE), mode="area" if x.shape[-1] >= SIZE else "bicubic",
                          antialias=False).clamp(0, 1)
    return x


def maps(pictures) -> torch.Tensor:
    """The five maps ``distance`` compares, (n, 5, 64, 64): OKLab L, a, b blurred, then the
    local RMS contrast of lightness across columns and across rows (weighted)."""
    rgb = _as_pictures(pictures)
    with torch.no_grad():
        lab = srgb_to_oklab(rgb.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        colour = _blur(lab, COLOUR_SIGMA)
        light = lab[:, :1]
        across = F.pad(light[..., :, 1:] - light[..., :, :-1], (0, 1, 0, 0), mode="replicate")
        down = F.pad(light[..., 1:, :] - light[..., :-1, :], (0, 0, 0, 1), mode="replicate")
        energy = _blur(torch.cat([across, down], 1) ** 2, SURFACE_SIGMA)
        surface = SURFACE_WEIGHT * energy.clamp_min(0).sqrt()
    return torch.cat([colour, surface], 1)


def distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The perceptual distance between maps ``a`` (n, 5, 64, 64) and ``b`` (m, 5, 64, 64)
    as an (n, m) matrix: RMS over pixels of the maps' differences."""
    a2, b2 = a.flatten(1).double(), b.flatten(1).double()
    squared = (a2 * a2).sum(1)[:, None] + (b2 * b2).sum(1)[None] - 2 * a2 @ b2.T
    return (squared.clamp_min(0) / (SIZE * SIZE)).sqrt().float()


@cache
def _dct_basis() -> torch.Tensor:
    """The orthonormal DCT-II matrix of size 64: row k is frequency k."""
    n = torch.arange(SIZE, dtype=torch.float64)
    k = n[:, None]
    basis = torch.cos(math.pi * (n[None] + 0.5) * k / SIZE) * math.sqrt(2 / SIZE)
    basis[0] /= math.sqrt(2)
    return basis.float()


@cache
def _low(k: int) -> torch.Tensor:
    u, v = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")
    return ((u + v) < k).flatten()


def embed_maps(m: torch.Tensor) -> torch.Tensor:
    """``maps`` -> vectors (n, DIMS) whose Euclidean distances approach ``distance`` from
    below."""
    basis = _dct_basis()
    with torch.no_grad():
        coefficients = (basis @ m @ basis.T).flatten(2) / SIZE  # RMS over pixels: / sqrt(64*64)
        colour = coefficients[:, :3][:, :, _low(COLOUR_K)].flatten(1)
        surface = coefficients[:, 3:][:, :, _low(SURFACE_K)].flatten(1)
    return torch.cat([colour, surface], 1)


def embed(pictures) -> np.ndarray:
    """Pictures (uint8 RGB, any size, one or many) -> look vectors, float32 (n, DIMS)."""
    return embed_maps(maps(pictures)).numpy().astype(np.float32)
