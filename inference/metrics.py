"""Measurable statistics of pictures: what "looks good" and what genes move.

All functions take (size, size, 3) uint8 arrays (or tensors) in sRGB and return floats.
"""

from __future__ import annotations

import numpy as np

# Rec. 709 luma weights on gamma-encoded values, as in most image statistics.
LUMA = np.array([0.2126, 0.7152, 0.0722])


def _rgb(image) -> np.ndarray:
    array = image.numpy() if hasattr(image, "numpy") else np.asarray(image)
    return array.astype(np.float64)


def luma(image) -> np.ndarray:
    """Luma in [0, 1]."""
    return _rgb(image) @ LUMA / 255.0


def colourfulness(image) -> float:
    """Hasler and Süsstrunk's colourfulness M (2003, "Measuring colourfulness in natural
    images", eq. 3), on 0–255 sRGB: about 15 is slightly, 33 moderately, 59 quite and 82
    highly colourful; above 109 extremely."""
    rgb = _rgb(image)
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    spread = np.sqrt(rg.std() ** 2 + yb.std() ** 2)
    centre = np.sqrt(rg.mean() ** 2 + yb.mean() ** 2)
    return float(spread + 0.3 * centre)


def high_frequency_share(image, cutoff: float = 0.25) -> float:
    """Share of the luma's spectral energy (mean removed) above ``cutoff`` of the Nyquist
    frequency. Noise soup sits near 0.5 and above; a smooth gradient near 0. A Hann window
    keeps the picture's edges (a wrap-around jump to the FFT) from counting as detail."""
    y = luma(image)
    y = y - y.mean()
    y = y * np.outer(np.hanning(y.shape[0]), np.hanning(y.shape[1]))
    power = np.abs(np.fft.rfft2(y)) ** 2
    fy = np.fft.fftfreq(y.shape[0])[:, None]
    fx = np.fft.rfftfreq(y.shape[1])[None, :]
    radius = np.sqrt(fx**2 + fy**2) / 0.5  # 1.0 at Nyquist
    total = power.sum()
    return float(power[radius > cutoff].sum() / total) if total > 0 else 0.0


def brightness(image) -> float:
    return float(luma(image).mean())


def contrast(image) -> float:
    """Standard deviation of luma."""
    return float(luma(image).std())


def warmth(image) -> float:
    """Mean red minus mean blue, in [-1, 1]."""
    rgb = _rgb(image) / 255.0
    return float(rgb[..., 0].mean() - rgb[..., 2].mean())


def tint(image) -> float:
    """Mean green minus the mean of red and blue, in [-1, 1]: green above 0, magenta below.
    The colour axis across warmth's red-blue one."""
    rgb = _rgb(image) / 255.0
    return float(rgb[..., 1].mean() - (rgb[..., 0].mean() + rgb[..., 2].mean()) / 2)


def complexity(image) -> float:
    """Busyness: the mean luma gradient magnitude per pixel, scaled to a 256-pixel picture,
    over the luma's standard deviation. Dividing by the spread makes it count edges and
    detail rather than their strength, which is contrast's; a flat picture has 0."""
    y = luma(image)
    spread = y.std()
    if spread < 1e-6:
        return 0.0
    gy, gx = np.gradient(y)
    return float(np.sqrt(gx**2 + gy**2).mean() * y.shape[0] / 256 / spread)


def grain(image) -> float:
    """Which way the structure runs, in [-1, 1]: the luma gradient's energy across (x) minus
    its energy down (y), over their sum. Vertical stripes are near 1, horizontal ones near
    -1, round or random shapes near 0."""
    gy, gx = np.gradient(luma(image))
    across, down = (gx**2).mean(), (gy**2).mean()
    return float((across - down) / (across + down)) if across + down > 0 else 0.0


def light_right(image) -> float:
    """Mean luma of the right half minus that of the left half, in [-1, 1]."""
    y = luma(image)
    half = y.shape[1] // 2
    return float(y[:, -half:].mean() - y[:, :half].mean())


def light_bottom(image) -> float:
    """Mean luma of the bottom half minus that of the top half, in [-1, 1]."""
    return light_right(np.swapaxes(np.asarray(image), 0, 1))


