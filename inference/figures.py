"""The ``figures`` space: symmetric silhouettes on grounds, painted by a CPPN on a CPU.

Where ``abstract`` paints marbled paper, this space draws *figures*, as Picbreeder's CPPNs
do when bred for a while: a shape with a clear edge on a ground of its own, mirrored or
radial more often than not, so that butterflies, masks, flowers and beetles turn up.

Components (all fixed, loaded from ``weights/figures.safetensors``, made by
``make_figures_weights.py``):

- a per-image symmetry from latent layer 0: a mirror (the network sees |x|), a k-fold
  radial kaleidoscope (the angle folded into one wedge, k from 3 to 8), or none; near the
  boundary between two kinds (or two fold counts) a picture blends the fields of both, so
  that a small mutation fades from one to the other; some symmetric pictures lean slightly
  off by adding a little of the raw x back;
- a coordinate transform of the folded plane (zoom, rotation, offset) from layer 0, and
  plane waves of it with phases from layer 1;
- three hidden layers (32 units) modulated and demodulated per image by latent layers 1–3
  (as in StyleGAN2), layer 2 also reading layer 0, and an output layer modulated by layer 4
  giving three scalar fields: the *mask*, the figure's *interior* and the *ground*;
- the figure: the mask field, normalised on a fixed probe, minus a central envelope
  (figures sit in the middle), thresholded so that a chosen share of the picture is figure;
  the edge's steepness (from razor sharp to a soft glow) and an optional dark outline come
  from layer 4;
- colour: a three-stop OKLCh palette for the figure (layer 5), indexed by the interior
  field and the depth inside the edge and shaded by it, on a two-stop ground (layer 6),
  dark or light (a steep sigmoid, nearly a step), whose lightness stays well apart from
  the figure's.

Layers 0–3 decide composition ("content"), 4–7 edge, colour and texture ("style").

Rendering is resolution independent and bit-stable as in ``abstract``: a pixel depends only
on its position in the unit square, per-image statistics come from a fixed 64 × 64 probe,
and each image is computed alone in spans of ``SPAN`` pixels (the last one padded), so a
picture comes out the same, bit for bit, alone or in a batch and with any thread count.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import safe_open

from inference import fused
from inference.activations import PSIN_GAIN, Psin, SoftClamp, psin, soft_clamp
from inference.color import oklch_to_srgb
from inference.scheduler import Pictures, prepare_then_paint, share_spans, span_workers
from inference.space import SpaceStats, check_count, check_latents, check_size, gaussian_stats

WEIGHTS = Path(__file__).parent / "weights" / "figures.safetensors"

SPAN = 4096  # pixels of one image per forward step
PROBE = 64  # side of the grid whose statistics normalise an image (one span)
LUT = 1024  # entries of each palette gradient
SUPERSAMPLE_BELOW = 256  # smaller renders are computed at twice the size and averaged

MIRROR, RADIAL, NONE = 0, 1, 2
MIN_PART = 0.02  # a symmetry's least weight in a blend


@dataclass
class _Styles:
    """Everything about one image that the pixel loop needs, derived from its latent.

    Scalars are 0-d tensors, so that ``render_float`` can follow them with autograd.
    """

    kind: int  # the dominant symmetry: MIRROR, RADIAL or NONE
    folds: int  # wedges of the dominant radial figure
    parts: list[tuple[float, int, int]]  # (weight, kind, folds) of the blended symmetries
    centre: torch.Tensor  # y of the symmetry centre
    asym: torch.Tensor  # how much raw x leans a symmetric picture off
    affine: torch.Tensor  # (3, 3): [X, Y, 1] -> [U, V, 1]
    waves: torch.Tensor  # (W, 3): [U, V, 1] -> wave arguments in periods
    weights: list[torch.Tensor]  # (out, in) per layer
    biases: list[torch.Tensor]  # (out, 1) per layer
    envelope: torch.Tensor
    area: torch.Tensor
    sharp: torch.Tensor
    outline: torch.Tensor
    depth: torch.Tensor
    shade: torch.Tensor
    figure_contrast: torch.Tensor
    ground_contrast: torch.Tensor
    ground_tilt: torch.Tensor
    figure_lut: torch.Tensor  # (LUT, 3) sRGB in [0, 1]
    ground_lut: torch.Tensor  # (LUT, 3)
    # The layers for the fused kernel: w0, b0, ..., w3, b3, weights (in, out), the output
    # padded to 4 (see fused.cpp); empty unless asked for.
    kernel: list[torch.Tensor] = field(default_factory=list)
    norm: torch.Tensor | None = None  # (7,): mean and std of the 3 fields, the threshold

    def paint_args(self) -> torch.Tensor:
        """(16,): what the fused kernel paints with (see fused.cpp)."""
        assert self.norm is not None  # set by _prepare before any pixel is painted
        scalars = [self.envelope, self.centre, self.sharp, self.outline, self.depth, self.shade,
                   self.figure_contrast, self.ground_contrast, self.ground_tilt]
        return torch.cat([self.norm, torch.stack(scalars).float()]).contiguous()


class FiguresSpace:
    """A symmetric, figure-on-ground CPPN; latents are (8, 64) draws from N(0, I)."""

    slug = "figures"
    layers = 8
    dim = 64
    prior = "gaussian"
    coarse_layers = 4
    #: render_float is differentiable: pictures can be projected (inference/projection.py).
    can_project = True

    def __init__(self, path: Path = WEIGHTS, kernels: bool | None = None) -> None:
        """``kernels``: render with the fused kernel (True: required; False: torch alone;
        None: the kernel where it compiles); see ``fused.version``."""
        raw = path.read_bytes()
        self.kernels = fused.choose(kernels)
        self.version = fused.version(raw, self.kernels)
        with safe_open(str(path), framework="pt") as f:
            self.tune = json.loads(f.metadata()["tuning"])
            self.w = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118
        self.stats: SpaceStats = gaussian_stats(self.layers, self.dim)

    # -- the prior ---------------------------------------------------------------------

    def sample(self, n: int, seed: int) -> torch.Tensor:
        check_count(n)
        generator = torch.Generator().manual_seed(int(seed))
        return torch.randn(n, self.layers, self.dim, generator=generator)

    # -- rendering -----------------------------------------------------------------------

    def blend_parts(self, latents: torch.Tensor) -> list[int]:
        """How many symmetries each picture blends: each is one pass of the network."""
        latents = check_latents(latents, self.layers, self.dim)
        return [len(_symmetry_parts(z[0], self.tune)) for z in latents]

    def matmul_flops(self, n: int, size: int, parts: int | None = None) -> int:
        """Multiply-add FLOPs (2 per multiply-add) of the matrix products in ``render(n,
        size)`` when the n pictures blend ``parts`` symmetries in all (default n: one each;
        see ``blend_parts``), padding and the probe included: what a benchmark divides by
        time."""
        work = size * 2 if size < SUPERSAMPLE_BELOW else size
        spans = math.ceil(work * work / SPAN) + PROBE * PROBE // SPAN
        waves = self.w["waves.freq"].shape[1]
        h = self.w["layer1.weight"].shape[0]
        widths = [(3, 2), (3, waves), (waves + 3, h), (h, h), (2 * h, h), (h, 3)]
        return 2 * SPAN * (n if parts is None else parts) * spans * sum(k * m for k, m in widths)

    def render(self, latents: torch.Tensor, size: int) -> torch.Tensor:
        """(n, layers, dim) latents -> (n, size, size, 3) uint8 pictures."""
        return self.render_each(latents, size, None)

    @torch.no_grad()
    def render_each(self, latents: torch.Tensor, size: int, each) -> torch.Tensor:
        """``render``, handing each picture to ``each(b, picture)`` as soon as it is painted."""
        # 1. Check inputs
        latents = check_latents(latents, self.layers, self.dim)
        size = check_size(size)
        n = latents.shape[0]
        work = size * 2 if size < SUPERSAMPLE_BELOW else size
        out = torch.empty(n, work * work, 3, dtype=torch.uint8)
        pictures = Pictures(out, work, size, each)
        with span_workers() as (workers, pool):
            if self.kernels:
                # 2-3. Each image's styles and probe statistics, then its pixels.
                self._render_fused(latents, work, out, workers, pool, pictures.painted)
            else:
                # 2. Per-image styles and probe statistics, each image on its own.
                styles = list(pool.map(self._prepare, [latents[b] for b in range(n)]))
                # 3. Pixels, span by span, spans shared out among the workers.
                starts = range(0, work * work, SPAN)
                jobs = [pool.submit(self._paint_spans, styles, part, work, out)
                        for part in share_spans(starts, workers, False)]
                for job in jobs:
                    job.result()
        return pictures.all()

    def _render_fused(self, latents: torch.Tensor, size: int, out: torch.Tensor, workers: int,
                      pool, painted=None) -> None:
        """Prepare each image and paint its spans into ``out`` (n, size * size, 3) with the
        fused kernel, the next image prepared while this one is painted
        (``prepare_then_paint``); the kernel paints a run of spans in one call."""

        def paint(kernel, b: int, run: range) -> None:
            start, end = run[0], min(run[-1] + SPAN, size * size)
            kernel(start, end - start, size, rgb=out[b, start:end])

        prepare_then_paint(latents.shape[0], share_spans(range(0, size * size, SPAN), workers, True),
                           workers, pool, lambda b: self._kernel(self._prepare(latents[b]), paint=True),
                           paint, painted)

    def _styles(self, z: torch.Tensor, kernel: bool = False) -> _Styles:
        """One image's styles from its (layers, dim) latent (with the layers laid out for
        the fused kernel too when ``kernel``)."""
        t, w = self.tune, self.w
        root = math.sqrt(self.dim)
        # Symmetry from layer 0: its kind, the radial folds, a slight lean for some.
        choices = z.detach()  # discrete choices: no gradient flows through them
        parts = _symmetry_parts(choices[0], t)
        _, kind, folds = max(parts)
        leans = float(torch.sigmoid(3.0 * choices[0, 8])) < t["asym_share"]
        asym = t["asym"] * torch.sigmoid(z[0, 9]) * (1.0 if leans and kind != NONE else 0.0)
        centre = t["centre_spread"] * torch.tanh(z[0, 6])
        # Composition of the folded plane: zoom, rotation, offset.
        zoom = t["coord_gain"] * torch.exp(t["zoom_spread"] * z[0, 4] + t["zoom_bias"])
        angle = t["rotation_spread"] * z[0, 5]
        offset = t["offset_spread"] * torch.tanh(z[0, 10:12])
        cos, sin = torch.cos(angle) * zoom, torch.sin(angle) * zoom
        zero, one = torch.zeros(()), torch.ones(())
        affine = torch.stack([
            torch.stack([cos, -sin, offset[0]]),
            torch.stack([sin, cos, offset[1]]),
            torch.stack([zero, zero, one]),
        ])
        # Plane waves of (U, V) with phases from layer 1, in periods.
        freq = w["waves.freq"] * torch.exp(t["wave_gain"][0] + t["wave_gain"][1] * torch.tanh(z[1, 0]))
        phase = t["phase_spread"] * (z[1] @ w["phase.map"]) / root
        waves = torch.cat([freq.T, phase[:, None]], dim=1)

        weights, biases, layers = [], [], []
        for i, layer in enumerate((1, 2, 3, 4)):  # the latent layer styling each network layer
            zl = z[layer]
            base, bias, mod = w[f"layer{i}.weight"], w[f"layer{i}.bias"], w[f"layer{i}.mod"]
            scale = torch.exp(t["mod_strength"] * (zl @ mod) / root)  # (in,)
            # Modulate each input, then demodulate each output (StyleGAN2, eq. 1 and 3).
            wi = base * scale[:, None]
            wi = wi / torch.linalg.vector_norm(wi, dim=0, keepdim=True).clamp_min(1e-8)
            wi = wi * t["omega"][i]
            bi = bias + t["bias_strength"][i] * (zl @ w[f"layer{i}.bias_mod"]) / root
            if i < 2:  # psin's pre-activations are counted in periods
                wi, bi = wi / (2 * math.pi), bi / (2 * math.pi)
            if i == 1:  # inputs from psin, whose factor 8 is folded in here
                wi = wi * PSIN_GAIN
            if i == 2:  # layer 2 reads [layer 1; layer 0], both from psin
                wi = wi * PSIN_GAIN
            if i == 0:  # the waves come from psin; U, V and R do not
                gain = torch.ones(wi.shape[0])
                gain[: w["waves.freq"].shape[1]] = PSIN_GAIN
                wi = wi * gain[:, None]
            weights.append(wi.T.contiguous())
            biases.append(bi[:, None].contiguous())
            if kernel:
                width = -(-wi.shape[1] // 4) * 4
                layers += [fused.pad(wi, (wi.shape[0], width)), fused.pad(bi, (width,))]

        # The figure and its edge, from layer 4.
        envelope = torch.exp(t["envelope"][0] + t["envelope"][1] * torch.tanh(z[4, 5]))
        area = t["area"][0] + t["area"][1] * torch.sigmoid(0.7 * z[0, 7])
        sharp = torch.exp(t["sharp"][0] + t["sharp"][1] * z[4, 0])
        # An outline only round crisp figures: it fades out as the edge softens.
        crisp = ((torch.log(sharp) - 1.0) / 2.0).clamp(0.0, 1.0)
        outline = t["outline"][0] * torch.sigmoid(2.0 * z[4, 1] + t["outline"][1]) * crisp
        depth = t["depth"] * torch.tanh(z[4, 2])
        # Texture, from layer 7.
        shade = t["shade"] * torch.tanh(z[7, 0])
        figure_contrast = t["figure_contrast"] * torch.exp(0.4 * torch.tanh(z[7, 1]))
        ground_contrast = t["ground_contrast"] * torch.exp(0.4 * torch.tanh(z[7, 2]))
        ground_tilt = t["ground_tilt"] * torch.tanh(z[7, 3])
        figure_lut, ground_lut = self._palettes(z)
        return _Styles(
            kind, folds, parts, centre, asym, affine, waves, weights, biases, envelope, area, sharp,
            outline, depth, shade, figure_contrast, ground_contrast, ground_tilt, figure_lut,
            ground_lut, layers,
        )

    def _palettes(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The figure's three OKLCh stops (layer 5) and the ground's two (layer 6), each
        spread into a LUT-entry gradient; a light ground gets a dark figure and the
        other way round, so the silhouette always reads."""
        t = self.tune
        # How light the ground is: a steep but smooth step along one latent number, so a
        # small mutation near the step dims or lifts the ground instead of flipping it.
        share, steep = t["light_ground"]
        light_ground = torch.sigmoid(steep * (0.5 * math.log(share / (1 - share)) - z[6, 0]))
        (f_low, f_span), (g_low, g_span) = (
            (dark + light_ground * (light - dark) for dark, light in zip(*pair, strict=True))
            for pair in (t["figure_light"], t["ground_light"])
        )
        k = torch.arange(3, dtype=torch.float32) / 2
        hue0 = torch.atan2(z[5, 1], z[5, 0])
        spread = t["hue_spread"][0] + t["hue_spread"][1] * torch.sigmoid(z[5, 2])
        hues = hue0 + spread * (k - 0.5) + 0.1 * z[5, 3:6]
        light = f_low + f_span * torch.sigmoid(0.6 * z[5, 6:9] + 1.5 * (k - 0.5))
        chroma = t["figure_chroma"][0] + t["figure_chroma"][1] * torch.sigmoid(0.6 * z[5, 9] + 0.2 * z[5, 10:13])
        figure = _gradient(light, chroma, hues)
        # The ground: a hue of its own, near the figure's or opposite it.
        g_hue = hue0 + math.pi * torch.sigmoid(z[6, 1]) + 0.15 * z[6, 2:4]
        g_light = g_low + g_span * torch.sigmoid(0.6 * z[6, 4:6])
        g_chroma = t["ground_chroma"][0] + t["ground_chroma"][1] * torch.sigmoid(0.6 * z[6, 6:8])
        ground = _gradient(g_light, g_chroma, g_hue)
        return figure, ground

    def _prepare(self, z: torch.Tensor) -> _Styles:
        """One image's styles, with its fields' statistics and threshold from the probe."""
        styles = self._styles(z, kernel=self.kernels is not None)
        x, y = _PROBE_GRID
        if self.kernels:
            fields = torch.empty(3, SPAN)
            self._kernel(styles, paint=False)(0, SPAN, PROBE, fields=fields)
        else:
            fields = self._fields(styles, x, y)
        styles.norm = self._norm(styles, fields, x, y)
        return styles

    def _kernel(self, s: _Styles, paint: bool):
        """A call of the fused kernel for one image, as a function of (start, count, size,
        raw fields (3, count) or colours (count, 3)) on pixels [start, start + count) of a
        size × size picture: the image's own arguments bound once. With
        ``paint`` (once ``s.norm`` is set) it paints, else it writes the raw fields."""
        ptr = fused.ptr
        held = [torch.tensor(s.parts, dtype=torch.float32),  # (weight, kind, folds) each
                s.affine[:2].contiguous(), s.paint_args() if paint else None]
        symmetries, affine, paint_args = (ptr(t) for t in held)
        layers = [ptr(t) for t in s.kernel]
        asym = float(s.asym)  # the kernel adds it to symmetric parts only, as _fold does

        def run(start: int, count: int, size: int, fields: torch.Tensor | None = None,
                rgb: torch.Tensor | None = None) -> None:
            status = self.kernels.figures_render(
                start, count, size, len(s.parts), symmetries, asym, float(s.centre), affine,
                ptr(s.waves), s.waves.shape[0], s.kernel[0].shape[1], *layers, paint_args,
                ptr(s.figure_lut), ptr(s.ground_lut), LUT, ptr(fields), ptr(rgb),
            )
            if status != 0:
                raise RuntimeError(f"the fused kernel refused the figures network's shape ({status})")

        run.held = (s, held)  # the tensors behind the bound addresses live as long as ``run``
        return run

    @staticmethod
    def _norm(s: _Styles, fields: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean and spread of each field on the probe, and the mask's threshold there: the
        level that leaves a share ``s.area`` of the probe inside the figure."""
        # In double precision: a reduction's rounding may depend on how many threads run
        # it (worker threads keep their own count), and a picture must not.
        wide = fields.double()
        mean = wide.mean(dim=1)
        std = wide.std(dim=1).clamp_min(1e-6)
        mask = (wide[0] - mean[0]) / std[0] - s.envelope.double() * (x * x + (y - s.centre) ** 2).double()
        threshold = torch.quantile(mask, (1.0 - s.area).double())
        return torch.cat([mean, std, threshold[None]]).float()

    def _paint_spans(self, styles: list[_Styles], starts, size: int, out: torch.Tensor) -> None:
        """Colour the given spans of every picture into ``out`` (n, size * size, 3) with
        torch alone."""
        for start in starts:
            end = min(start + SPAN, size * size)
            x, y = _grid(start, size)
            for b, s in enumerate(styles):
                rgb = self._paint(s, self._fields(s, x, y), x, y, exact=True)
                out[b, start:end] = rgb[: end - start]

    def _fields(self, s: _Styles, x: torch.Tensor, y: torch.Tensor, grad: bool = False) -> torch.Tensor:
        """The three raw fields of one image at pixels (x, y): (3, P)."""
        act = Psin.apply if grad else psin
        clamp = SoftClamp.apply if grad else soft_clamp
        # A blend of one to a few symmetries (near a choice's boundary a picture is part
        # one, part the other, so that a small mutation does not switch it abruptly).
        fields = None
        for weight, kind, folds in s.parts:
            part = self._folded_fields(s, kind, folds, x, y, act, clamp, grad)
            part = part if weight == 1.0 else part * weight
            fields = part if fields is None else fields + part
        return fields

    @classmethod
    def _folded_fields(cls, s: _Styles, kind: int, folds: int, x, y, act, clamp, grad: bool) -> torch.Tensor:
        """The three raw fields of one symmetry ``kind`` (and ``folds``) of an image."""
        fx, fy = cls._fold(s, kind, folds, x, y, grad)
        xy1 = torch.stack([fx, fy, torch.ones_like(fx)])
        uv1 = s.affine @ xy1
        u, v = uv1[0], uv1[1]
        radius = torch.sqrt(u * u + v * v + 1e-12) if grad else torch.hypot(u, v)
        waves = act(s.waves @ uv1)
        h0 = act(s.weights[0] @ torch.cat([waves, u[None], v[None], radius[None]]) + s.biases[0])
        h1 = act(s.weights[1] @ h0 + s.biases[1])
        h2 = clamp(s.weights[2] @ torch.cat([h1, h0]) + s.biases[2])
        return s.weights[3] @ h2 + s.biases[3]

    @staticmethod
    def _fold(s: _Styles, kind: int, folds: int, x, y, grad: bool = False):
        """The coordinates (fx, fy) the network sees at pixels (x, y) under one symmetry:
        the plane folded so that it only ever sees one half (or one wedge) of it."""
        yc = y - s.centre
        if kind == MIRROR:
            fx, fy = x.abs(), yc
        elif kind == RADIAL:
            radius = torch.sqrt(x * x + yc * yc + 1e-12) if grad else torch.hypot(x, yc)
            turn = torch.atan2(x, yc) * (folds / (2 * math.pi))  # in wedges, 0 pointing up
            psi = (turn - torch.round(turn)).abs() * (2 * math.pi / folds)
            fx, fy = radius * torch.sin(psi), radius * torch.cos(psi)
        else:
            fx, fy = x, yc
        if kind != NONE and float(s.asym.detach()) > 0:
            fx = fx + s.asym * x
        return fx, fy

    @staticmethod
    def _paint(s: _Styles, fields: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
               exact: bool) -> torch.Tensor:
        """Colours of one image from its raw (3, P) fields: (P, 3) uint8 when ``exact``
        (the nearest palette entry), else float in [0, 1] (interpolated, differentiable)."""
        mean, std, threshold = s.norm[0:3, None], s.norm[3:6, None], s.norm[6]
        f = (fields - mean) / std
        # Signed depth inside the figure's edge (0 on the edge, positive inside).
        depth = f[0] - s.envelope * (x * x + (y - s.centre) ** 2) - threshold
        mask = torch.sigmoid(depth * s.sharp)
        line = 1.0 / (1.0 + (depth * (s.sharp.clamp(max=40.0) * 0.5 + 2.0)) ** 2)
        figure_at = torch.sigmoid(f[1] * s.figure_contrast + depth * s.depth)
        ground_at = torch.sigmoid(f[2] * s.ground_contrast + y * s.ground_tilt)
        figure = _lookup(s.figure_lut, figure_at, exact)
        figure = figure * (1.0 + s.shade * torch.tanh(depth))[:, None]
        ground = _lookup(s.ground_lut, ground_at, exact)
        rgb = ground + (figure - ground) * mask[:, None]
        rgb = (rgb * (1.0 - s.outline * line)[:, None]).clamp(0.0, 1.0)
        if exact:
            return rgb.mul_(255.0).round_().to(torch.uint8)
        return rgb

    # -- a differentiable render ---------------------------------------------------------

    def render_float(self, latents: torch.Tensor, size: int, *, probe: int = PROBE) -> torch.Tensor:
        """(n, layers, dim) latents -> (n, size, size, 3) float32 pictures in [0, 1], with
        autograd through every step: what projection optimises.

        ``render`` without rounding, with palettes read by interpolation and without
        supersampling; ``probe`` is the side of the normalisation grid (a subgrid of the
        same pixel centres when it divides PROBE).
        """
        latents = check_latents(latents, self.layers, self.dim)
        size = check_size(size)
        if isinstance(probe, bool) or not isinstance(probe, int) or not 4 <= probe <= PROBE:
            raise ValueError(f"probe must be a whole number from 4 to {PROBE}, got {probe!r}")
        px, py = _float_grid(probe, PROBE)
        x, y = _float_grid(size, size)
        pictures = []
        for z in latents:
            s = self._styles(z)
            s.norm = self._norm(s, self._fields(s, px, py, grad=True), px, py)
            rgb = self._paint(s, self._fields(s, x, y, grad=True), x, y, exact=False)
            pictures.append(rgb.view(size, size, 3))
        return torch.stack(pictures)


def _symmetry_parts(z0: torch.Tensor, t: dict) -> list[tuple[float, int, int]]:
    """(weight, kind, folds) of the symmetries an image blends, from its latent layer 0,
    weights summing to 1: a softmax over the kinds' logits (sharpened by ``kind_blend``),
    and for radial figures the two fold counts around a continuous count, crossfaded over
    a ``folds_blend`` wide stretch between bins. Parts under ``MIN_PART`` are left out."""
    logits = (z0[0:3] + torch.tensor(t["kind_bias"])) * t["kind_blend"]
    kinds = torch.softmax(logits.double(), dim=0).tolist()
    low, high = t["folds"]
    count = low - 0.5 + (high - low + 1) * float(torch.sigmoid(0.6 * z0[3].double()))
    count = min(max(count, float(low)), float(high))
    below = min(math.floor(count), high - 1)
    frac = (count - below - 0.5) / t["folds_blend"] + 0.5
    frac = min(max(frac, 0.0), 1.0)
    above = frac * frac * (3 - 2 * frac)
    raw = [(kinds[MIRROR], MIRROR, 0), (kinds[RADIAL] * (1 - above), RADIAL, below),
           (kinds[RADIAL] * above, RADIAL, below + 1), (kinds[NONE], NONE, 0)]
    kept = [(w, kind, folds) for w, kind, folds in raw if w >= MIN_PART]
    total = sum(w for w, _, _ in kept)
    return [(float(w / total), kind, folds) for w, kind, folds in kept]


def _gradient(light: torch.Tensor, chroma: torch.Tensor, hue: torch.Tensor) -> torch.Tensor:
    """OKLCh stops (k,) each -> a (LUT, 3) sRGB gradient through them, eased, in OKLab."""
    lab = torch.stack([light, chroma * torch.cos(hue), chroma * torch.sin(hue)], dim=1)
    stops = lab.shape[0] - 1
    pos = torch.linspace(0, stops, LUT)
    lo = pos.floor().clamp(max=stops - 1).long()
    frac = pos - lo
    frac = frac * frac * (3 - 2 * frac)
    grad = lab[lo] * (1 - frac)[:, None] + lab[lo + 1] * frac[:, None]
    lightness, a, b = grad.unbind(dim=1)
    return oklch_to_srgb(lightness, torch.hypot(a, b), torch.atan2(b, a)).contiguous()


def _lookup(lut: torch.Tensor, at: torch.Tensor, exact: bool) -> torch.Tensor:
    """Colours at positions ``at`` in [0, 1] of a (LUT, 3) gradient: (P, 3)."""
    position = at * (LUT - 1)
    if exact:
        return lut[position.round().long()]
    lo = position.detach().floor().clamp(0, LUT - 2)
    return torch.lerp(lut[lo.long()], lut[lo.long() + 1], (position - lo)[:, None])


def _grid(start: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """x and y, each (SPAN,), in [-1, 1] at the centres of pixels [start, start + SPAN) of a
    size × size picture (past the end, the pixels of rows below it: padding)."""
    pix = torch.arange(start, start + SPAN)
    x = (pix % size).float().add_(0.5).mul_(2.0 / size).sub_(1.0)
    y = torch.div(pix, size, rounding_mode="floor").float().add_(0.5).mul_(2.0 / size).sub_(1.0)
    return x, y


_PROBE_GRID = _grid(0, PROBE)  # read only, shared by every image's preparation


def _float_grid(size: int, of: int) -> tuple[torch.Tensor, torch.Tensor]:
    """x and y, each (size²,), at the pixel centres of a size × size picture; when ``size``
    divides ``of``, the centres of every (of / size)-th pixel of an of × of one instead."""
    if of % size == 0:
        step = of // size
        line = (torch.arange(size, dtype=torch.float32) * step + (step - 1) / 2 + 0.5) * (2.0 / of) - 1.0
    else:
        line = (torch.arange(size, dtype=torch.float32) + 0.5) * (2.0 / size) - 1.0
    y, x = torch.meshgrid(line, line, indexing="ij")
    return x.reshape(-1), y.reshape(-1)
