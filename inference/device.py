"""Where a space renders: the CPU, or a CUDA GPU, optionally in mixed precision.

Mendel never needs a GPU. The inference service picks CUDA when it is present (``auto``)
and the CPU otherwise; one service process drives one GPU (``--device cuda:1``, or
``CUDA_VISIBLE_DEVICES``). A space that can move its weights (a ``to(device)`` method, as a
torch module has) renders on the device; one that cannot (the built-in ``abstract`` space
computes on the CPU in its own threads) keeps rendering on the CPU, and the service says so.

Mixed precision (``fp16`` or ``bf16``) runs the space's matrix products under
``torch.autocast``. It is only worth having where the pictures stay the same to the eye:
``precision_difference`` renders the same latents both ways and measures how far apart
the pixels are, so the choice is made on figures, per space and device.
"""

from __future__ import annotations

import logging
import math
from contextlib import nullcontext
from dataclasses import dataclass

import torch

from inference.space import Space

log = logging.getLogger(__name__)

PRECISIONS = {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}
#: A mean absolute difference under one level in 255 and a PSNR above 40 dB are not seen
#: side by side at normal viewing; larger ones can be (banding in smooth gradients).
SAME_TO_THE_EYE_MEAN = 1.0
SAME_TO_THE_EYE_PSNR_DB = 40.0


def pick_device(requested: str = "auto") -> torch.device:
    """``auto``: the first CUDA GPU when there is one, else the CPU; or the device named."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except RuntimeError:
        raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {requested!r}") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if (device.index or 0) >= count:
            seen = "no CUDA GPU" if count == 0 else f"{count} CUDA GPU{'s' if count > 1 else ''}"
            raise ValueError(f"device {requested!r} was asked for, but torch sees {seen} here")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {requested!r}")
    return device


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return precision


def autocast(device: torch.device, precision: str):
    """The autocast context for ``precision`` on ``device`` (nothing for fp32)."""
    dtype = PRECISIONS[check_precision(precision)]
    if dtype is None:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


class OnDevice:
    """A space rendering on ``device`` in ``precision``: what the service's batchers call.

    Latents go to the device and pictures come back to the CPU; the space's other
    attributes (slug, shape, version...) are the space's own.
    """

    def __init__(self, space: Space, device: torch.device, precision: str = "fp32") -> None:
        self.space = space
        self.precision = check_precision(precision)
        self.device = device
        if device.type != "cpu":
            if callable(getattr(space, "to", None)):
                space.to(device)
            else:
                log.warning("the %s space cannot move to %s: it renders on the CPU", space.slug, device)
                self.device = torch.device("cpu")

    def __getattr__(self, name):
        return getattr(self.space, name)

    def render(self, latents: torch.Tensor, size: int) -> torch.Tensor:
        with torch.no_grad(), autocast(self.device, self.precision):
            return self.space.render(latents.to(self.device), size).cpu()

    def render_view(self, latents: torch.Tensor, size: int, zoom: float, centre) -> torch.Tensor:
        with torch.no_grad(), autocast(self.device, self.precision):
            return self.space.render_view(latents.to(self.device), size, zoom, centre).cpu()


@dataclass(frozen=True)
class PrecisionDifference:
    """How far pictures rendered in mixed precision are from the float32 ones."""

    space: str
    device: str
    precision: str
    pictures: int
    size: int
    mean_abs: float  # mean absolute difference per channel, 0-255
    max_abs: int
    psnr_db: float  # inf when identical
    same_to_the_eye: bool


def precision_difference(
    space: Space, device: str | torch.device = "auto", precision: str = "fp16",
    n: int = 16, size: int = 256, seed: int = 0,
) -> PrecisionDifference:
    """Render ``n`` samples at ``size`` px in float32 and in ``precision`` on ``device`` and
    compare the pixels. Run it on the GPU a deployment uses before turning mixed precision
    on: ``python -m inference precision abstract --device cuda --precision fp16``."""
    device = pick_device(device) if isinstance(device, str) else device
    latents = space.sample(n, seed)
    exact = OnDevice(space, device, "fp32").render(latents, size).to(torch.int16)
    mixed = OnDevice(space, device, precision).render(latents, size).to(torch.int16)
    diff = (exact - mixed).abs().to(torch.float64)
    mse = float((diff**2).mean())
    psnr = math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)
    mean_abs = float(diff.mean())
    return PrecisionDifference(
        space=space.slug, device=str(device), precision=precision, pictures=n, size=size,
        mean_abs=round(mean_abs, 3), max_abs=int(diff.max()), psnr_db=round(psnr, 2),
        same_to_the_eye=mean_abs < SAME_TO_THE_EYE_MEAN and psnr > SAME_TO_THE_EYE_PSNR_DB,
    )
