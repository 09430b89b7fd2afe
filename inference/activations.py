"""The activations of the built-in spaces' networks: cheap periodic and saturating curves
for rendering, in place, and the same curves with a one-tensor backward for projection."""

from __future__ import annotations

import torch


def psin(x: torch.Tensor, scratch: torch.Tensor | None = None) -> torch.Tensor:
    """In place, a smooth periodic wave close to sin(2 pi x) / 8, with x counted in periods.

    After wrapping x to t in [-1/2, 1/2], t - 2 t |t| is the parabolic approximation of
    sin(2 pi t) / 8 (within 1 % of the peak). torch's sin costs about twenty times a
    multiply on this kind of CPU; these four passes keep the look and leave the time to the
    matrix products. The factor 8 goes into the next layer's weights (``PSIN_GAIN``).
    ``scratch`` (same shape) avoids allocating, which costs page faults at these sizes.
    """
    scratch = torch.empty_like(x) if scratch is None else scratch
    torch.round(x, out=scratch)
    x.sub_(scratch)
    torch.abs(x, out=scratch)
    return x.addcmul_(x, scratch, value=-2.0)


PSIN_GAIN = 8.0  # psin returns sin(2 pi x) / 8; the 8 goes into the next layer's weights


def soft_clamp(x: torch.Tensor, scratch: torch.Tensor | None = None) -> torch.Tensor:
    """In place, a smooth saturating curve: x - x^3 / 3 on x clamped to [-1, 1]."""
    scratch = torch.empty_like(x) if scratch is None else scratch
    x.clamp_(-1.0, 1.0)
    torch.mul(x, x, out=scratch)
    return x.addcmul_(x, scratch, value=-1.0 / 3.0)


class Psin(torch.autograd.Function):
    """psin with a one-tensor backward: d/dx (t - 2t|t|) = 1 - 4|t| (round is flat)."""

    @staticmethod
    def forward(ctx, x):
        t = x - torch.round(x)
        a = t.abs()
        ctx.save_for_backward(a)
        return t - 2.0 * t * a

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * (1.0 - 4.0 * a)


class SoftClamp(torch.autograd.Function):
    """soft_clamp with a one-tensor backward: 1 - x² inside [-1, 1], 0 outside."""

    @staticmethod
    def forward(ctx, x):
        c = x.clamp(-1.0, 1.0)
        ctx.save_for_backward(c)
        return c - c * c * c / 3.0

    @staticmethod
    def backward(ctx, grad):
        (c,) = ctx.saved_tensors
        return grad * (1.0 - c * c)
