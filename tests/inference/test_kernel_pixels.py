"""The fused kernels' pixels, pinned: what ``inference.fused.PIXELS`` names.

A space's version names its pixels (``fused.version``), so a change to ``fused.cpp`` that
alters any pixel must rename ``PIXELS``, and one that keeps every pixel must not (or every
stored picture would get a new address for nothing). Here the kernels paint inputs that
were prepared once and saved (``kernel_inputs.pt``: each picture's styles, probe
statistics and palettes, as the spaces prepare them), so the check covers the kernels'
own arithmetic and not torch's, on any machine. The digests are those of whole renders by
the kernels as they were when ``PIXELS`` was named.

After a change meant to alter pictures: rename ``PIXELS``, then record new inputs and
digests with ``python -m tests.inference.test_kernel_pixels``.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
import torch

from inference import abstract, figures, fused

INPUTS = Path(__file__).with_name("kernel_inputs.pt")
SIZES = (256, 300)  # no supersampling at these sizes; 300 × 300 ends inside a tile
PIXELS = "1b6de3e27b7d5ef0"
DIGESTS = {  # sha256 of each picture's bytes, first 16 hex digits
    ("abstract", 256): ["c2656ccba15e91f8", "18ab2496d0ca37be"],
    ("abstract", 300): ["f7934c801368f9d5", "b6a3da16a78102ee"],
    ("figures", 256): ["0555789f9e2fb670", "5b7593ed244352af"],
    ("figures", 300): ["53d0bf6a6d72d9a2", "383d7bbfdb8a0345"],
}


def paint(space, prepared, size: int) -> torch.Tensor:
    """(n, size * size, 3): the kernel's pixels of the prepared pictures."""
    out = torch.empty(len(prepared), size * size, 3, dtype=torch.uint8)
    for b, styles in enumerate(prepared):
        if isinstance(space, abstract.AbstractSpace):
            styles, norm = styles
            styles.norm = norm[None]
            kernel = space._kernel(styles, 0, styles.paint_args())
            space._paint_run(kernel, range(0, size * size, abstract.SPAN), size, None, out[b])
        else:
            space._kernel(styles, paint=True)(0, size * size, size, rgb=out[b])
    return out


def digests(out: torch.Tensor) -> list[str]:
    return [hashlib.sha256(picture.numpy().tobytes()).hexdigest()[:16] for picture in out]


@pytest.fixture(scope="module")
def inputs():
    return torch.load(INPUTS, weights_only=False)


@pytest.mark.parametrize(("slug", "size"), sorted(DIGESTS))
def test_the_kernels_paint_the_pixels_their_name_stands_for(inputs, slug, size):
    space = {"abstract": abstract.AbstractSpace, "figures": figures.FiguresSpace}[slug](kernels=True)
    assert fused.PIXELS == PIXELS, (
        "PIXELS was renamed: record the new pixels (python -m tests.inference.test_kernel_pixels)")
    got = digests(paint(space, inputs[slug], size))
    assert got == DIGESTS[(slug, size)], (
        f"the fused kernels paint other {slug} pixels at {size} px than PIXELS {PIXELS} stands for: "
        "if the change is meant to alter pictures, rename fused.PIXELS and record them again; "
        "if not, it changed the kernels' arithmetic")


def test_painting_prepared_pictures_is_what_a_render_does():
    """``paint`` drives the kernels as a render does, so the pins above stand for renders."""
    for cls in (abstract.AbstractSpace, figures.FiguresSpace):
        space = cls(kernels=True)
        latents = space.sample(2, 7)
        prepared = [space._prepare(latents[b : b + 1] if cls is abstract.AbstractSpace else latents[b])
                    for b in range(2)]
        assert torch.equal(space.render(latents, 300).reshape(2, -1, 3), paint(space, prepared, 300))


def record() -> None:
    torch.set_num_threads(2)
    saved, found = {}, {}
    for slug, cls in (("abstract", abstract.AbstractSpace), ("figures", figures.FiguresSpace)):
        space = cls(kernels=True)
        latents = space.sample(2, 2026)
        if slug == "abstract":
            saved[slug] = [space._prepare(latents[b : b + 1]) for b in range(2)]
        else:
            saved[slug] = [space._prepare(latents[b]) for b in range(2)]
        for size in SIZES:
            found[(slug, size)] = digests(space.render(latents, size).reshape(2, -1, 3))
    torch.save(saved, INPUTS)
    print(f"wrote {INPUTS.name}; PIXELS = {fused.PIXELS!r}; DIGESTS = {found!r}")


if __name__ == "__main__":
    record()
    sys.exit(0)
