"""Make ``weights/figures.safetensors``, the fixed weights of the ``figures`` space.

    python -m inference.make_figures_weights

Everything comes from ``SEED``, so the file is reproducible. The aesthetic tuning lives in
``TUNING`` (stored in the file's metadata, so it is part of the space's version digest):
each value was chosen by looking at contact sheets and at the measures in
``bench/beauty.py`` (see docs/figures-space.md).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from safetensors.torch import save_file

SEED = 20261127
DIM = 64
WAVES = 10  # plane waves of the folded coordinates
BAND = (0.3, 2.2)  # their frequencies, cycles per unit of the folded plane
HIDDEN = 32
OUTPUTS = 3  # the figure's mask, its interior, the ground

TUNING = {
    # symmetry: logits of mirror, radial, none (plus latent), folds of radial figures
    "kind_bias": [1.0, 0.55, -0.3],
    "kind_blend": 5.0,  # sharpness of the softmax that blends the kinds near a boundary
    "folds": [3, 8],
    "folds_blend": 0.6,  # share of a fold bin over which two counts crossfade
    "asym_share": 0.3,  # about this share of symmetric pictures lean slightly off
    "asym": 0.22,
    # composition
    "zoom_bias": 0.15,
    "zoom_spread": 0.2,
    "rotation_spread": 0.2,
    "centre_spread": 0.12,
    "offset_spread": 0.18,
    "coord_gain": 1.2,
    # structure
    "wave_gain": [0.0, 0.2],  # log-gain of the waves: bias, spread
    "phase_spread": 0.12,
    "mod_strength": 0.1,
    "bias_strength": [0.14, 0.18, 0.18, 0.14],
    "omega": [1.0, 1.1, 1.1, 1.0],
    # the figure: a silhouette from the mask field
    "envelope": [1.4, 0.3],  # how strongly figures stay central: log-scale bias, spread
    "area": [0.22, 0.30],  # the figure's share of the picture: low, span
    "sharp": [2.3, 1.8],  # log-steepness of its edge: bias, spread
    "outline": [0.55, -0.6],  # outline strength: scale, sigmoid bias
    "outline_width": 5.0,
    "depth": 0.4,  # how much the interior colour follows the distance from the edge
    "shade": 0.35,
    "figure_contrast": 1.2,
    "ground_contrast": 0.55,
    "ground_tilt": 0.6,
    # colour: OKLCh palettes of the figure (three stops) and the ground (two)
    "figure_light": [[0.62, 0.30], [0.18, 0.22]],  # (low, span) on a dark ground, on a light one
    "ground_light": [[0.14, 0.14], [0.78, 0.16]],
    "figure_chroma": [0.03, 0.11],
    "ground_chroma": [0.01, 0.06],
    "hue_spread": [0.3, 1.8],
    "light_ground": [0.3, 30.0],  # share of light grounds, steepness of the step to them
}


def make(seed: int = SEED) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    tensors: dict[str, torch.Tensor] = {}
    radius = torch.exp(torch.linspace(math.log(BAND[0]), math.log(BAND[1]), WAVES))
    angle = torch.rand(WAVES, generator=g) * 2 * math.pi
    tensors["waves.freq"] = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)])
    tensors["phase.map"] = torch.randn(DIM, WAVES, generator=g)
    sizes = [(WAVES + 3, HIDDEN), (HIDDEN, HIDDEN), (2 * HIDDEN, HIDDEN), (HIDDEN, OUTPUTS)]
    for i, (fan_in, fan_out) in enumerate(sizes):
        tensors[f"layer{i}.weight"] = torch.randn(fan_in, fan_out, generator=g) / math.sqrt(fan_in)
        tensors[f"layer{i}.bias"] = torch.randn(fan_out, generator=g) * 0.5
        tensors[f"layer{i}.mod"] = torch.randn(DIM, fan_in, generator=g)
        tensors[f"layer{i}.bias_mod"] = torch.randn(DIM, fan_out, generator=g)
    return {name: t.contiguous() for name, t in tensors.items()}


def main(path: Path | None = None) -> Path:
    from inference.figures import WEIGHTS

    path = path or WEIGHTS
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(make(), str(path), metadata={"tuning": json.dumps(TUNING, sort_keys=True), "seed": str(SEED)})
    return path


if __name__ == "__main__":
    out = main()
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")