def symmetry(image, max_shift: float = 0.125) -> float:
    """Mirror correlation about the best axis: the largest Pearson correlation of the luma
    with its own mirror image, over left-right and top-bottom mirrors whose axis lies within
    ``max_shift`` of the picture's side from the centre. 1 is a perfect mirror image, about
    0 no symmetry. A correlation, so a faint picture is no more symmetric than a bold one
    with the same layout; a flat picture counts as symmetric (1)."""
    y = luma(image)
    if np.ptp(y) == 0:
        return 1.0
    size = y.shape[1]
    best = -1.0
    for grid in (y, y.T):  # left-right, then top-bottom (as left-right of the transpose)
        mirrored = grid[:, ::-1]
        for shift in range(-int(max_shift * size), int(max_shift * size) + 1):
            # The mirror shifted by ``shift`` columns: the axis at (size - 1 + shift) / 2.
            a = grid[:, max(shift, 0) : size + min(shift, 0)]
            b = mirrored[:, max(-shift, 0) : size + min(-shift, 0)]
            a, b = a - a.mean(), b - b.mean()
            norm = np.sqrt((a * a).sum() * (b * b).sum())
            if norm > 0:
                best = max(best, float((a * b).sum() / norm))
    return best


ATTRIBUTES = {
    "brightness": brightness,
    "colourfulness": colourfulness,
    "warmth": warmth,
    "tint": tint,
    "contrast": contrast,
    "complexity": complexity,
    "symmetry": symmetry,
    "grain": grain,
    "light_right": light_right,
    "light_bottom": light_bottom,
}


def thumbnail(image, side: int = 32) -> np.ndarray:
    """Box-downsampled float copy in [0, 1], for comparing pictures by layout and colour."""
    rgb = _rgb(image) / 255.0
    size = rgb.shape[0]
    if size % side:
        raise ValueError(f"picture size {size} is not a multiple of {side}")
    k = size // side
    return rgb.reshape(side, k, side, k, 3).mean(axis=(1, 3))


def distance(a, b) -> float:
    """Mean absolute difference of two pictures' 32 x 32 thumbnails, in [0, 1]."""
    return float(np.abs(thumbnail(a) - thumbnail(b)).mean())


def mean_pairwise_distance(images) -> float:
    """Mean distance over all pairs: how different a set of pictures is."""
    thumbs = np.stack([thumbnail(image).ravel() for image in images])
    n = len(thumbs)
    total, pairs = 0.0, 0
    for i in range(n - 1):
        total += np.abs(thumbs[i + 1 :] - thumbs[i]).mean(axis=1).sum()
        pairs += n - 1 - i
    return float(total / pairs)


# -- the subject on a plain ground --------------------------------------------------------
# For spaces whose pictures show one subject on a plain ground (the emoji space's, on
# white), what genes that change shape, pose or kind move: how large the subject is, how
# tall against how wide, and where it stands. The ground is the colour of the picture's
# border; the subject is every pixel clearly of another colour.

#: A pixel is the subject's when one of its channels differs from the ground's by more than
#: this (of 255): above the ground's shading and compression, below a pale subject's edge.
SUBJECT_THRESHOLD = 24.0


def subject_mask(image) -> np.ndarray:
    """(size, size) bool: the pixels unlike the ground (the median colour of the border)."""
    rgb = _rgb(image)
    border = np.concatenate([rgb[0], rgb[-1], rgb[1:-1, 0], rgb[1:-1, -1]])
    ground = np.median(border, axis=0)
    return np.abs(rgb - ground).max(axis=-1) > SUBJECT_THRESHOLD


def _subject_moments(image) -> tuple[float, float, float, float, float]:
    """(share of the picture, mean x, mean y, variance across, variance down) of the
    subject, positions in [0, 1]; an empty subject sits in the middle with no extent."""
    mask = subject_mask(image)
    size = mask.shape[0]
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return 0.0, 0.5, 0.5, 0.0, 0.0
    xs, ys = (xs + 0.5) / size, (ys + 0.5) / size
    return float(mask.mean()), float(xs.mean()), float(ys.mean()), float(xs.var()), float(ys.var())


def subject_size(image) -> float:
    """The share of the picture the subject covers, in [0, 1]."""
    return _subject_moments(image)[0]


def subject_tall(image) -> float:
    """How tall rather than wide the subject is, in [-1, 1]: its spread down minus its
    spread across, over their sum (0 for a disc or a square)."""
    _, _, _, across, down = _subject_moments(image)
    return (down - across) / (down + across) if down + across > 0 else 0.0


def subject_right(image) -> float:
    """Where the subject stands across the picture, in [-0.5, 0.5] (right positive)."""
    return _subject_moments(image)[1] - 0.5


def subject_low(image) -> float:
    """Where the subject stands down the picture, in [-0.5, 0.5] (low positive)."""
    return _subject_moments(image)[2] - 0.5


SUBJECT_ATTRIBUTES = {
    "subject_size": subject_size,
    "subject_tall": subject_tall,
    "subject_right": subject_right,
    "subject_low": subject_low,
}
