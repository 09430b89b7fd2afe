"""Projection: find a latent whose picture looks like a given one.

``project(space, target)`` searches the latent space of a space that can render
differentiably (``can_project(space)``; today the built-in ``abstract`` space) for the
picture closest to ``target``:

1. **Start**: ``START_SAMPLES`` draws from the prior are rendered at 16 px and scored
   against the target (pixels and colour statistics); the best ``CANDIDATES`` go on.
2. **Descent**: Adam (Kingma and Ba 2015, "Adam: a method for stochastic optimization")
   on the latents of all candidates at once, coarse to fine (``STAGES``: 32, 64 then
   128 px; fewer candidates at each, the worse ones dropped). The loss
   (``picture_loss``) is a sum of squared pixel errors at several scales, of edge
   (finite-difference gradient) errors, of colour statistics and of OKLab hue and chroma
   (without which dark pictures come back green: see ``picture_loss``), plus a weak prior term
   keeping each latent layer's length near sqrt(dim), where N(0, I) draws lie, so the
   result stays breedable.
3. **Result**: the candidate whose ``space.render`` is closest to the target in PSNR.

It runs on the CPU with the torch threads the caller set. For a given seed, thread count
and ``steps`` it is deterministic; with ``budget_s`` each stage stops when its share of
the time is spent, so the result depends on the machine's speed.

Progress and cancelling: ``on_step`` is called with a ``ProjectionStep`` after every
``START_CHUNK`` starting draws are scored (``step`` 0, the best draw so far as ``latent``)
and after every optimisation step (``step`` 1, 2, ...): about every 0.05–0.3 s at 128 px
on two cores. Whatever it raises propagates out of ``project`` unchanged, which is how a
caller stops a projection (raise your own exception and catch it around the call).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from inference.color import srgb_to_oklab

START_SAMPLES = 384  # prior draws scored at the start
START_SIZE = 16  # side of the pictures they are scored at
START_CHUNK = 64  # draws scored between two progress reports
CANDIDATES = 8  # how many of them are optimised
#: (side in px, candidates kept, share of the steps): coarse to fine.
STAGES = ((32, 8, 0.45), (64, 3, 0.3), (128, 1, 0.25))
STEPS = 300  # optimisation steps in all, when neither steps nor budget_s is given
LEARNING_RATE = (0.06, 0.03, 0.015)  # Adam step per stage, in latent units
PRIOR_WEIGHT = 2e-3
HUE_WEIGHT = 16.0  # of the squared OKLab (a, b) error: see picture_loss
STEP_S_GUESS = 0.04  # seconds per step at 128 px on two cores, for the ETA before any step


@dataclass(frozen=True)
class ProjectionStep:
    """Progress, passed to ``on_step`` after each optimisation step."""

    step: int  # 0 while the starting draws are scored, then 1, 2, ... per optimisation step
    steps: int  # the planned total (an estimate while the time budget decides)
    loss: float  # the best candidate's loss at this step
    latent: torch.Tensor  # (layers, dim) the best candidate now, a detached copy
    elapsed_s: float
    eta_s: float  # estimated seconds left (a rough guess until the first steps are timed)


@dataclass(frozen=True)
class ProjectionResult:
    latent: torch.Tensor  # (layers, dim) float32
    loss: float  # that latent's last loss at ``size`` (picture terms plus the prior term)
    psnr_db: float  # of space.render(latent, size) against the target at ``size``
    steps: int  # optimisation steps taken


def can_project(space: object) -> bool:
    """Whether ``space`` offers what projection needs (a differentiable ``render_float``,
    or a ``project`` of its own)."""
    return bool(getattr(space, "can_project", False)) and (
        callable(getattr(space, "render_float", None)) or callable(getattr(space, "project", None))
    )


def prepare_target(target: object, size: int) -> torch.Tensor:
    """A (H, W, 3) uint8 picture (tensor or array) -> (size, size, 3) float32 in [0, 1]:
    the centred square crop, resized with antialiasing."""
    if isinstance(target, np.ndarray):
        if target.dtype != np.uint8:
            raise ValueError(f"the target picture must be uint8, got dtype {target.dtype}")
        target = torch.from_numpy(np.ascontiguousarray(target))
    if not isinstance(target, torch.Tensor):
        raise ValueError(
            f"the target picture must be a torch.Tensor or numpy array, got {type(target).__name__}"
        )
    if target.dtype != torch.uint8:
        raise ValueError(f"the target picture must be uint8, got dtype {target.dtype}")
    if target.dim() != 3 or target.shape[2] != 3:
        raise ValueError(
            f"the target picture must have shape (height, width, 3) for RGB, got {tuple(target.shape)}"
        )
    height, width = target.shape[:2]
    if height == 0 or width == 0:
        raise ValueError(f"the target picture is empty: {height} x {width} pixels")
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = target[top : top + side, left : left + side].permute(2, 0, 1)[None].float() / 255.0
    if side != size:
        square = F.interpolate(
            square, size=(size, size), mode="bilinear", antialias=True, align_corners=False
        )
    return square[0].permute(1, 2, 0).clamp(0.0, 1.0).contiguous()


def _shrink(picture: torch.Tensor, size: int) -> torch.Tensor:
    """(size0, size0, 3) -> (1, 3, size, size), antialiased."""
    nchw = picture.permute(2, 0, 1)[None]
    if nchw.shape[-1] == size:
        return nchw
    return F.interpolate(nchw, size=(size, size), mode="bilinear", antialias=True)


def picture_loss(render: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per candidate loss of (n, 3, s, s) renders against a (1, 3, s, s) target, in [0, 1]:
    mean squared error at full, half and quarter scale, mean absolute error of the
    horizontal and vertical differences (edges), the squared differences of each
    channel's mean and standard deviation, and ``HUE_WEIGHT`` times the squared error of
    each pixel's OKLab colour (a, b; lightness left to the sRGB terms).

    The colour term is what keeps dark pictures from coming back green. The space cannot
    paint a dark picture: each field is normalised over the picture, so its pixels spread
    over the whole palette, whose stops are never darker than OKLab lightness 0.2 at the
    low end and 0.7 at the high end. For a given OKLab lightness a green has the least
    sRGB energy (at 0.2, a chroma 0.12 green (1, 28, 8) costs 0.6 of the squared sRGB of
    the grey (22, 22, 22)), so sRGB errors alone are least for the greenest palette. In
    OKLab a colourful answer to a colourless picture costs its chroma, whatever the hue."""
    loss = render.new_zeros(render.shape[0])
    r, t = render, target
    for weight in (1.0, 0.5, 0.5):
        loss = loss + weight * ((r - t) ** 2).mean(dim=(1, 2, 3))
        if r.shape[-1] <= 8:
            break
        r, t = F.avg_pool2d(r, 2), F.avg_pool2d(t, 2)
    for dim in (2, 3):
        dr, dt = torch.diff(render, dim=dim), torch.diff(target, dim=dim)
        loss = loss + 0.1 * (dr - dt).abs().mean(dim=(1, 2, 3))
    mean_r, mean_t = render.mean(dim=(2, 3)), target.mean(dim=(2, 3))
    std_r, std_t = render.std(dim=(2, 3)), target.std(dim=(2, 3))
    loss = loss + 0.5 * ((mean_r - mean_t) ** 2 + (std_r - std_t) ** 2).mean(dim=1)
    ab_r = srgb_to_oklab(render.permute(0, 2, 3, 1))[..., 1:]
    ab_t = srgb_to_oklab(target.permute(0, 2, 3, 1))[..., 1:]
    loss = loss + HUE_WEIGHT * ((ab_r - ab_t) ** 2).mean(dim=(1, 2, 3))
    return loss


