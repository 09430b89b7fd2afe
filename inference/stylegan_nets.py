"""StyleGAN2 and StyleGAN3 generators, written from the papers.

- Karras et al. 2020, "Analyzing and improving the image quality of StyleGAN" (StyleGAN2):
  a mapping MLP z -> w with equalised learning rate (weights stored at N(0, 1/lr_mul²) and
  scaled by lr_mul / sqrt(fan_in) at run time, Sec. 2 of Karras et al. 2018, ProGAN);
  a synthesis network of modulated convolutions (Sec. 2.2, Eq. 1: w'_ijk = s_i · w_ijk) with
  weight demodulation (Eq. 3: w''_ijk = w'_ijk / sqrt(Σ_ik w'_ijk² + ε)), per-pixel noise
  scaled by a learnt strength, and the "skip" output: every resolution adds its own toRGB
  to the upsampled picture so far (Fig. 7). Upsampling inserts zeros and low-passes with
  the separable FIR filter [1, 3, 3, 1] (Zhang 2019, "Making convolutional networks
  shift-invariant again").
- Karras et al. 2021, "Alias-free generative adversarial networks" (StyleGAN3): the input
  is a set of Fourier features whose frequencies are rotated and translated by a transform
  predicted from w (Sec. 3.2); each layer is a modulated convolution followed by a
  filtered nonlinearity (upsample, leaky ReLU, low-pass and downsample, Sec. 3.2, Fig. 4),
  with Kaiser-windowed sinc (or jinc, for the rotation-equivariant "-R" config) filters
  whose cutoffs follow a geometric schedule across layers (Sec. 3.3 and Appendix F).

Parameter and buffer names follow the layout of the official training snapshots, so that
a snapshot's tensors load with a strict ``load_state_dict``. The code is ours; nothing is
taken from NVIDIA's implementation. Noise is the stored constant noise (``noise_const``),
so a latent always renders the same picture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

SQRT2 = math.sqrt(2.0)


# -- shared operations ----------------------------------------------------------------


def fir_2d(taps) -> torch.Tensor:
    """A separable 2D low-pass from 1D taps, normalised to sum 1 (outer product)."""
    f = torch.as_tensor(taps, dtype=torch.float32)
    f = torch.outer(f, f)
    return f / f.sum()


def upfirdn(x: torch.Tensor, f: torch.Tensor | None, up: int = 1, down: int = 1,
            pad: tuple[int, int, int, int] = (0, 0, 0, 0), gain: float = 1.0) -> torch.Tensor:
    """Upsample by zero insertion, pad (negative pads crop), filter with ``f``, keep every
    ``down``-th pixel. ``f`` is 2D (n×n), 1D (separable, the same along both axes) or None
    (no filtering). ``gain`` is the total gain; with zero insertion by ``up`` a gain of
    up² keeps a constant picture constant. ``pad`` is (left, right, top, bottom)."""
    n, c, h, w = x.shape
    if up > 1:
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, (0, up - 1, 0, 0, 0, up - 1))
        x = x.reshape(n, c, h * up, w * up)
    x = F.pad(x, [max(p, 0) for p in pad])
    x = x[:, :, max(-pad[2], 0):x.shape[2] - max(-pad[3], 0), max(-pad[0], 0):x.shape[3] - max(-pad[1], 0)]
    if f is not None:
        f = f.to(x.dtype)
        if f.ndim == 1:
            g = f.flip(0) * math.sqrt(gain)
            x = F.conv2d(x, g.reshape(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
            x = F.conv2d(x, g.reshape(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
        else:
            g = f.flip(0, 1) * gain
            x = F.conv2d(x, g[None, None].expand(c, 1, *g.shape), groups=c)
    elif gain != 1:
        x = x * gain
    if down > 1:
        x = x[:, :, ::down, ::down]
    return x


def upsample2x(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Twice the size: zero insertion, then the 2D FIR ``f`` (even length), centred."""
    taps = f.shape[-1]
    lo, hi = (taps + 1) // 2, (taps - 2) // 2
    return upfirdn(x, f, up=2, pad=(lo, hi, lo, hi), gain=4.0)


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, *,
                     demodulate: bool = True, padding: int = 0,
                     input_gain: torch.Tensor | None = None,
                     up_filter: torch.Tensor | None = None, fused: bool = True) -> torch.Tensor:
    """StyleGAN2 Eq. 1 and 3: scale the input channels of ``weight`` per sample by
    ``styles`` (n, in), then normalise each output channel to unit expected variance;
    one grouped convolution for the whole batch.

    With ``up_filter`` the output has twice the size: a stride-2 transposed convolution
    (the kernel applied at the input's resolution, a quarter of the work of upsampling
    first), then the FIR low-pass with gain 4 over its full output, cropped centrally.

    ``fused=False`` computes the same thing as the papers' training code does by default:
    the input scaled by the styles, one convolution with the shared weight for the whole
    batch, the output scaled by the demodulation coefficients. Equal up to rounding, and
    several times faster to train on a CPU than a grouped convolution per sample."""
    n, c_in, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    if not fused:
        return _modulated_conv2d_unfused(x, weight, styles, demodulate, padding, input_gain, up_filter)
    wts = weight.unsqueeze(0) * styles.reshape(n, 1, c_in, 1, 1)
    if input_gain is not None:
        wts = wts * input_gain.reshape(1, 1, -1, 1, 1)
    if demodulate:
        wts = wts * (wts.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8).rsqrt()
    if up_filter is not None:
        # conv_transpose2d convolves; flipping the kernel makes it the same correlation as
        # every other layer's, over the zero-inserted input.
        kernel = wts.flip(3, 4).transpose(1, 2).reshape(n * c_in, c_out, kh, kw)
        out = F.conv_transpose2d(x.reshape(1, n * c_in, h, w), kernel, stride=2, groups=n)
        # The filter's full output over those 2w + kw - 2 pixels is taps - 1 longer;
        # keep its central 2w (the same on both axes: square pictures).
        taps = up_filter.shape[-1]
        excess = out.shape[-1] + taps - 1 - 2 * w
        lo, hi = taps - 1 - excess // 2, taps - 1 - (excess - excess // 2)
        out = upfirdn(out, up_filter, pad=(lo, hi, lo, hi), gain=4.0)
        return out.reshape(n, c_out, out.shape[2], out.shape[3])
    out = F.conv2d(x.reshape(1, n * c_in, h, w), wts.reshape(n * c_out, c_in, kh, kw),
                   padding=padding, groups=n)
    return out.reshape(n, c_out, out.shape[2], out.shape[3])


