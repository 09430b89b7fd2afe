"""Training a StyleGAN2-type generator from pictures: pure torch, no site.

The generator is the project's own StyleGAN2 (``inference.stylegan_nets``), sized for a
small resolution so that it trains in hours and renders fast on a CPU; when training ends
its moving average is written as a safetensors export that ``inference.stylegan`` loads
like any other StyleGAN (``export``). The recipe, with its sources:

- **Losses**: the non-saturating logistic loss (Goodfellow et al. 2014, Sec. 3), as in
  StyleGAN2 (Karras et al. 2020a, Appendix B): D minimises softplus(D(G(z))) +
  softplus(-D(x)), G minimises softplus(-D(G(z))).
- **R1** (Mescheder et al. 2018, Eq. 9): γ/2 · E‖∇D(x)‖² on real pictures, applied lazily
  every ``r1_every`` minibatches with the penalty scaled up by that interval and Adam's
  learning rate and β adjusted for it (StyleGAN2 Sec. 3.1, "lazy regularization"). γ from
  the heuristic of StyleGAN2-ADA's automatic config: 0.0002 · resolution² / batch
  (Karras et al. 2020b, Appendix D.2).
- **Moving average of G** (Karras et al. 2018, ProGAN Sec. 4; Yazıcı et al. 2019): the
  exported generator is the average with a half-life of ``ema_kimg`` thousand pictures,
  ramped up early in training (ADA's ``ema_rampup`` 0.05).
- **Style mixing** (Karras et al. 2019, StyleGAN Sec. 3.1): with probability ``mixing`` a
  picture's W+ rows after a random cutoff come from a second latent, so that coarse,
  middle and fine rows act apart (the crosses by layer group rely on it).
- **Differentiable augmentation** (Zhao et al. 2020, "Differentiable Augmentation for
  Data-Efficient GAN Training", policy "color,translation,cutout"): every picture D sees,
  real or generated, is augmented by the same differentiable random transforms, so that
  a few thousand pictures suffice without D memorising them.
- **Discriminator**: StyleGAN2's residual D (Fig. 7b) with FIR-filtered downsampling,
  the minibatch standard deviation layer (ProGAN Sec. 3) and equalised learning rate.
- **Optimiser**: Adam, learning rate 0.0025, β = (0, 0.99), ε = 1e-8 (StyleGAN2).
  Path length regularisation is left out, as in ADA's configuration for small datasets.

Noise inputs are drawn afresh for every picture while training (StyleGAN's random noise,
from the run's generator), so that they carry only stochastic detail; the moving average
renders with the stored constant noise, as the space does. Training on the CPU uses the unfused
modulated convolution (same result up to rounding, several times faster to train).

**Determinism.** Every random draw (latents, minibatches, mirroring, augmentation, mixing)
comes from one ``torch.Generator`` seeded by ``seed`` and saved in every checkpoint, so a
run resumed from a checkpoint continues exactly as one never stopped, and two runs with
the same seed, data, torch version, device and thread count are bit-identical. Across
thread counts, CPUs with other vector units or GPUs, convolutions sum in other orders and
runs drift apart within a few hundred steps (the pictures are alike in kind, not in bits).
"""

from __future__ import annotations

import io
import math
import time
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from inference import stylegan_nets as nets

RESOLUTIONS = (16, 32, 64, 128)
#: Feature maps per resolution, for the generator and (mirrored) the discriminator:
#: small enough to train in hours on two cores at 64 px and render fast on them.
CHANNELS = {4: 192, 8: 192, 16: 128, 32: 64, 64: 32, 128: 16}
CHECKPOINT_FORMAT = "mendel.gan/1"


