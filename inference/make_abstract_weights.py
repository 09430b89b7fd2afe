"""Make ``weights/abstract.safetensors``, the fixed weights of the ``abstract`` space.

    python -m inference.make_abstract_weights

Everything comes from ``SEED``, so the file is reproducible. The aesthetic tuning lives in
``TUNING`` (stored in the file's metadata, so it is part of the space's version digest):
each value was chosen by looking at contact sheets and at the measures in
``bench/beauty.py`` (see docs/abstract-space.md).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from safetensors.torch import save_file

SEED = 20261126
DIM = 64
FOURIER = (10, 6, 0)  # features in the low, mid and high bands
BANDS = ((0.35, 1.2), (1.2, 3.5), (3.5, 9.0))  # cycles per unit of the transformed plane
HIDDEN = 63  # plus the constant channel that carries biases: 64-wide products

TUNING = {
    # composition
    "zoom_spread": 0.15,
    "rotation_spread": 0.4,
    "zoom_bias": 0.0,
    "stretch_spread": 0.35,
    "offset_spread": 0.15,
    "coord_gain": 1.5,
    # structure: band gains (log) and how much latents move them
    "band_bias": [0.0, -1.5, -6.0],
    "band_spread": 0.5,
    "detail_spread": 0.5,
    "fold_spread": 0.35,
    # per-layer modulation (log-scale of input channels) and bias shift
    "mod_strength": 0.18,
    "phase_spread": 0.2,
    "bias_strength": [0.35, 0.4, 0.4, 0.4],
    "omega": [1.2, 1.5, 1.5, 1.0],
    # colour
    "contrast": 1.3,
    "contrast_spread": 0.35,
    "shade": 0.45,
    "shade_bias": 0.0,
    "ripple": [0.3, -0.8],
    "ripple_freq": [2.0, 0.5],
    "hue_spread": [0.4, 1.6],
    "hue_jitter": 0.18,
    "light_low": [0.20, 0.25],
    "light_high": [0.70, 0.24],
    "chroma": [0.02, 0.10],
    "chroma_jitter": 0.3,
}


def make(seed: int = SEED) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    tensors: dict[str, torch.Tensor] = {}
    freqs, bands = [], []
    for band, (count, (low, high)) in enumerate(zip(FOURIER, BANDS, strict=True)):
        radius = torch.exp(torch.linspace(math.log(low), math.log(high), count))
        angle = torch.rand(count, generator=g) * 2 * math.pi
        freqs.append(torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)]))
        bands.append(torch.full((count,), band))
    tensors["fourier.freq"] = torch.cat(freqs, dim=1)
    tensors["fourier.band"] = torch.cat(bands).to(torch.int32)
    n_fourier = sum(FOURIER)
    tensors["phase.map"] = torch.randn(DIM, n_fourier, generator=g)
    sizes = [(3 + n_fourier, HIDDEN), (HIDDEN, HIDDEN), (HIDDEN, HIDDEN), (HIDDEN, 2)]
    for i, (fan_in, fan_out) in enumerate(sizes):
        tensors[f"layer{i}.weight"] = torch.randn(fan_in, fan_out, generator=g) / math.sqrt(fan_in)
        tensors[f"layer{i}.bias"] = torch.randn(fan_out, generator=g) * 0.5
        tensors[f"layer{i}.mod"] = torch.randn(DIM, fan_in, generator=g)
        tensors[f"layer{i}.bias_mod"] = torch.randn(DIM, fan_out, generator=g)
    # Layer 2 also reads layer 0's output.
    tensors["layer2.skip"] = torch.randn(HIDDEN, HIDDEN, generator=g) / math.sqrt(HIDDEN)
    tensors["layer2.skip_mod"] = torch.randn(DIM, HIDDEN, generator=g)
    return {name: t.contiguous() for name, t in tensors.items()}


def main(path: Path | None = None) -> Path:
    from inference.abstract import WEIGHTS

    path = path or WEIGHTS
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(make(), str(path), metadata={"tuning": json.dumps(TUNING, sort_keys=True), "seed": str(SEED)})
    return path


if __name__ == "__main__":
    out = main()
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")