def _modulated_conv2d_unfused(x, weight, styles, demodulate, padding, input_gain, up_filter):
    n, c_in, _, w = x.shape
    c_out, _, kh, kw = weight.shape
    scale = styles if input_gain is None else styles * input_gain.reshape(1, -1)
    x = x * scale.reshape(n, c_in, 1, 1)
    if up_filter is not None:
        out = F.conv_transpose2d(x, weight.flip(2, 3).transpose(0, 1), stride=2)
        taps = up_filter.shape[-1]
        excess = out.shape[-1] + taps - 1 - 2 * w
        lo, hi = taps - 1 - excess // 2, taps - 1 - (excess - excess // 2)
        out = upfirdn(out, up_filter, pad=(lo, hi, lo, hi), gain=4.0)
    else:
        out = F.conv2d(x, weight, padding=padding)
    if demodulate:  # Σ_ik (s_i w_oik)² = Σ_i s_i² Σ_k w_oik²: a matrix product, not (n, out, in, k, k)
        energy = scale.square() @ weight.square().sum(dim=(2, 3)).t()
        out = out * (energy + 1e-8).rsqrt().reshape(n, c_out, 1, 1)
    return out


def _lrelu(x: torch.Tensor, gain: float = SQRT2, slope: float = 0.2,
           clamp: float | None = None) -> torch.Tensor:
    x = F.leaky_relu(x, slope) * gain if slope != 1 else x * gain
    return x.clamp(-clamp, clamp) if clamp is not None else x