@dataclass
class Recipe:
    """A training run's choices; everything else follows from them."""

    resolution: int = 64
    seed: int = 0
    z_dim: int = 256
    w_dim: int = 256
    mapping_layers: int = 2
    channels: dict[int, int] = field(default_factory=dict)
    batch: int = 32
    lr: float = 0.0025
    r1_gamma: float = 0.0  # 0: the ADA heuristic
    r1_every: int = 16
    ema_kimg: float = 10.0
    ema_rampup: float = 0.05
    mixing: float = 0.9
    augment: str = "color,translation,cutout"
    mirror: bool = True

    def __post_init__(self) -> None:
        if self.resolution not in RESOLUTIONS:
            raise ValueError(f"resolution must be one of {', '.join(map(str, RESOLUTIONS))} px, got {self.resolution}")
        if not self.channels:
            self.channels = {r: c for r, c in CHANNELS.items() if r <= self.resolution}
        self.channels = {int(k): int(v) for k, v in self.channels.items()}
        if not self.r1_gamma:
            self.r1_gamma = 0.0002 * self.resolution**2 / self.batch
        unknown = set(self.augment.split(",")) - set(AUGMENTS) - {""}
        if unknown:
            raise ValueError(f"unknown augmentation {', '.join(sorted(unknown))} (known: {', '.join(AUGMENTS)})")

    def generator_config(self) -> dict:
        """The config ``inference.stylegan.build`` makes the generator from."""
        return {"arch": "stylegan2", "z_dim": self.z_dim, "w_dim": self.w_dim,
                "img_resolution": self.resolution, "img_channels": 3,
                "mapping_layers": self.mapping_layers, "lr_multiplier": 0.01,
                "layer_features": self.w_dim, "channels": dict(self.channels), "conv_clamp": 256.0}


# -- differentiable augmentation (Zhao et al. 2020) ------------------------------------------


def _rand(gen: torch.Generator, n: int, *shape, device=None) -> torch.Tensor:
    """Random draws always come from the CPU generator (the same draws on every device)."""
    return torch.rand(n, *shape, generator=gen).to(device)