def prior_loss(latents: torch.Tensor) -> torch.Tensor:
    """Per candidate: mean over layers of (|z_l| / sqrt(dim) - 1)², zero where N(0, I) draws
    concentrate (their length is sqrt(dim) within about 1/sqrt(2 dim))."""
    length = torch.linalg.vector_norm(latents, dim=2) / math.sqrt(latents.shape[2])
    return ((length - 1.0) ** 2).mean(dim=1)


def psnr_db(a: torch.Tensor, b: torch.Tensor) -> float:
    """Peak signal-to-noise ratio of two uint8 (or 0–255 float) pictures, in dB."""
    mse = float(((a.double() - b.double()) ** 2).mean())
    return 10.0 * math.log10(255.0**2 / max(mse, 1e-10))


def project(
    space,
    target,
    *,
    size: int = 128,
    seed: int = 0,
    on_step: Callable[[ProjectionStep], object] | None = None,
    budget_s: float | None = None,
    steps: int | None = None,
) -> ProjectionResult:
    """The latent of ``space`` whose picture best matches ``target`` (see the module's
    docstring for the method).

    ``target`` is a (height, width, 3) uint8 RGB picture, any aspect (the centred square is
    used), ``size`` the side the match is made and measured at. ``steps`` fixes the number
    of optimisation steps (default ``STEPS``); ``budget_s`` instead gives the seconds to
    spend (about; the start and the final check come on top). ``on_step`` is called after
    each step; an exception it raises stops the projection and propagates.
    """
    from inference.space import check_size

    if not can_project(space):
        raise ValueError(f"the space {getattr(space, 'slug', space)!r} cannot project pictures")
    size = check_size(size)
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise ValueError(f"steps must be a positive whole number, got {steps!r}")
    if budget_s is not None and not (isinstance(budget_s, int | float) and budget_s > 0):
        raise ValueError(f"budget_s must be a positive number of seconds, got {budget_s!r}")
    if steps is not None and budget_s is not None:
        raise ValueError("give steps or budget_s, not both")
    own = getattr(space, "project", None)
    if callable(own):  # a space that knows its own latent best (StyleGAN: W, then W+)
        return own(target, size=size, seed=seed, on_step=on_step, budget_s=budget_s, steps=steps)
    goal = prepare_target(target, size)
    started = time.perf_counter()
    total_steps = steps if steps is not None else STEPS

    # 1. Start: the best prior draws at a small size.
    generator = torch.Generator().manual_seed(int(seed))
    draws = torch.randn(START_SAMPLES, space.layers, space.dim, generator=generator)
    small = _shrink(goal, START_SIZE)
    parts = []
    for chunk in draws.split(START_CHUNK):
        with torch.no_grad():
            render = space.render_float(chunk, START_SIZE, probe=16).permute(0, 3, 1, 2)
            parts.append(picture_loss(render, small))
        if on_step is not None:  # step 0: still scoring the starting draws
            scored = torch.cat(parts)
            leader = int(torch.argmin(scored))
            elapsed = time.perf_counter() - started
            on_step(
                ProjectionStep(
                    step=0,
                    steps=total_steps,
                    loss=float(scored[leader]),
                    latent=draws[leader].clone(),
                    elapsed_s=elapsed,
                    eta_s=max(0.0, budget_s - elapsed) if budget_s is not None
                    else elapsed / len(scored) * (len(draws) - len(scored))
                    + STEP_S_GUESS * total_steps,
                )
            )
    scores = torch.cat(parts)
    order = torch.argsort(scores, stable=True)
    latents = draws[order[:CANDIDATES]].clone()

    # 2. Descent, coarse to fine.
    stages = [(min(side, size), keep, share) for side, keep, share in STAGES if side <= size]
    if not stages or stages[-1][0] != size:
        stages.append((size, 1, 0.25))
    shares = torch.tensor([share for _, _, share in stages])
    shares = shares / shares.sum()
    # Steps per stage, summing to exactly total_steps (a stage may get none when few).
    bounds = [0] + [round(float(c) * total_steps) for c in torch.cumsum(shares, 0)]
    plan = [b - a for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    step = 0
    best_loss = float("inf")
    losses = scores[order[:CANDIDATES]]
    for index, (side, keep, _) in enumerate(stages):
        if budget_s is None and plan[index] == 0:
            continue
        keep = min(keep, latents.shape[0])
        latents = latents[torch.argsort(losses, stable=True)[:keep]].clone().requires_grad_()
        optimiser = torch.optim.Adam([latents], lr=LEARNING_RATE[min(index, 2)])
        goal_side = _shrink(goal, side)
        probe = 32 if side < size else 64
        stage_started = time.perf_counter()
        stage_budget = None if budget_s is None else float(shares[index]) * budget_s
        best = latents.detach().clone()
        best_losses = torch.full((keep,), float("inf"))
        done = 0
        while True:
            if stage_budget is None and done >= plan[index]:
                break
            if (
                stage_budget is not None
                and done > 0  # every stage takes at least one step
                and time.perf_counter() - stage_started >= stage_budget
            ):
                break
            optimiser.zero_grad(set_to_none=True)
            render = space.render_float(latents, side, probe=probe).permute(0, 3, 1, 2)
            losses = picture_loss(render, goal_side)
            total = losses + PRIOR_WEIGHT * prior_loss(latents)
            total.sum().backward()
            with torch.no_grad():
                better = total.detach() < best_losses
                best[better] = latents.detach()[better]
                best_losses = torch.where(better, total.detach(), best_losses)
            optimiser.step()
            done += 1
            step += 1
            if on_step is not None:
                elapsed = time.perf_counter() - started
                if budget_s is not None:
                    planned = step + max(0, round((budget_s - elapsed) * step / max(elapsed, 1e-9)))
                    eta = max(0.0, budget_s - elapsed)
                else:
                    planned = total_steps
                    eta = elapsed / step * max(0, planned - step)
                leader = int(torch.argmin(best_losses))
                best_loss = float(best_losses[leader])
                on_step(
                    ProjectionStep(
                        step=step,
                        steps=max(planned, step),
                        loss=best_loss,
                        latent=best[leader].clone(),
                        elapsed_s=elapsed,
                        eta_s=eta,
                    )
                )
        latents, losses = best, best_losses

    # 3. The candidate whose real render is closest.
    goal_u8 = (goal * 255.0).round().to(torch.uint8)
    renders = space.render(latents, size)
    psnrs = [psnr_db(r, goal_u8) for r in renders]
    winner = int(np.argmax(psnrs))
    return ProjectionResult(
        latent=latents[winner].detach().clone(),
        loss=float(losses[winner]),
        psnr_db=psnrs[winner],
        steps=step,
    )
