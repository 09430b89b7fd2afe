"""The ``abstract`` space: a style-modulated CPPN that paints soft abstract pictures on a CPU.

Components (all fixed, loaded from ``weights/abstract.safetensors``, made by
``make_abstract_weights.py``):

- a per-image coordinate transform (zoom, rotation, stretch, offset) from latent layer 0;
- Fourier features of the transformed coordinates in three frequency bands, with phases
  and band gains from latent layers 1 and 7 (fine detail);
- three hidden layers whose weights are modulated and demodulated per image by latent
  layers 1–3 (as in StyleGAN2), and an output layer modulated by layer 4, giving two scalar
  fields per pixel;
- a palette of five OKLab colours from layers 5 and 6, indexed by the first field (a smooth
  gradient map) and shaded by the second.

Layers 0–3 decide composition ("content"), 4–7 colour and texture ("style"), so crossing
can take the shapes of one parent and the colours of another.

Rendering is resolution independent: a pixel's value depends only on its position in the
unit square, and each image's fields are normalised with statistics from a fixed 64 × 64
probe, never from the pixels being rendered. Each image is computed in spans of ``SPAN``
pixels (the last one padded), so every matrix product has the same shape whatever the batch
or the size: memory stays bounded at any size, and a picture comes out the same, bit for
bit, alone or in a batch.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import safe_open

from inference import fused
from inference.activations import PSIN_GAIN, Psin, SoftClamp, psin, soft_clamp
from inference.color import oklch_to_srgb
from inference.scheduler import Pictures, prepare_then_paint, share_spans, span_workers
from inference.space import SpaceStats, check_count, check_latents, check_size, gaussian_stats

WEIGHTS = Path(__file__).parent / "weights" / "abstract.safetensors"

SPAN = 4096  # pixels of one image per forward step: (SPAN, width) matrices stay in cache
PROBE = 64  # side of the grid whose field statistics normalise an image (whole spans)
LUT = 1024  # entries of each image's palette gradient
SUPERSAMPLE_BELOW = 256  # smaller renders are computed at twice the size and averaged


@dataclass
class _Styles:
    """Everything per image that the pixel loop needs, derived once from the latents.

    Every tensor has the image as its first dimension.
    """

    args: torch.Tensor  # (n, F + 4, 3): [x, y, 1] -> Fourier arguments in periods, u, v, 0, 0
    # Per layer, (n, out, in), with the bias folded in through a constant channel (see
    # _fold_biases): (n, H + 1, F + 4), (n, H + 1, H + 1), (n, H + 1, 2H + 2), (n, 2, H + 1).
    # Empty when the styles are laid out for the fused kernel.
    weights: list[torch.Tensor]
    contrast: torch.Tensor  # (n,)
    shade: torch.Tensor  # (n,)
    ripple: torch.Tensor  # (n,) strength of the contour ripples
    ripple_freq: torch.Tensor  # (n,) ripples per unit of the normalised first field
    lut: torch.Tensor  # (n, LUT, 3) palette gradients in sRGB [0, 1]
    # The same layers for the fused kernel (see _kernel_layers): weights (n, in, out) and
    # biases (n, out), hidden widths padded to a multiple of 4. Empty for torch's products.
    kernel: list[torch.Tensor]
    norm: torch.Tensor | None = None  # (n, 4): mean and std of both fields from the probe

    @classmethod
    def stack(cls, parts: list[_Styles]) -> _Styles:
        """One _Styles for all images from one per image."""
        def cat(name):
            return torch.cat([getattr(p, name) for p in parts])

        def layers(name):
            return [torch.cat(group) for group in zip(*(getattr(p, name) for p in parts), strict=True)]

        return cls(
            cat("args"), layers("weights"), cat("contrast"), cat("shade"), cat("ripple"),
            cat("ripple_freq"), cat("lut"), layers("kernel"),
        )

    def paint_args(self) -> torch.Tensor:
        """(n, 8) per image: what the fused kernel paints with (see fused.cpp)."""
        assert self.norm is not None  # set by _prepare before any pixel is painted
        return torch.cat([self.norm, torch.stack(
            [self.ripple_freq, self.ripple, self.shade, self.contrast], dim=1)], dim=1).contiguous()


def _contrast(z: torch.Tensor, t: dict) -> torch.Tensor:
    """How steeply the first field runs through the palette, from latent layer 7."""
    return t["contrast"] * torch.exp(t["contrast_spread"] * torch.tanh(z[:, 7, 1]))


#: The constant channel's values after each activation: psin(1/4) and soft_clamp(1/2).
CONST_PRE = (0.25, 0.25, 0.5)


def _const_after(layer: int) -> float:
    x = torch.tensor([CONST_PRE[layer]])
    return float(psin(x) if layer < 2 else soft_clamp(x))


def _fold_biases(first, hidden_weights, hidden_biases) -> list[torch.Tensor]:
    """Append a constant channel to every hidden layer so biases ride in the products.

    The first layer's input ends in a column of ones; its extra output is set to
    ``CONST_PRE[0]`` and, after the activation, is a constant c. The next layer reads its
    bias from that channel (row = bias / c) and passes a new constant on, and so on. Adding
    a bias would cost a pass over every activation; as an extra row it costs almost nothing.
    """
    n, width = first.shape[0], first.shape[2] + 1
    folded = [torch.zeros(n, first.shape[1], width)]
    folded[0][:, :, :-1] = first
    folded[0][:, -1, -1] = CONST_PRE[0]  # the input's last column is the ones of [x, y, 1]
    hidden = width - 1
    for i, (w, b) in enumerate(zip(hidden_weights, hidden_biases, strict=True), start=1):
        c = _const_after(i - 1)
        out = w.shape[2]
        # Layer 2 reads [layer 1; layer 0], each block ending in its constant channel.
        ext = torch.zeros(n, width * (2 if i == 2 else 1), out + (1 if i < 3 else 0))
        ext[:, :hidden, :out] = w[:, :hidden]
        ext[:, hidden, :out] = b / c
        if i == 2:
            ext[:, width : width + hidden, :out] = w[:, hidden:]
        if i < 3:
            ext[:, -1, -1] = CONST_PRE[i] / c
        folded.append(ext)
    # Pixels run along rows (see _fields): every layer multiplies from the left.
    return [f.transpose(1, 2).contiguous() for f in folded]


def _kernel_layers(first, hidden_weights, hidden_biases) -> list[torch.Tensor]:
    """The layers as the fused kernel reads them: w0, b0, w1, b1, w2, b2, w3, b3.

    Weights are (n, in, out), biases (n, out), added in the kernel rather than folded into
    a constant channel. Hidden layers are zero-padded to a multiple of 4 outputs (the
    kernel's register block), the output layer to 4 (two fields, two zeros); padded
    units stay 0 and the next layer gives them zero weight.
    """
    n, hidden = first.shape[0], first.shape[2]
    width = -(-hidden // 4) * 4

    def pad(w, rows, cols, blocks=1):
        out = torch.zeros(n, rows * blocks, cols)
        step = w.shape[1] // blocks
        for k in range(blocks):
            out[:, k * rows : k * rows + step, : w.shape[2]] = w[:, k * step : (k + 1) * step]
        return out.contiguous()

    w1, w2, w3 = hidden_weights
    b1, b2, b3 = hidden_biases
    return [
        pad(first[:, :-1], first.shape[1] - 1, width), pad(first[:, -1:], 1, width)[:, 0],
        pad(w1, width, width), pad(b1[:, None], 1, width)[:, 0],
        pad(w2, width, width, blocks=2), pad(b2[:, None], 1, width)[:, 0],
        pad(w3, width, 4), pad(b3[:, None], 1, 4)[:, 0],
    ]


class _Buffers:
    """Scratch matrices for one span, reused for every span of a render.

    Activations are stored channels by pixels, (channels, SPAN): each layer is one product
    W @ h from the left, each channel a contiguous row.
    """

    def __init__(self, n_fourier: int, width: int) -> None:
        self.grid = torch.empty(3, SPAN)
        self.grid[2] = 1.0
        self.offsets = torch.arange(SPAN)
        self.args = torch.empty(n_fourier + 4, SPAN)
        self.args_scratch = torch.empty(n_fourier + 4, SPAN)
        # Layers 1 and 0 stacked, the input of layer 2 (a skip connection).
        self.h01 = torch.empty(2 * width, SPAN)
        self.h = [self.h01[width:], self.h01[:width], torch.empty(width, SPAN)]
        self.scratch = torch.empty(width, SPAN)
        self.fields = torch.empty(2, SPAN)


class AbstractSpace:
    """A CPPN with per-layer styles; latents are (8, 64) draws from N(0, I)."""

    slug = "abstract"
    layers = 8
    dim = 64
    prior = "gaussian"
    coarse_layers = 4
    #: render_float is differentiable: pictures can be projected (inference/projection.py).
    can_project = True

    def __init__(self, path: Path = WEIGHTS, kernels: bool | None = None) -> None:
        """``kernels``: render with the fused kernel (True: required; False: torch alone;
        None: the kernel where it compiles). The two give pictures a few pixels of which
        differ by one level, so the version digests the weights and, with the kernel, the
        name of its pixels (``fused.PIXELS``): each version's pixels are fixed."""
        raw = path.read_bytes()
        self.kernels = fused.choose(kernels)
        self.version = fused.version(raw, self.kernels)
        with safe_open(str(path), framework="pt") as f:
            self.tune = json.loads(f.metadata()["tuning"])
            self.w = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118
        self.stats: SpaceStats = gaussian_stats(self.layers, self.dim)
        self.freq = self.w["fourier.freq"]  # (2, F) in cycles per unit
        self.band = self.w["fourier.band"].long()  # (F,) 0 low, 1 mid, 2 high
        # Hidden width plus the constant channel that carries the biases.
        self.width = self.w["layer1.weight"].shape[0] + 1

    # -- the prior ---------------------------------------------------------------------

    def sample(self, n: int, seed: int) -> torch.Tensor:
        check_count(n)
        generator = torch.Generator().manual_seed(int(seed))
        return torch.randn(n, self.layers, self.dim, generator=generator)

    # -- rendering -----------------------------------------------------------------------

    def matmul_flops(self, n: int, size: int) -> int:
        """Multiply-add FLOPs (2 per multiply-add) of the matrix products in ``render(n, size)``,
        padding and the probe included: what a benchmark divides by time."""
        work = size * 2 if size < SUPERSAMPLE_BELOW else size
        spans = math.ceil(work * work / SPAN) + PROBE * PROBE // SPAN  # picture's and probe's
        n_in = self.freq.shape[1] + 4
        h = self.width
        widths = [(3, n_in), (n_in, h), (h, h), (2 * h, h), (h, 2)]
        return 2 * SPAN * n * spans * sum(k * m for k, m in widths)

    @torch.no_grad()
    def render(self, latents: torch.Tensor, size: int) -> torch.Tensor:
        """(n, layers, dim) latents -> (n, size, size, 3) uint8 pictures."""
        return self._render(latents, size, None)

    def render_each(self, latents: torch.Tensor, size: int, each) -> torch.Tensor:
        """``render``, handing each picture to ``each(b, picture)`` as soon as it is painted."""
        return self._render(latents, size, None, each)

    @torch.no_grad()
    def render_view(
        self, latents: torch.Tensor, size: int, zoom: float = 1.0, centre: tuple[float, float] = (0.0, 0.0)
    ) -> torch.Tensor:
        """Like ``render``, through a camera: the picture shows the square of half-side
        ``zoom`` around ``centre`` (x, y; the usual picture is the unit square [-1, 1]^2,
        zoom 1 at (0, 0)). The fields keep the usual picture's normalisation, so colours
        stay put as the camera moves; zoom > 1 shows the painting beyond its usual frame."""
        if not (isinstance(zoom, (int, float)) and math.isfinite(zoom) and 1e-3 <= zoom <= 1e3):
            raise ValueError(f"zoom must be a number between 0.001 and 1000, got {zoom!r}")
        cx, cy = (float(c) for c in centre)
        if not (math.isfinite(cx) and math.isfinite(cy)):
            raise ValueError(f"centre must be two finite numbers, got {centre!r}")
        return self._render(latents, size, (float(zoom), cx, cy))

    def _render(self, latents: torch.Tensor, size: int, view, each=None) -> torch.Tensor:
        # 1. Check inputs
        latents = check_latents(latents, self.layers, self.dim)
        size = check_size(size)
        n = latents.shape[0]
        work = size * 2 if size < SUPERSAMPLE_BELOW else size
        out = torch.empty(n, work * work, 3, dtype=torch.uint8)
        pictures = Pictures(out, work, size, each)
        # Below SUPERSAMPLE_BELOW pictures are computed at twice the size, against aliasing.
        starts = range(0, work * work, SPAN)
        with span_workers() as (workers, pool):
            if self.kernels:
                # 2-3. Each image's styles and probe statistics, then its pixels, the
                # next image prepared while this one is painted.
                view = None if view is None else torch.tensor(view, dtype=torch.float32)
                prepare_then_paint(n, share_spans(starts, workers, True), workers, pool,
                                   lambda b: self._bound_kernel(latents[b : b + 1]),
                                   lambda kernel, b, run: self._paint_run(kernel, run, work, view, out[b]),
                                   pictures.painted)
            else:
                # 2. Per-image styles and the field statistics of the probe grid, images
                # shared out among the workers. Each image is worked out on its own:
                # products over a batch may round differently.
                prepared = list(pool.map(self._prepare, [latents[b : b + 1] for b in range(n)]))
                styles = _Styles.stack([part for part, _ in prepared])
                styles.norm = torch.stack([norm for _, norm in prepared])
                # 3. Pixels, span by span, spans shared out among the workers.
                jobs = [pool.submit(self._paint_spans, (styles, view), part, work, out)
                        for part in share_spans(starts, workers, False)]
                for job in jobs:
                    job.result()
        return pictures.all()

    def _styles(self, z: torch.Tensor, kernel: bool = False) -> _Styles:
        """The styles of latents ``z``, with the layers laid out for the fused kernel
        (``kernel``) or for torch's products (``weights``)."""
        t, w, n = self.tune, self.w, z.shape[0]
        root = math.sqrt(self.dim)
        # Composition from layer 0: zoom, rotation, stretch, offset.
        zoom = torch.exp(t["zoom_spread"] * z[:, 0, 0] + t["zoom_bias"])
        angle = t["rotation_spread"] * z[:, 0, 1]
        stretch = torch.exp(t["stretch_spread"] * torch.tanh(z[:, 0, 3]))
        offset = t["offset_spread"] * z[:, 0, 4:6]
        cos, sin = torch.cos(angle), torch.sin(angle)
        affine = torch.stack(
            [
                torch.stack([cos * zoom * stretch, -sin * zoom / stretch], dim=1),
                torch.stack([sin * zoom * stretch, cos * zoom / stretch], dim=1),
            ],
            dim=1,
        )  # (n, 2, 2): rotation @ diag(zoom * stretch, zoom / stretch)
        # [x, y, 1] @ uv -> (u, v) = affine @ (x, y) + offset
        uv = torch.cat([affine.transpose(1, 2), offset.unsqueeze(1)], dim=1)  # (n, 3, 2)
        # Fourier arguments in periods (psin's unit): (u, v) . freq + phase, then u and v
        # themselves and two spare columns (see _fields).
        phase = t["phase_spread"] * (z[:, 1] @ w["phase.map"]) / root  # (n, F)
        args = uv @ self.freq  # (n, 3, F)
        args[:, 2] += phase
        args = torch.cat([args, uv, torch.zeros(n, 3, 2)], dim=2).transpose(1, 2).contiguous()

        # Band gains: coarse structure from layer 1, fine detail from layer 7.
        gains = torch.stack(
            [
                torch.exp(t["band_spread"] * torch.tanh(z[:, 1, 0]) + t["band_bias"][0]),
                torch.exp(t["band_spread"] * torch.tanh(z[:, 1, 1]) + t["band_bias"][1]),
                torch.exp(t["detail_spread"] * torch.tanh(z[:, 7, 0]) + t["band_bias"][2]),
            ],
            dim=1,
        )  # (n, 3)
        input_gain = torch.cat(
            [torch.full((n, 3), t["coord_gain"]), PSIN_GAIN * gains[:, self.band]], dim=1
        )  # (n, 3 + F): u, v, r, then each Fourier feature by its band
        # Fine detail from layer 7: how many times the hidden layers fold the plane.
        folds = torch.exp(t["fold_spread"] * torch.tanh(z[:, 7, 3]))  # (n,)

        weights, biases = [], []
        for i, layer in enumerate((1, 2, 3, 4)):  # the latent layer styling each network layer
            zl = z[:, layer]
            base, bias, mod = w[f"layer{i}.weight"], w[f"layer{i}.bias"], w[f"layer{i}.mod"]
            if i == 2:  # layer 2 also reads layer 0's output (a skip connection)
                base = torch.cat([base, w["layer2.skip"]], dim=0)
                mod = torch.cat([mod, w["layer2.skip_mod"]], dim=1)
            scale = torch.exp(t["mod_strength"] * (zl @ mod) / root)  # (n, in)
            if i == 0:
                scale = scale * input_gain
            # Modulate each input channel, then demodulate each output (StyleGAN2, eq. 1 and 3).
            wi = base.unsqueeze(0) * scale.unsqueeze(2)
            wi = wi / torch.linalg.vector_norm(wi, dim=1, keepdim=True).clamp_min(1e-8)
            wi = wi * t["omega"][i]
            bi = bias + t["bias_strength"][i] * (zl @ w[f"layer{i}.bias_mod"]) / root
            if i < 2:  # pre-activations of psin are counted in periods
                wi, bi = wi / (2 * math.pi), bi / (2 * math.pi)
            if i in (1, 2):  # inputs come from psin, whose factor 8 is folded in here
                wi = wi * (PSIN_GAIN * folds[:, None, None])
            weights.append(wi)
            biases.append(bi)
        # First layer, rows in the order of _fields' input: the waves, the radius, then
        # [x, y, 1], through which the (u, v) terms and the bias act.
        through_xy = uv @ weights[0][:, 0:2]
        through_xy[:, 2] += biases[0]
        first = torch.cat([weights[0][:, 3:], weights[0][:, 2:3], through_xy], dim=1)
        layers = (_kernel_layers if kernel else _fold_biases)(first, weights[1:], biases[1:])
        return _Styles(
            args, [] if kernel else layers, _contrast(z, t), *self._colour_styles(z),
            self._palettes(z), layers if kernel else [],
        )

    def _colour_styles(self, z: torch.Tensor):
        t = self.tune
        shade = t["shade"] * torch.sigmoid(z[:, 7, 2] + t["shade_bias"])
        # Fine ripples along the contours of the first field (marbling), from layer 7.
        ripple = t["ripple"][0] * torch.sigmoid(z[:, 7, 4] + t["ripple"][1])
        ripple_freq = t["ripple_freq"][0] * torch.exp(t["ripple_freq"][1] * torch.tanh(z[:, 7, 5]))
        return shade, ripple, ripple_freq

    def _palettes(self, z: torch.Tensor) -> torch.Tensor:
        """Five OKLCh stops per image from layers 5 and 6, spread into a LUT-entry gradient."""
        t = self.tune
        k = torch.arange(5, dtype=torch.float32)
        hue0 = torch.atan2(z[:, 5, 1], z[:, 5, 0])
        spread = t["hue_spread"][0] + t["hue_spread"][1] * torch.sigmoid(z[:, 5, 2])
        hues = hue0[:, None] + spread[:, None] * (k - 2) / 2 + t["hue_jitter"] * z[:, 5, 3:8]
        low = t["light_low"][0] + t["light_low"][1] * torch.sigmoid(z[:, 6, 0])
        high = t["light_high"][0] + t["light_high"][1] * torch.sigmoid(z[:, 6, 1])
        curve = torch.exp(0.35 * torch.tanh(z[:, 6, 2]))
        light = low[:, None] + (high - low)[:, None] * (k / 4)[None, :] ** curve[:, None]
        chroma = t["chroma"][0] + t["chroma"][1] * torch.sigmoid(
            z[:, 6, 3:4] + t["chroma_jitter"] * z[:, 6, 4:9]
        )
        # Interpolate stops in OKLab (Cartesian), with eased segments, onto LUT entries.
        lab = torch.stack([light, chroma * torch.cos(hues), chroma * torch.sin(hues)], dim=2)
        pos = torch.linspace(0, 4, LUT)
        lo = pos.floor().clamp(max=3).long()
        frac = pos - lo
        frac = frac * frac * (3 - 2 * frac)
        grad = lab[:, lo] * (1 - frac)[None, :, None] + lab[:, lo + 1] * frac[None, :, None]
        lightness, a, b = grad.unbind(dim=2)
        rgb = oklch_to_srgb(lightness, torch.hypot(a, b), torch.atan2(b, a))
        return rgb.contiguous()

    def _prepare(self, z: torch.Tensor) -> tuple[_Styles, torch.Tensor]:
        """One image's styles, and the mean and spread of its fields on the probe grid."""
        styles = self._styles(z, kernel=self.kernels is not None)
        probe = torch.empty(2, PROBE * PROBE)
        if self.kernels:
            self._kernel(styles, 0)(0, PROBE * PROBE, PROBE, None, fields=probe)
        else:
            buffers = _Buffers(self.freq.shape[1], self.width)
            for start in range(0, PROBE * PROBE, SPAN):
                self._grid(buffers, start, PROBE)
                probe[:, start : start + SPAN] = self._fields(styles, buffers, 0)
        return styles, torch.cat([probe.mean(dim=1), probe.std(dim=1).clamp_min(1e-6)])

    def _kernel(self, s: _Styles, b: int, paint: torch.Tensor | None = None):
        """A call of the fused kernel for image ``b``, as a function of (pixels [start,
        start + count) of a size x size picture, view, raw fields (2, count) or colours
        (count, 3)): the image's own arguments bound once. With ``paint`` (n, 8) it paints,
        else it writes the raw fields."""
        ptr = fused.ptr
        bound = (ptr(s.args[b]), self.freq.shape[1], s.kernel[1].shape[1],
                 *(ptr(t[b]) for t in s.kernel),
                 None if paint is None else ptr(paint[b]), ptr(s.lut[b]), LUT)

        def run(start: int, count: int, size: int, view: torch.Tensor | None,
                fields: torch.Tensor | None = None, rgb: torch.Tensor | None = None) -> None:
            status = self.kernels.abstract_render(start, count, size, ptr(view), *bound,
                                                  ptr(fields), ptr(rgb))
            if status != 0:
                raise RuntimeError(f"the fused kernel refused the abstract network's shape ({status})")

        run.held = (s, paint)  # the tensors behind the bound addresses live as long as ``run``
        return run

    def _bound_kernel(self, z: torch.Tensor):
        """The fused kernel bound to one prepared image (latent ``z``, (1, layers, dim))."""
        styles, norm = self._prepare(z)
        styles.norm = norm[None]
        return self._kernel(styles, 0, styles.paint_args())

    @staticmethod
    def _paint_run(kernel, run: range, size: int, view: torch.Tensor | None, out: torch.Tensor) -> None:
        """Paint the spans of ``run`` of one image into its ``out`` (size * size, 3)."""
        for start in run:
            count = min(SPAN, size * size - start)
            kernel(start, count, size, view, rgb=out[start : start + count])

    def _paint_spans(self, on, starts, size: int, out: torch.Tensor) -> None:
        """Colour the given spans of every picture into ``out`` (n, size * size, 3), with
        torch alone; ``on`` is (styles, view)."""
        s, view = on
        n = out.shape[0]
        buffers = _Buffers(self.freq.shape[1], self.width)
        fields = torch.empty(n, 2, SPAN)
        for start in starts:
            end = min(start + SPAN, size * size)
            self._grid(buffers, start, size, view)
            for b in range(n):
                fields[b] = self._fields(s, buffers, b)
            out[:, start:end] = self._paint(s, fields)[:, : end - start]

    @staticmethod
    def _grid(buf: _Buffers, start: int, size: int, view=None) -> None:
        """Fill ``buf.grid`` with rows x, y, 1 for pixels [start, start + SPAN) of a
        size x size picture, x and y in [-1, 1] at pixel centres (or, with a ``view``
        (zoom, cx, cy), in the square of half-side zoom around (cx, cy))."""
        pix = buf.offsets + start
        buf.grid[0] = (pix % size).float().add_(0.5).mul_(2.0 / size).sub_(1.0)
        buf.grid[1] = torch.div(pix, size, rounding_mode="floor").float()
        buf.grid[1].add_(0.5).mul_(2.0 / size).sub_(1.0)
        if view is not None:
            zoom, cx, cy = view
            buf.grid[0].mul_(zoom).add_(cx)
            buf.grid[1].mul_(zoom).add_(cy)

    def _fields(self, s: _Styles, buf: _Buffers, b: int) -> torch.Tensor:
        """Both raw fields of image ``b`` on the pixels of ``buf.grid``, as a (2, SPAN) view of
        ``buf.fields`` (valid until the next call)."""
        # Layer 0 input, by rows: waves of (u, v) (F), |(u, v)|, x, y, 1.
        x = torch.mm(s.args[b], buf.grid, out=buf.args)  # rows: args (F), u, v, 0, 0
        radius = torch.hypot(x[-4], x[-3])
        psin(x, buf.args_scratch)
        x[-4] = radius
        x[-3:] = buf.grid
        h = psin(torch.mm(s.weights[0][b], x, out=buf.h[0]), buf.scratch)
        # Layer 1, then layer 2 on layers 1 and 0 together: modulated, psin, soft clamp.
        psin(torch.mm(s.weights[1][b], h, out=buf.h[1]), buf.scratch)
        h = soft_clamp(torch.mm(s.weights[2][b], buf.h01, out=buf.h[2]), buf.scratch)
        # Output: two fields, one row each.
        return torch.mm(s.weights[3][b], h, out=buf.fields)

    @staticmethod
    def _paint(s: _Styles, fields: torch.Tensor) -> torch.Tensor:
        """(n, SPAN, 3) uint8 colours from (n, 2, SPAN) raw fields, all images at once."""
        n = fields.shape[0]
        column = (slice(None), None)
        f1 = fields[:, 0].sub_(s.norm[:, 0:1]).div_(s.norm[:, 2:3])
        f2 = fields[:, 1].sub_(s.norm[:, 1:2]).div_(s.norm[:, 3:4])
        # Ripples along the contours of the first field; soft shading by the second.
        ripples = psin(f1 * s.ripple_freq[column]).mul_(PSIN_GAIN * s.ripple[column])
        light = soft_clamp(f2.mul_(0.5)).mul_(1.5 * s.shade[column]).add_(ripples).add_(1.0)
        # The first field picks a colour on the image's palette gradient.
        position = torch.sigmoid_(f1.mul_(s.contrast[column]))
        index = position.mul_(LUT - 1).round_().long()
        index += (torch.arange(n) * LUT)[column]
        rgb = s.lut.view(n * LUT, 3)[index]  # (n, SPAN, 3)
        rgb.mul_(light.unsqueeze(2)).clamp_(0.0, 1.0).mul_(255.0).round_()
        return rgb.to(torch.uint8)

    # -- a differentiable render ---------------------------------------------------------

    def render_float(
        self, latents: torch.Tensor, size: int, *, probe: int = PROBE
    ) -> torch.Tensor:
        """(n, layers, dim) latents -> (n, size, size, 3) float32 pictures in [0, 1], with
        autograd through every step: what projection optimises.

        The same network as ``render`` with three differences: the palette gradient is read
        by linear interpolation between its two nearest entries instead of the nearest one,
        the colours are neither rounded nor made uint8, and there is no supersampling below
        ``SUPERSAMPLE_BELOW``. The mean absolute difference from ``render`` at the same size
        is about one 255th (tests/inference/test_projection.py holds it under 3/255); most
        of it is the missing supersampling on the finest ripples. ``probe`` is the side of
        the normalisation grid: the default gives ``render``'s statistics; a smaller one
        (a subgrid of the same pixel centres when it divides PROBE) is cheaper and close.
        """
        latents = check_latents(latents, self.layers, self.dim)
        size = check_size(size)
        if isinstance(probe, bool) or not isinstance(probe, int) or not 4 <= probe <= PROBE:
            raise ValueError(f"probe must be a whole number from 4 to {PROBE}, got {probe!r}")
        n = latents.shape[0]
        styles = self._styles(latents)
        # Probe and picture pixels in one pass: the probe's grid first.
        grid = torch.cat([_float_grid(probe, PROBE), _float_grid(size, size)], dim=1)
        fields = self._fields_float(styles, grid)  # (n, 2, probe² + size²)
        head = fields[:, :, : probe * probe]
        mean = head.mean(dim=2, keepdim=True)
        std = head.std(dim=2, keepdim=True).clamp_min(1e-6)
        f1, f2 = ((fields[:, :, probe * probe :] - mean) / std).unbind(dim=1)
        column = (slice(None), None)
        ripples = Psin.apply(f1 * styles.ripple_freq[column]) * (PSIN_GAIN * styles.ripple[column])
        light = SoftClamp.apply(f2 * 0.5) * (1.5 * styles.shade[column]) + ripples + 1.0
        position = torch.sigmoid(f1 * styles.contrast[column]) * (LUT - 1)
        lo = position.detach().floor().clamp_(0, LUT - 2)
        frac = (position - lo).unsqueeze(2)
        index = (lo.long() + (torch.arange(n) * LUT)[column]).view(-1)
        lut = styles.lut.reshape(n * LUT, 3)
        rgb = torch.lerp(lut[index], lut[index + 1], frac.reshape(-1, 1)).view(n, -1, 3)
        rgb = (rgb * light.unsqueeze(2)).clamp(0.0, 1.0)
        return rgb.view(n, size, size, 3)

    def _fields_float(self, s: _Styles, grid: torch.Tensor) -> torch.Tensor:
        """Both raw fields of every image on the (3, P) grid, (n, 2, P), with autograd."""
        n, pixels = s.args.shape[0], grid.shape[1]
        n_fourier = self.freq.shape[1]
        x = s.args[:, : n_fourier + 2] @ grid  # (n, F + 2, P): Fourier arguments, u, v
        radius = torch.sqrt(x[:, -2] ** 2 + x[:, -1] ** 2 + 1e-12)
        x = torch.cat(
            [Psin.apply(x[:, :n_fourier]), radius.unsqueeze(1), grid.expand(n, 3, pixels)], dim=1
        )
        h0 = Psin.apply(s.weights[0] @ x)
        h1 = Psin.apply(s.weights[1] @ h0)
        h2 = SoftClamp.apply(s.weights[2] @ torch.cat([h1, h0], dim=1))
        return s.weights[3] @ h2


def _float_grid(size: int, of: int) -> torch.Tensor:
    """(3, size²) rows x, y, 1 at the pixel centres of a size × size picture; when ``size``
    divides ``of``, the centres of every (of / size)-th pixel of an of × of one instead."""
    if of % size == 0:
        step = of // size
        line = (torch.arange(size, dtype=torch.float32) * step + (step - 1) / 2 + 0.5) * (2.0 / of) - 1.0
    else:
        line = (torch.arange(size, dtype=torch.float32) + 0.5) * (2.0 / size) - 1.0
    y, x = torch.meshgrid(line, line, indexing="ij")
    return torch.stack([x.reshape(-1), y.reshape(-1), torch.ones(size * size)])
