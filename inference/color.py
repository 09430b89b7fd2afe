"""Colour conversions: OKLab (perceptual) to sRGB for palettes, and back for projection.

OKLab is Björn Ottosson's perceptual colour space ("A perceptual color space for image
processing", 2020); the matrices below are the ones published there. Interpolating palette
stops in OKLab gives even, soft gradients without the muddy or neon midpoints of sRGB.
"""

from __future__ import annotations

import torch

# OKLab -> non-linear LMS (l', m', s'), then cube, then LMS -> linear sRGB.
_LAB_TO_LMS = torch.tensor(
    [
        [1.0, 0.3963377774, 0.2158037573],
        [1.0, -0.1055613458, -0.0638541728],
        [1.0, -0.0894841775, -1.2914855480],
    ]
)
_LMS_TO_RGB = torch.tensor(
    [
        [4.0767416621, -3.3077115913, 0.2309699292],
        [-1.2684380046, 2.6097574011, -0.3413193965],
        [-0.0041960863, -0.7034186147, 1.7076147010],
    ]
)

_RGB_TO_LMS = torch.linalg.inv(_LMS_TO_RGB.double()).float()
_LMS_TO_LAB = torch.linalg.inv(_LAB_TO_LMS.double()).float()


def oklab_to_linear_srgb(lab: torch.Tensor) -> torch.Tensor:
    """(..., 3) OKLab -> (..., 3) linear sRGB (not clipped)."""
    lms = (lab @ _LAB_TO_LMS.T) ** 3
    return lms @ _LMS_TO_RGB.T


def srgb_to_oklab(rgb: torch.Tensor, *, floor: float = 1e-6) -> torch.Tensor:
    """(..., 3) gamma-encoded sRGB in [0, 1] -> (..., 3) OKLab, differentiable: the inverse
    of ``oklab_to_linear_srgb`` after the sRGB transfer (its matrices inverted, so the two
    agree to float precision). The cube root is taken of LMS + ``floor`` (minus the floor's
    own root), which keeps its gradient finite at black; lightness and chroma come out low
    by at most 0.01 (the floor's cube root)."""
    rgb = rgb.clamp(0.0, 1.0)
    linear = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    lms = (linear @ _RGB_TO_LMS.T.to(rgb.dtype)).clamp_min(0.0)
    root = (lms + floor) ** (1 / 3) - floor ** (1 / 3)
    return root @ _LMS_TO_LAB.T.to(rgb.dtype)


def linear_to_srgb(rgb: torch.Tensor) -> torch.Tensor:
    """The sRGB transfer function (IEC 61966-2-1), on values clipped to [0, 1]."""
    rgb = rgb.clamp(0.0, 1.0)
    return torch.where(rgb <= 0.0031308, 12.92 * rgb, 1.055 * rgb.pow(1 / 2.4) - 0.055)


def oklch_to_srgb(lightness: torch.Tensor, chroma: torch.Tensor, hue: torch.Tensor) -> torch.Tensor:
    """OKLCh (hue in radians) -> gamma-encoded sRGB in [0, 1], shape (..., 3).

    Out-of-gamut colours are brought in by lowering chroma (hue and lightness kept), which
    looks far better than clipping each channel.
    """
    scale = torch.ones_like(chroma)
    for _ in range(12):  # bisection-free shrink: a few multiplicative steps suffice for palettes
        lab = torch.stack(
            [lightness, chroma * scale * torch.cos(hue), chroma * scale * torch.sin(hue)], dim=-1
        )
        rgb = oklab_to_linear_srgb(lab)
        outside = ((rgb < -1e-4) | (rgb > 1 + 1e-4)).any(dim=-1)
        if not outside.any():
            break
        scale = torch.where(outside, scale * 0.85, scale)
    return linear_to_srgb(rgb)
