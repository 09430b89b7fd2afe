"""Where a space renders, and how far mixed precision moves its pixels: measured on a tiny
torch-module space built here (autocast works on the CPU too, in bfloat16)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from inference.device import OnDevice, pick_device, precision_difference


class TinySpace:
    """A one-layer latent drives a small coordinate network: a space whose weights move."""

    slug, layers, dim, version = "tiny", 1, 8, "test"

    def __init__(self) -> None:
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(10, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                                 nn.Linear(64, 3))
        self.moved_to: list[str] = []

    def to(self, device):
        self.moved_to.append(str(device))
        self.net.to(device)
        return self

    def sample(self, n: int, seed: int) -> torch.Tensor:
        return torch.randn(n, 1, 8, generator=torch.Generator().manual_seed(seed))

    def render(self, latents: torch.Tensor, size: int) -> torch.Tensor:
        n = latents.shape[0]
        axis = torch.linspace(-1, 1, size, device=latents.device)
        grid = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), dim=-1).reshape(1, -1, 2)
        inputs = torch.cat([latents[:, 0, None, :].expand(n, size * size, 8),
                            grid.expand(n, -1, -1) * 4], dim=2)
        colour = torch.sigmoid(self.net(inputs).float() * 4)
        return (colour * 255).round().to(torch.uint8).reshape(n, size, size, 3)


def test_auto_picks_a_gpu_when_there_is_one_and_a_missing_gpu_is_named():
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    assert pick_device("auto") == torch.device("cuda" if gpus else "cpu")
    seen = "no CUDA GPU" if gpus == 0 else f"{gpus} CUDA GPU"
    with pytest.raises(ValueError, match=f"device 'cuda:{gpus}' was asked for, but torch sees {seen}"):
        pick_device(f"cuda:{gpus}")  # one past the last there is


def test_mixed_precision_differences_are_measured_not_assumed():
    space = TinySpace()
    same = precision_difference(space, "cpu", "fp32", n=4, size=32)
    assert (same.mean_abs, same.max_abs, same.psnr_db, same.same_to_the_eye) == (0.0, 0, math.inf, True)
    mixed = precision_difference(space, "cpu", "bf16", n=4, size=32)
    assert mixed.max_abs >= 1 and mixed.mean_abs > 0  # bfloat16 keeps 8 bits of mantissa
    assert math.isfinite(mixed.psnr_db)
    assert mixed.same_to_the_eye == (mixed.mean_abs < 1.0 and mixed.psnr_db > 40.0)


def test_a_space_renders_where_it_was_placed_and_pictures_come_back_to_the_cpu():
    space = TinySpace()
    placed = OnDevice(space, torch.device("cpu"), "bf16")
    pictures = placed.render(space.sample(2, 1), 16)
    assert pictures.device.type == "cpu" and pictures.shape == (2, 16, 16, 3)
    assert placed.slug == "tiny" and placed.layers == 1  # the space's own attributes
    with pytest.raises(ValueError, match="precision must be one of fp32, fp16, bf16, got 'fp8'"):
        OnDevice(space, torch.device("cpu"), "fp8")
