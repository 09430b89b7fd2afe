"""The ``emoji`` space: a StyleGAN2-type generator trained by Mendel itself
(``inference.gan``) on Microsoft's Fluent Emoji in 3D (see docs/spaces.md for the data,
the licence, the exact command and the hardware).

It is a StyleGAN space like an added one (``inference.stylegan``): W+ latents, coarse,
middle and fine layer groups, genes from the closed-form factorisation of its style weights
(SeFa) and from the generic discovery, uploads projected by optimisation. Its weights ship
with the code (``inference/weights/emoji.safetensors``) and its version is their digest, so
new weights are a new version. It renders at its trained resolution (64 px) and larger
pictures are a bicubic upscale of that: a download above 64 px is upscaled, not more
detailed.
"""

from __future__ import annotations

from pathlib import Path

from inference.metrics import SUBJECT_ATTRIBUTES
from inference.stylegan import StyleGANSpace

WEIGHTS = Path(__file__).resolve().parent / "weights" / "emoji.safetensors"
#: Random pictures stay this close to the average (the truncation trick): lower is more
#: typical and less varied; the trained space's pictures fall apart near ψ = 1.
TRUNCATION = 0.7


def earlier_versions() -> dict[str, Path]:
    """The weights of the space's earlier versions, which works made in them still render
    in: ``weights/emoji-<version>.safetensors`` beside the present ones."""
    return {path.stem.removeprefix("emoji-"): path
            for path in sorted(WEIGHTS.parent.glob("emoji-*.safetensors"))}


class EmojiSpace(StyleGANSpace):
    #: Every picture is one subject on a white ground: its genes are measured and named by
    #: the subject's size, shape and place too (what shape and pose genes move).
    extra_attributes = SUBJECT_ATTRIBUTES
    earlier_versions = staticmethod(earlier_versions)

    def __init__(self, path: str | Path = WEIGHTS, **options) -> None:
        options.setdefault("slug", "emoji")
        options.setdefault("truncation", TRUNCATION)
        options.setdefault("needs_gpu", False)
        super().__init__(path, **options)