class FullyConnected(nn.Module):
    """A dense layer with equalised learning rate (ProGAN Sec. 4.1)."""

    def __init__(self, in_features: int, out_features: int, activation: str = "linear",
                 lr_multiplier: float = 1.0, bias_init=0.0, weight_init: float = 1.0) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.activation, self.lr_multiplier = activation, lr_multiplier
        self.weight = nn.Parameter(torch.randn(out_features, in_features) * (weight_init / lr_multiplier))
        bias = torch.as_tensor(np.broadcast_to(np.asarray(bias_init, dtype=np.float32), [out_features]).copy())
        self.bias = nn.Parameter(bias / lr_multiplier)
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight.to(x.dtype) * self.weight_gain, self.bias.to(x.dtype) * self.bias_gain)
        return _lrelu(x) if self.activation == "lrelu" else x


class MappingNetwork(nn.Module):
    """z -> w: normalise z to unit second moment, then ``num_layers`` dense layers with a
    learning-rate multiplier (0.01 in the papers); ``w_avg`` is the running mean of w,
    the centre of the truncation trick."""

    def __init__(self, z_dim: int, w_dim: int, num_ws: int, num_layers: int = 8,
                 layer_features: int | None = None, lr_multiplier: float = 0.01) -> None:
        super().__init__()
        self.z_dim, self.w_dim, self.num_ws, self.num_layers = z_dim, w_dim, num_ws, num_layers
        features = [z_dim] + [layer_features or w_dim] * (num_layers - 1) + [w_dim]
        for i in range(num_layers):
            setattr(self, f"fc{i}", FullyConnected(features[i], features[i + 1], "lrelu", lr_multiplier))
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: torch.Tensor, psi: float = 1.0) -> torch.Tensor:
        """(n, z_dim) -> (n, num_ws, w_dim), truncated towards ``w_avg`` by ``psi``."""
        x = z * (z.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()
        for i in range(self.num_layers):
            x = getattr(self, f"fc{i}")(x)
        x = x.unsqueeze(1).repeat(1, self.num_ws, 1)
        return self.w_avg.lerp(x.float(), psi) if psi != 1 else x


# -- StyleGAN2 ------------------------------------------------------------------------


class SynthesisLayer(nn.Module):
    """A modulated 3×3 convolution (optionally after 2× upsampling), noise, bias, leaky ReLU."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, *,
                 up: int = 1, kernel_size: int = 3, conv_clamp: float | None = None,
                 use_noise: bool = True) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.resolution = in_channels, out_channels, resolution
        self.up, self.conv_clamp, self.use_noise = up, conv_clamp, use_noise
        self.fused = True  # training sets False (same result, faster; see modulated_conv2d)
        # Training draws fresh noise for every picture from this generator (StyleGAN's
        # "random" noise mode), so that noise carries only stochastic detail; rendering
        # uses the stored constant noise, so a latent always draws the same picture.
        self.noise_generator: torch.Generator | None = None
        self.affine = FullyConnected(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.register_buffer("resample_filter", fir_2d([1, 3, 3, 1]))
        if use_noise:
            self.register_buffer("noise_const", torch.randn(resolution, resolution))
            self.noise_strength = nn.Parameter(torch.zeros([]))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)
        x = modulated_conv2d(x, self.weight.to(x.dtype), styles, padding=self.weight.shape[-1] // 2,
                             up_filter=self.resample_filter if self.up > 1 else None, fused=self.fused)
        if self.use_noise and self.noise_generator is not None:
            noise = torch.randn(x.shape[0], 1, self.resolution, self.resolution, generator=self.noise_generator)
            x = x + (noise.to(x.device) * self.noise_strength).to(x.dtype)
        elif self.use_noise:
            x = x + (self.noise_const * self.noise_strength).to(x.dtype)
        return _lrelu(x + self.bias.to(x.dtype).reshape(1, -1, 1, 1), clamp=self.conv_clamp)


class ToRGBLayer(nn.Module):
    """A modulated 1×1 convolution to RGB, without demodulation."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int,
                 conv_clamp: float | None = None) -> None:
        super().__init__()
        self.conv_clamp = conv_clamp
        self.fused = True
        self.affine = FullyConnected(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.weight_gain = 1 / math.sqrt(in_channels)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain
        x = modulated_conv2d(x, self.weight.to(x.dtype), styles, demodulate=False, fused=self.fused)
        x = x + self.bias.to(x.dtype).reshape(1, -1, 1, 1)
        return x.clamp(-self.conv_clamp, self.conv_clamp) if self.conv_clamp is not None else x


class SynthesisBlock(nn.Module):
    """One resolution: the learnt 4×4 constant or an upsampling conv, a second conv, and
    a toRGB added to the upsampled picture of the resolutions below ("skip")."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int,
                 img_channels: int, is_last: bool, conv_clamp: float | None = None) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.resolution, self.is_last = resolution, is_last
        self.register_buffer("resample_filter", fir_2d([1, 3, 3, 1]))
        if in_channels == 0:
            self.const = nn.Parameter(torch.randn(out_channels, resolution, resolution))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim, resolution, up=2,
                                        conv_clamp=conv_clamp)
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim, resolution, conv_clamp=conv_clamp)
        self.torgb = ToRGBLayer(out_channels, img_channels, w_dim, conv_clamp=conv_clamp)
        self.num_conv = 1 if in_channels == 0 else 2
        self.num_torgb = 1

    def forward(self, x, img, ws: torch.Tensor):
        i = 0
        if self.in_channels == 0:
            x = self.const.to(ws.dtype).unsqueeze(0).expand(ws.shape[0], -1, -1, -1)
        else:
            x = self.conv0(x, ws[:, 0])
            i = 1
        x = self.conv1(x, ws[:, i])
        if img is not None:
            img = upsample2x(img, self.resample_filter)
        y = self.torgb(x, ws[:, i + 1])
        return x, (y if img is None else img + y)


def channels_for(img_resolution: int, channel_base: int = 32768, channel_max: int = 512) -> dict[int, int]:
    """Feature maps per resolution: channel_base / resolution, at most channel_max."""
    log2 = int(math.log2(img_resolution))
    return {2**i: min(channel_base // 2**i, channel_max) for i in range(2, log2 + 1)}


class SynthesisNetwork(nn.Module):
    """StyleGAN2 synthesis (config F, skip output): W+ (n, num_ws, w_dim) -> pictures."""

    def __init__(self, w_dim: int, img_resolution: int, img_channels: int = 3,
                 channels: dict[int, int] | None = None, conv_clamp: float | None = None) -> None:
        super().__init__()
        log2 = int(math.log2(img_resolution))
        if 2**log2 != img_resolution or img_resolution < 4:
            raise ValueError(f"img_resolution must be a power of two from 4, got {img_resolution}")
        channels = channels or channels_for(img_resolution)
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        self.block_resolutions = [2**i for i in range(2, log2 + 1)]
        self.num_ws = 0
        for res in self.block_resolutions:
            in_c = channels[res // 2] if res > 4 else 0
            block = SynthesisBlock(in_c, channels[res], w_dim, res, img_channels,
                                   is_last=res == img_resolution, conv_clamp=conv_clamp)
            self.num_ws += block.num_conv
            setattr(self, f"b{res}", block)
        self.num_ws += 1  # the last block's toRGB

    def forward(self, ws: torch.Tensor, max_resolution: int | None = None) -> torch.Tensor:
        """``max_resolution`` stops at the first block at least that large: the picture
        so far (a smaller rendering of the same latent, at a fraction of the cost)."""
        x = img = None
        w_idx = 0
        for res in self.block_resolutions:
            block = getattr(self, f"b{res}")
            x, img = block(x, img, ws[:, w_idx:w_idx + block.num_conv + block.num_torgb])
            w_idx += block.num_conv
            if max_resolution is not None and res >= max_resolution:
                break
        return img


# -- StyleGAN3 ------------------------------------------------------------------------


def lowpass(numtaps: int, cutoff: float, width: float, fs: float, radial: bool = False):
    """A Kaiser-windowed sinc (separable) or jinc (radial, 2D) low-pass; None for 1 tap."""
    if numtaps == 1:
        return None
    if not radial:
        import scipy.signal

        return torch.as_tensor(scipy.signal.firwin(numtaps, cutoff, width=width, fs=fs), dtype=torch.float32)
    import scipy.signal
    import scipy.special

    x = (np.arange(numtaps) - (numtaps - 1) / 2) / fs
    r = np.hypot(*np.meshgrid(x, x))
    with np.errstate(invalid="ignore", divide="ignore"):
        f = scipy.special.j1(2 * cutoff * (np.pi * r)) / (np.pi * r)
    f[r == 0] = np.pi * cutoff  # the limit of j1(2πcr)/(πr) at r = 0
    beta = scipy.signal.kaiser_beta(scipy.signal.kaiser_atten(numtaps, width / (fs / 2)))
    window = np.kaiser(numtaps, beta)
    f *= np.outer(window, window)
    return torch.as_tensor(f / f.sum(), dtype=torch.float32)


@dataclass
class LayerSpec:
    """The sampling of one alias-free layer (StyleGAN3 Sec. 3.3, Appendix F)."""

    is_torgb: bool
    is_critically_sampled: bool
    in_channels: int
    out_channels: int
    in_size: list[int]
    out_size: list[int]
    in_sampling_rate: float
    out_sampling_rate: float
    in_cutoff: float
    out_cutoff: float
    in_half_width: float
    out_half_width: float
    conv_kernel: int = 3
    filter_size: int = 6
    lrelu_upsampling: int = 2
    use_radial_filters: bool = False
    conv_clamp: float | None = 256
    extra: dict = field(default_factory=dict)


class SynthesisLayer3(nn.Module):
    """A StyleGAN3 layer: modulated convolution, then the filtered leaky ReLU: upsample
    to a temporary rate, nonlinearity, low-pass and downsample to the output rate."""

    def __init__(self, w_dim: int, spec: LayerSpec) -> None:
        super().__init__()
        s = spec
        self.is_torgb, self.is_critically_sampled = s.is_torgb, s.is_critically_sampled
        self.in_channels, self.out_channels = s.in_channels, s.out_channels
        self.in_size, self.out_size = [int(v) for v in s.in_size], [int(v) for v in s.out_size]
        self.in_sampling_rate, self.out_sampling_rate = s.in_sampling_rate, s.out_sampling_rate
        self.tmp_sampling_rate = max(s.in_sampling_rate, s.out_sampling_rate) * (1 if s.is_torgb else s.lrelu_upsampling)
        self.in_cutoff, self.out_cutoff = s.in_cutoff, s.out_cutoff
        self.in_half_width, self.out_half_width = s.in_half_width, s.out_half_width
        self.conv_kernel, self.conv_clamp = 1 if s.is_torgb else s.conv_kernel, s.conv_clamp
        self.affine = FullyConnected(w_dim, s.in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn(s.out_channels, s.in_channels, self.conv_kernel, self.conv_kernel))
        self.bias = nn.Parameter(torch.zeros(s.out_channels))
        self.register_buffer("magnitude_ema", torch.ones([]))
        # Upsampling: to the temporary rate, low-passed at the input's cutoff.
        self.up_factor = int(round(self.tmp_sampling_rate / s.in_sampling_rate))
        up_taps = s.filter_size * self.up_factor if self.up_factor > 1 and not s.is_torgb else 1
        self.register_buffer("up_filter", lowpass(up_taps, s.in_cutoff, s.in_half_width * 2, self.tmp_sampling_rate))
        # Downsampling: low-passed at the output's cutoff, radial where not critically sampled.
        self.down_factor = int(round(self.tmp_sampling_rate / s.out_sampling_rate))
        down_taps = s.filter_size * self.down_factor if self.down_factor > 1 and not s.is_torgb else 1
        radial = s.use_radial_filters and not s.is_critically_sampled
        self.register_buffer("down_filter", lowpass(down_taps, s.out_cutoff, s.out_half_width * 2,
                                                    self.tmp_sampling_rate, radial))
        # Padding so that a "full" convolution's output, upsampled, filtered and
        # downsampled, lands exactly on out_size: the pixels needed at the temporary rate
        # are (out - 1) * down + 1 plus both filters' support, minus what we have.
        total = [(o - 1) * self.down_factor + 1 - (i + self.conv_kernel - 1) * self.up_factor
                 + up_taps + down_taps - 2 for i, o in zip(self.in_size, self.out_size, strict=True)]
        lo = [(t + self.up_factor) // 2 for t in total]
        self.padding = [lo[0], total[0] - lo[0], lo[1], total[1] - lo[1]]

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)
        weight = self.weight.to(x.dtype)
        if self.is_torgb:
            styles = styles / math.sqrt(self.in_channels * self.conv_kernel**2)
        else:  # pre-normalise weights and styles (numerical range; demodulation follows)
            weight = weight * weight.square().mean(dim=(1, 2, 3), keepdim=True).rsqrt()
            styles = styles * styles.square().mean().rsqrt()
        gain_in = self.magnitude_ema.rsqrt().to(x.dtype).expand(self.in_channels)
        x = modulated_conv2d(x, weight, styles, demodulate=not self.is_torgb,
                             padding=self.conv_kernel - 1, input_gain=gain_in)
        x = x + self.bias.to(x.dtype).reshape(1, -1, 1, 1)
        up_gain = float(self.up_factor**2)
        x = upfirdn(x, self.up_filter, up=self.up_factor, pad=tuple(self.padding), gain=up_gain)
        x = _lrelu(x, gain=1.0 if self.is_torgb else SQRT2, slope=1.0 if self.is_torgb else 0.2,
                   clamp=self.conv_clamp)
        return upfirdn(x, self.down_filter, down=self.down_factor)


class SynthesisInput(nn.Module):
    """Fourier features (StyleGAN3 Sec. 3.2): sinusoids of fixed random frequencies within
    ``bandwidth``, rotated and translated per sample by a transform predicted from w,
    faded out near the band limit, then mixed by a learnt matrix."""

    def __init__(self, w_dim: int, channels: int, size, sampling_rate: float, bandwidth: float) -> None:
        super().__init__()
        self.w_dim, self.channels = w_dim, channels
        self.size = [int(v) for v in np.broadcast_to(size, [2])]
        self.sampling_rate, self.bandwidth = sampling_rate, bandwidth
        freqs = torch.randn(channels, 2)
        radii = freqs.square().sum(dim=1, keepdim=True).sqrt()
        freqs = freqs / (radii * radii.square().exp().pow(0.25)) * bandwidth
        self.weight = nn.Parameter(torch.randn(channels, channels))
        self.affine = FullyConnected(w_dim, 4, weight_init=0, bias_init=[1, 0, 0, 0])
        self.register_buffer("transform", torch.eye(3))
        self.register_buffer("freqs", freqs)
        self.register_buffer("phases", torch.rand(channels) - 0.5)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        n = w.shape[0]
        t = self.affine(w)  # (cos, sin, tx, ty) of the per-sample rotation and translation
        t = t / t[:, :2].norm(dim=1, keepdim=True)
        rot = torch.eye(3, device=w.device, dtype=t.dtype).repeat(n, 1, 1)
        rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1] = t[:, 0], -t[:, 1], t[:, 1], t[:, 0]
        shift = torch.eye(3, device=w.device, dtype=t.dtype).repeat(n, 1, 1)
        shift[:, 0, 2], shift[:, 1, 2] = -t[:, 2], -t[:, 3]
        transform = rot @ shift @ self.transform.to(t.dtype).unsqueeze(0)
        freqs = self.freqs.to(t.dtype).unsqueeze(0)
        phases = self.phases.to(t.dtype).unsqueeze(0) + (freqs @ transform[:, :2, 2:]).squeeze(2)
        freqs = freqs @ transform[:, :2, :2]
        # Fade out frequencies close to the sampling limit.
        amp = (1 - (freqs.norm(dim=2) - self.bandwidth) / (self.sampling_rate / 2 - self.bandwidth)).clamp(0, 1)
        # Pixel centres in input units: the canvas spans size / sampling_rate.
        sx, sy = self.size
        xs = (torch.arange(sx, dtype=t.dtype, device=w.device) + 0.5 - sx / 2) / self.sampling_rate
        ys = (torch.arange(sy, dtype=t.dtype, device=w.device) + 0.5 - sy / 2) / self.sampling_rate
        grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1)  # (sy, sx, 2)
        x = torch.einsum("hwk,nck->nhwc", grid, freqs) + phases[:, None, None, :]
        x = torch.sin(x * (2 * math.pi)) * amp[:, None, None, :]
        x = x @ (self.weight.to(x.dtype) / math.sqrt(self.channels)).t()
        return x.permute(0, 3, 1, 2)


def stylegan3_specs(img_resolution: int, img_channels: int = 3, channel_base: int = 32768,
                    channel_max: int = 512, num_layers: int = 14, num_critical: int = 2,
                    first_cutoff: float = 2, first_stopband: float = 2**2.1,
                    last_stopband_rel: float = 2**0.3, margin_size: int = 10,
                    use_radial_filters: bool = False, conv_kernel: int = 3,
                    conv_clamp: float | None = 256) -> tuple[dict, list[LayerSpec]]:
    """The input's settings and each layer's sampling, from the geometric schedule of
    StyleGAN3 Appendix F: cutoff and stopband rise geometrically from the first layer to
    the last ``num_critical`` layers (critically sampled at the output's Nyquist rate);
    sampling rates are the next power of two above twice the stopband; every layer but
    the last two carries a margin of ``margin_size`` pixels on each side."""
    last_cutoff = img_resolution / 2
    last_stopband = last_cutoff * last_stopband_rel
    exps = np.minimum(np.arange(num_layers + 1) / (num_layers - num_critical), 1)
    cutoffs = first_cutoff * (last_cutoff / first_cutoff) ** exps
    stopbands = first_stopband * (last_stopband / first_stopband) ** exps
    rates = np.exp2(np.ceil(np.log2(np.minimum(stopbands * 2, img_resolution))))
    half_widths = np.maximum(stopbands, rates / 2) - cutoffs
    sizes = rates + margin_size * 2
    sizes[-2:] = img_resolution
    channels = np.rint(np.minimum((channel_base / 2) / cutoffs, channel_max))
    channels[-1] = img_channels
    first = {"channels": int(channels[0]), "size": int(sizes[0]), "sampling_rate": float(rates[0]),
             "bandwidth": float(cutoffs[0])}
    specs = []
    for i in range(num_layers + 1):
        p = max(i - 1, 0)
        specs.append(LayerSpec(
            is_torgb=i == num_layers, is_critically_sampled=i >= num_layers - num_critical,
            in_channels=int(channels[p]), out_channels=int(channels[i]),
            in_size=[int(sizes[p])] * 2, out_size=[int(sizes[i])] * 2,
            in_sampling_rate=float(rates[p]), out_sampling_rate=float(rates[i]),
            in_cutoff=float(cutoffs[p]), out_cutoff=float(cutoffs[i]),
            in_half_width=float(half_widths[p]), out_half_width=float(half_widths[i]),
            conv_kernel=conv_kernel, use_radial_filters=use_radial_filters, conv_clamp=conv_clamp))
    return first, specs


class SynthesisNetwork3(nn.Module):
    """StyleGAN3 synthesis: Fourier input, then alias-free layers named
    ``L{index}_{size}_{channels}``; W+ has num_layers + 2 rows (input, layers, toRGB)."""

    def __init__(self, w_dim: int, img_resolution: int, img_channels: int, first: dict,
                 specs: list[LayerSpec], output_scale: float = 0.25,
                 names: list[str] | None = None) -> None:
        super().__init__()
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        self.num_layers = len(specs) - 1
        self.num_ws = len(specs) + 1
        self.output_scale = output_scale
        self.input = SynthesisInput(w_dim, first["channels"], first["size"], first["sampling_rate"],
                                    first["bandwidth"])
        self.layer_names = []
        for i, spec in enumerate(specs):
            name = names[i] if names else f"L{i}_{spec.out_size[0]}_{spec.out_channels}"
            setattr(self, name, SynthesisLayer3(w_dim, spec))
            self.layer_names.append(name)

    def forward(self, ws: torch.Tensor, max_resolution: int | None = None) -> torch.Tensor:
        x = self.input(ws[:, 0])
        for i, name in enumerate(self.layer_names):
            x = getattr(self, name)(x, ws[:, i + 1])
        return x * self.output_scale


class Generator(nn.Module):
    """Mapping plus synthesis; ``synthesis`` is a StyleGAN2 or StyleGAN3 network."""

    def __init__(self, mapping: MappingNetwork, synthesis: nn.Module, z_dim: int) -> None:
        super().__init__()
        self.z_dim, self.w_dim = z_dim, synthesis.w_dim
        self.img_resolution, self.img_channels = synthesis.img_resolution, synthesis.img_channels
        self.num_ws = synthesis.num_ws
        self.mapping, self.synthesis = mapping, synthesis

    def forward(self, z: torch.Tensor, psi: float = 1.0) -> torch.Tensor:
        return self.synthesis(self.mapping(z, psi))


def stylegan2(z_dim: int = 512, w_dim: int = 512, img_resolution: int = 1024, img_channels: int = 3,
              channel_base: int = 32768, channel_max: int = 512, mapping_layers: int = 8,
              conv_clamp: float | None = 256, channels: dict[int, int] | None = None) -> Generator:
    """A StyleGAN2 generator with random weights (the official defaults)."""
    synthesis = SynthesisNetwork(w_dim, img_resolution, img_channels,
                                 channels or channels_for(img_resolution, channel_base, channel_max), conv_clamp)
    mapping = MappingNetwork(z_dim, w_dim, synthesis.num_ws, mapping_layers)
    return Generator(mapping, synthesis, z_dim).eval().requires_grad_(False)


def stylegan3(z_dim: int = 512, w_dim: int = 512, img_resolution: int = 1024, img_channels: int = 3,
              mapping_layers: int = 2, **schedule) -> Generator:
    """A StyleGAN3 generator with random weights (config T; ``use_radial_filters=True``
    for config R)."""
    first, specs = stylegan3_specs(img_resolution, img_channels, **schedule)
    synthesis = SynthesisNetwork3(w_dim, img_resolution, img_channels, first, specs)
    mapping = MappingNetwork(z_dim, w_dim, synthesis.num_ws, mapping_layers)
    return Generator(mapping, synthesis, z_dim).eval().requires_grad_(False)