def aug_color(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Brightness ±0.5, saturation ×[0, 2], contrast ×[0.5, 1.5] (pictures in [-1, 1])."""
    n, d = x.shape[0], x.device
    x = x + (_rand(gen, n, 1, 1, 1, device=d) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_rand(gen, n, 1, 1, 1, device=d) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_rand(gen, n, 1, 1, 1, device=d) + 0.5) + mean


def aug_translation(x: torch.Tensor, gen: torch.Generator, ratio: float = 0.125) -> torch.Tensor:
    """A shift of up to ``ratio`` of the side on each axis, the uncovered border zero."""
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ty = torch.randint(-sh, sh + 1, (n, 1, 1), generator=gen)
    tx = torch.randint(-sw, sw + 1, (n, 1, 1), generator=gen)
    ys = torch.arange(h).reshape(1, h, 1) - ty
    xs = torch.arange(w).reshape(1, 1, w) - tx
    inside = ((ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)).unsqueeze(1).to(x.device)
    idx = (ys.clamp(0, h - 1) * w + xs.clamp(0, w - 1)).reshape(n, 1, h * w).to(x.device).expand(-1, x.shape[1], -1)
    out = x.reshape(n, x.shape[1], h * w).gather(2, idx).reshape(x.shape)
    return out * inside


def aug_cutout(x: torch.Tensor, gen: torch.Generator, ratio: float = 0.5) -> torch.Tensor:
    """A square of ``ratio`` of the side set to zero, at a random place."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), generator=gen)
    cx = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), generator=gen)
    ys = torch.arange(h).reshape(1, h, 1)
    xs = torch.arange(w).reshape(1, 1, w)
    hole = ((ys - cy).abs() <= ch // 2) & ((xs - cx).abs() <= cw // 2)
    return x * (~hole).unsqueeze(1).to(x.device)


AUGMENTS = {"color": aug_color, "translation": aug_translation, "cutout": aug_cutout}


def augment(x: torch.Tensor, policy: str, gen: torch.Generator) -> torch.Tensor:
    for name in filter(None, policy.split(",")):
        x = AUGMENTS[name](x, gen)
    return x


# -- the discriminator (StyleGAN2, residual) --------------------------------------------------


class Conv(nn.Module):
    """A convolution with equalised learning rate; ``down`` blurs with the FIR [1, 3, 3, 1]
    then strides by 2 (StyleGAN2's downsampling)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, *, bias: bool = True,
                 activate: bool = True, down: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(c_out)) if bias else None
        self.gain = 1 / math.sqrt(c_in * kernel * kernel)
        self.kernel, self.activate, self.down = kernel, activate, down
        self.register_buffer("resample_filter", nets.fir_2d([1, 3, 3, 1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight * self.gain
        if self.down:
            if self.kernel == 1:
                x = nets.upfirdn(x, self.resample_filter, down=2, pad=(1, 1, 1, 1))
                x = F.conv2d(x, w)
            else:
                p = (self.resample_filter.shape[-1] - 2 + self.kernel - 1) // 2
                x = nets.upfirdn(x, self.resample_filter, pad=(p, p, p, p))
                x = F.conv2d(x, w, stride=2)
        else:
            x = F.conv2d(x, w, padding=self.kernel // 2)
        if self.bias is not None:
            x = x + self.bias.reshape(1, -1, 1, 1)
        return F.leaky_relu(x, 0.2) * math.sqrt(2) if self.activate else x


class DBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv0 = Conv(c_in, c_in, 3)
        self.conv1 = Conv(c_in, c_out, 3, down=True)
        self.skip = Conv(c_in, c_out, 1, bias=False, activate=False, down=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.skip(x) + self.conv1(self.conv0(x))) * math.sqrt(0.5)


class Discriminator(nn.Module):
    """Pictures (n, 3, R, R) in [-1, 1] -> a logit each."""

    def __init__(self, resolution: int, channels: dict[int, int], group: int = 4) -> None:
        super().__init__()
        self.resolution, self.group = resolution, group
        self.fromrgb = Conv(3, channels[resolution], 1)
        blocks = []
        res = resolution
        while res > 4:
            blocks.append(DBlock(channels[res], channels[res // 2]))
            res //= 2
        self.blocks = nn.ModuleList(blocks)
        c = channels[4]
        self.conv = Conv(c + 1, c, 3)
        self.fc = nn.Parameter(torch.randn(c, c * 16))
        self.fc_bias = nn.Parameter(torch.zeros(c))
        self.out = nn.Parameter(torch.randn(1, c))
        self.out_bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.fromrgb(x)
        for block in self.blocks:
            x = block(x)
        n, c, h, w = x.shape
        g = min(self.group, n)
        # Minibatch standard deviation (ProGAN Sec. 3), over groups of g pictures.
        y = x.reshape(g, -1, c, h, w)
        y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))
        y = y.reshape(-1, 1, 1, 1).repeat(g, 1, h, w)
        x = self.conv(torch.cat([x, y], dim=1)).flatten(1)
        x = F.leaky_relu(F.linear(x, self.fc / math.sqrt(self.fc.shape[1]), self.fc_bias), 0.2) * math.sqrt(2)
        return F.linear(x, self.out / math.sqrt(self.out.shape[1]), self.out_bias).squeeze(1)


# -- the trainer ----------------------------------------------------------------------------


def _set_fused(module: nn.Module, fused: bool) -> None:
    for m in module.modules():
        if hasattr(m, "fused"):
            m.fused = fused


def build_generator(recipe: Recipe) -> nets.Generator:
    from inference.stylegan import build

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed)
        return build(recipe.generator_config())


@dataclass
class Step:
    """What one minibatch did: losses and where training stands."""

    step: int
    nimg: int
    g_loss: float
    d_loss: float
    r1: float | None
    real_score: float
    fake_score: float


class Trainer:
    """A training run over ``pictures`` (n, 3, R, R) uint8 at the recipe's resolution.

    ``step()`` trains on one minibatch; ``state()`` and ``Trainer.resume`` make and read
    a checkpoint (bytes) from which the run continues bit for bit."""

    def __init__(self, pictures: torch.Tensor, recipe: Recipe, device: str = "cpu") -> None:
        if pictures.dtype != torch.uint8 or pictures.ndim != 4 or pictures.shape[1] != 3:
            raise ValueError("pictures must be a uint8 tensor of shape (n, 3, R, R)")
        if tuple(pictures.shape[2:]) != (recipe.resolution, recipe.resolution):
            raise ValueError(f"pictures must be {recipe.resolution} px, got {tuple(pictures.shape[2:])}")
        if pictures.shape[0] < 2:
            raise ValueError("training needs at least two pictures")
        self.device = torch.device(device)
        self.pictures, self.recipe = pictures.to(self.device), recipe
        self.G = build_generator(recipe).train().requires_grad_(True).to(self.device)
        _set_fused(self.G, False)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(recipe.seed + 1)
            self.D = Discriminator(recipe.resolution, recipe.channels).to(self.device)
        self.G_ema = build_generator(recipe).eval().requires_grad_(False).to(self.device)
        self.G_ema.load_state_dict(self.G.state_dict())
        _set_fused(self.G_ema, False)
        ratio = recipe.r1_every / (recipe.r1_every + 1)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=recipe.lr, betas=(0.0, 0.99), eps=1e-8)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=recipe.lr * ratio,
                                      betas=(0.0, 0.99**ratio), eps=1e-8)
        self.rng = torch.Generator().manual_seed(recipe.seed)
        for layer in self.G.modules():  # random noise per picture while training
            if isinstance(layer, nets.SynthesisLayer):
                layer.noise_generator = self.rng
        self.fixed_z = torch.randn(64, recipe.z_dim, generator=torch.Generator().manual_seed(recipe.seed + 2))
        self.step_count = 0
        self.nimg = 0
        self.seconds = 0.0

    # -- one minibatch ---------------------------------------------------------------

    def _reals(self) -> torch.Tensor:
        r = self.recipe
        idx = torch.randint(0, self.pictures.shape[0], (r.batch,), generator=self.rng)
        x = self.pictures[idx.to(self.device)].float() / 127.5 - 1
        if r.mirror:
            flip = (torch.rand(r.batch, generator=self.rng) < 0.5).to(self.device)
            x = torch.where(flip.reshape(-1, 1, 1, 1), x.flip(3), x)
        return x

    def _ws(self, n: int) -> torch.Tensor:
        r, G = self.recipe, self.G
        ws = G.mapping(torch.randn(n, r.z_dim, generator=self.rng).to(self.device))
        if r.mixing > 0:
            mix = G.mapping(torch.randn(n, r.z_dim, generator=self.rng).to(self.device))
            cutoff = torch.randint(1, G.num_ws, (n,), generator=self.rng)
            cutoff = torch.where(torch.rand(n, generator=self.rng) < r.mixing, cutoff, torch.full_like(cutoff, G.num_ws))
            rows = (torch.arange(G.num_ws).reshape(1, -1, 1) >= cutoff.reshape(-1, 1, 1)).to(self.device)
            ws = torch.where(rows, mix, ws)
        return ws

    def _d(self, x: torch.Tensor) -> torch.Tensor:
        return self.D(augment(x, self.recipe.augment, self.rng))

    def step(self) -> Step:
        r = self.recipe
        started = time.perf_counter()
        # G: make D call its pictures real.
        self.D.requires_grad_(False)
        self.G.requires_grad_(True)
        ws = self._ws(r.batch)
        fake_score = self._d(self.G.synthesis(ws))
        g_loss = F.softplus(-fake_score).mean()
        self.opt_G.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_G.step()
        with torch.no_grad():  # the centre of truncation follows W (StyleGAN2's w_avg_beta)
            self.G.mapping.w_avg.lerp_(ws[:, 0].float().mean(dim=0), 1 - 0.995)
        # D: tell real from generated.
        self.G.requires_grad_(False)
        self.D.requires_grad_(True)
        with torch.no_grad():
            fake = self.G.synthesis(self._ws(r.batch))
        reals = self._reals()
        fake_logits, real_logits = self._d(fake), self._d(reals)
        d_loss = F.softplus(fake_logits).mean() + F.softplus(-real_logits).mean()
        self.opt_D.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_D.step()
        # Lazy R1 on a fresh minibatch of reals.
        r1 = None
        if self.step_count % r.r1_every == 0:
            x = self._reals().requires_grad_(True)
            logits = self._d(x)
            (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
            penalty = grad.square().sum(dim=(1, 2, 3))
            self.opt_D.zero_grad(set_to_none=True)
            (penalty.mean() * (r.r1_gamma / 2) * r.r1_every).backward()
            self.opt_D.step()
            r1 = float(penalty.detach().mean())
        # The moving average of G.
        self.nimg += r.batch
        self.step_count += 1
        ema_nimg = r.ema_kimg * 1000
        if r.ema_rampup:
            ema_nimg = min(ema_nimg, self.nimg * r.ema_rampup)
        beta = 0.5 ** (r.batch / max(ema_nimg, 1e-8))
        with torch.no_grad():
            for p_ema, p in zip(self.G_ema.parameters(), self.G.parameters(), strict=True):
                p_ema.copy_(p.detach().lerp(p_ema, beta))
            for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers(), strict=True):
                b_ema.copy_(b)
        self.seconds += time.perf_counter() - started
        return Step(step=self.step_count, nimg=self.nimg, g_loss=float(g_loss.detach()), d_loss=float(d_loss.detach()), r1=r1,
                    real_score=float(real_logits.detach().mean()), fake_score=float(fake_logits.detach().mean()))

    # -- looking and keeping ---------------------------------------------------------

    @torch.no_grad()
    def samples(self, n: int = 16, psi: float = 1.0) -> torch.Tensor:
        """(n, R, R, 3) uint8 pictures of the moving average from fixed latents, so that
        successive sample grids show the same pictures growing."""
        img = self.G_ema(self.fixed_z[:n].to(self.device), psi)
        return (img * 127.5 + 128).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu()

    def state(self) -> bytes:
        """A checkpoint: everything the run needs to continue exactly (no pictures)."""
        buffer = io.BytesIO()
        torch.save({
            "format": CHECKPOINT_FORMAT, "recipe": asdict(self.recipe),
            "G": self.G.state_dict(), "D": self.D.state_dict(), "G_ema": self.G_ema.state_dict(),
            "opt_G": self.opt_G.state_dict(), "opt_D": self.opt_D.state_dict(),
            "rng": self.rng.get_state(), "step": self.step_count, "nimg": self.nimg,
            "seconds": self.seconds,
        }, buffer)
        return buffer.getvalue()

    @classmethod
    def resume(cls, pictures: torch.Tensor, checkpoint: bytes, device: str = "cpu") -> Trainer:
        """The run a checkpoint was made from, continued over the same ``pictures``."""
        state = torch.load(io.BytesIO(checkpoint), weights_only=True, map_location="cpu")
        if state.get("format") != CHECKPOINT_FORMAT:
            raise ValueError("not a Mendel training checkpoint")
        recipe = state["recipe"]
        recipe["channels"] = {int(k): v for k, v in recipe["channels"].items()}
        trainer = cls(pictures, Recipe(**recipe), device)
        trainer.G.load_state_dict(state["G"])
        trainer.D.load_state_dict(state["D"])
        trainer.G_ema.load_state_dict(state["G_ema"])
        trainer.opt_G.load_state_dict(state["opt_G"])
        trainer.opt_D.load_state_dict(state["opt_D"])
        trainer.rng.set_state(state["rng"])
        trainer.step_count, trainer.nimg = int(state["step"]), int(state["nimg"])
        trainer.seconds = float(state["seconds"])
        return trainer

    @classmethod
    def continuing(cls, pictures: torch.Tensor, weights, device: str = "cpu",
                   seed: int | None = None) -> Trainer:
        """A run that goes on from an exported generator (``export``): the generator and its
        moving average start from the export's weights, its recipe and count of pictures
        shown carry over, and the discriminator and optimisers start fresh (an export keeps
        only the average). ``seed``, when given, replaces the recipe's for what is drawn
        from here on."""
        import json

        from safetensors import safe_open
        from safetensors.torch import load_file

        with safe_open(str(weights), "pt") as f:
            meta = f.metadata() or {}
        if "mendel.recipe" not in meta:
            raise ValueError("not a generator exported by Mendel's trainer")
        recipe = json.loads(meta["mendel.recipe"])
        recipe["channels"] = {int(k): v for k, v in recipe["channels"].items()}
        if seed is not None:
            recipe["seed"] = seed
        trainer = cls(pictures, Recipe(**recipe), device)
        tensors = load_file(str(weights))
        trainer.G.load_state_dict(tensors)
        trainer.G_ema.load_state_dict(tensors)
        trainer.nimg = int(meta.get("mendel.nimg", 0))
        return trainer

    def export(self, path, **metadata: str) -> None:
        """Write the moving average as a safetensors export (``inference.stylegan`` loads
        it), with ``metadata`` (how it was trained) beside its config."""
        export_generator(self.G_ema, self.recipe, path, nimg=self.nimg, **metadata)


def export_generator(G: nets.Generator, recipe: Recipe, path, **metadata) -> None:
    import json

    from safetensors.torch import save_file

    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in G.state_dict().items()}
    meta = {"mendel.stylegan": json.dumps(recipe.generator_config()),
            "mendel.recipe": json.dumps(asdict(recipe))}
    meta.update({f"mendel.{k}": str(v) for k, v in metadata.items()})
    save_file(tensors, str(path), metadata=meta)


def grid(pictures: torch.Tensor, columns: int | None = None, pad: int = 2) -> torch.Tensor:
    """(n, h, w, 3) uint8 -> one (H, W, 3) sheet on white."""
    n, h, w, _ = pictures.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    sheet = torch.full((rows * (h + pad) + pad, columns * (w + pad) + pad, 3), 255, dtype=torch.uint8)
    for i in range(n):
        y, x = divmod(i, columns)
        sheet[pad + y * (h + pad):pad + y * (h + pad) + h, pad + x * (w + pad):pad + x * (w + pad) + w] = pictures[i]
    return sheet


# -- a run: steps, checkpoints, progress ---------------------------------------------------


@dataclass
class Progress:
    """Where a run stands, for whoever watches it."""

    nimg: int
    total: int
    step: Step | None
    pictures_per_s: float
    seconds_left: float | None


def train(trainer: Trainer, total: int, *, save, every_s: float = 300.0, report=None,
          report_every_s: float = 10.0, should_stop=None, clock=time.monotonic) -> bool:
    """Train until ``total`` pictures have been shown. ``save(checkpoint_bytes, trainer)``
    runs every ``every_s`` seconds and at the end; ``report(Progress)`` every
    ``report_every_s``; ``should_stop()`` is asked after every minibatch (a cancelled or
    stopping run checkpoints and returns False). True when the run reached ``total``."""
    started = last_save = last_report = clock()
    start_nimg = trainer.nimg
    step = None
    while trainer.nimg < total:
        step = trainer.step()
        now = clock()
        if report is not None and (now - last_report >= report_every_s or trainer.nimg >= total):
            rate = (trainer.nimg - start_nimg) / max(now - started, 1e-9)
            left = (total - trainer.nimg) / rate if rate > 0 else None
            report(Progress(trainer.nimg, total, step, rate, left))
            last_report = now
        if should_stop is not None and should_stop():
            save(trainer.state(), trainer)
            return False
        if now - last_save >= every_s and trainer.nimg < total:
            save(trainer.state(), trainer)
            last_save = now
    save(trainer.state(), trainer)
    return True
