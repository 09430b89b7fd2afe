"""Pictures to bytes: WebP for the web (small, fast), PNG for downloads (lossless)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

FORMATS = {"webp": "WEBP", "png": "PNG"}
WEBP_QUALITY = 90


def to_pil(image) -> Image.Image:
    """A (size, size, 3) uint8 tensor or array as a PIL image."""
    array = image.numpy() if hasattr(image, "numpy") else np.asarray(image)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(
            f"image must be (height, width, 3) uint8, got {array.shape} {array.dtype}"
        )
    return Image.fromarray(array, "RGB")


def encode(image, fmt: str = "webp", quality: int = WEBP_QUALITY) -> bytes:
    """Encode one picture as ``webp`` or ``png``."""
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    buffer = io.BytesIO()
    if fmt == "webp":
        # Method 2 encodes a 256 px picture in ~2 ms against ~5 ms for the default 4, for
        # files about 2 % larger: pictures are encoded on the request path.
        to_pil(image).save(buffer, "WEBP", quality=quality, method=2)
    else:
        to_pil(image).save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


def format_for(path: str) -> str:
    """The format named by a file name's extension."""
    ext = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if ext not in FORMATS:
        raise ValueError(f"output must end in .webp or .png, got {path!r}")
    return ext
