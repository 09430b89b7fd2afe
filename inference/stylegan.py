"""The ``stylegan`` space: StyleGAN2, StyleGAN2-ADA and StyleGAN3 generators from local
weights.

Weights come from a training snapshot pickle (read by ``inference.snapshot``, which never
runs the code such a pickle embeds) or from a safetensors export of it (``export``); the
networks are our own (``inference.stylegan_nets``). The space's version is the digest of
the file, so a changed file is a new version.

- **Latent**: W+, one w per synthesis input (``num_ws`` × ``w_dim``). Not Gaussian:
  crossing and morphing interpolate linearly, as in the papers' style mixing.
- **Sampling**: z ~ N(0, I) through the mapping network, truncated towards ``w_avg`` by
  ``truncation`` (Karras et al. 2019, Sec. 3; ψ = 0.7 by default).
- **Layer groups**: coarse (4–8 px blocks), middle (16–32 px), fine (64 px and up), after
  the style-mixing study of StyleGAN Sec. 3.1; ``coarse_layers`` (the content/style split
  of the breeding core) is the end of the middle group.
- **Genes**: closed-form factorisation of the style affines (``factor_directions``: Shen
  and Zhou 2021, "Closed-form factorization of latent semantics in GANs") needs no
  samples; principal components of W come from the generic gene discovery.
- **Projection**: optimisation in W, then W+ (Abdal et al. 2019, Image2StyleGAN).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from inference import stylegan_nets as nets
from inference.scheduler import span_workers
from inference.snapshot import Record, Refused, load_snapshot
from inference.space import SpaceStats, check_count, check_latents, check_size, file_digest

#: Above this many multiply-adds per picture a generator is too slow for the CPU (about
#: 0.1 s a picture on two cores): a 1024 px StyleGAN2 (config F) is 74 GMAC, a 256 px one
#: of the "paper256" config 15.
CPU_MAX_GMAC = 5.0
STATS_SAMPLES = 2048
DEFAULT_TRUNCATION = 0.7
SUFFIXES = (".pkl", ".safetensors")


# -- configs: what a generator is, as plain data ----------------------------------------


def _attr(record: Record, name: str, default=None):
    value = record.get(name, record.init_kwargs.get(name, default))
    if value is None and default is None:
        raise Refused(f"the {record.class_name} network does not say its {name}")
    return value


def config_from_record(g: Record) -> dict:
    """The architecture of a snapshot's generator, from its records' attributes and tensor
    shapes; never from its embedded source."""
    c_dim = int(_attr(g, "c_dim", 0) or 0)
    if c_dim:
        raise Refused(f"conditional generators (c_dim = {c_dim}) are not supported")
    mapping, synthesis = g.child("mapping"), g.child("synthesis")
    fc0 = mapping.child("fc0")
    config = {
        "z_dim": int(_attr(g, "z_dim")),
        "w_dim": int(_attr(g, "w_dim")),
        "img_resolution": int(_attr(g, "img_resolution")),
        "img_channels": int(_attr(g, "img_channels", 3)),
        "mapping_layers": int(_attr(mapping, "num_layers")),
        "lr_multiplier": float(fc0.get("lr_multiplier", 0.01)),
        "layer_features": int(fc0["_parameters"]["weight"].shape[0]),
    }
    if "input" in synthesis.children:
        first = synthesis.child("input")
        config["arch"] = "stylegan3"
        config["output_scale"] = float(synthesis.get("output_scale", 1.0))
        config["first"] = {"channels": int(first["channels"]), "size": [int(v) for v in first["size"]],
                           "sampling_rate": float(first["sampling_rate"]),
                           "bandwidth": float(first["bandwidth"])}
        layers = []
        for name in synthesis.get("layer_names") or []:
            layer = synthesis.child(name)
            spec = {key: layer.get(key) for key in (
                "is_torgb", "is_critically_sampled", "in_channels", "out_channels", "in_size",
                "out_size", "in_sampling_rate", "out_sampling_rate", "in_cutoff", "out_cutoff",
                "in_half_width", "out_half_width", "conv_kernel", "conv_clamp", "padding",
                "up_factor", "down_factor")}
            spec["in_size"] = [int(v) for v in spec["in_size"]]
            spec["out_size"] = [int(v) for v in spec["out_size"]]
            spec["padding"] = [int(v) for v in spec["padding"]]
            for key in ("in_sampling_rate", "out_sampling_rate", "in_cutoff", "out_cutoff",
                        "in_half_width", "out_half_width"):
                spec[key] = float(spec[key])
            for key in ("is_torgb", "is_critically_sampled"):
                spec[key] = bool(spec[key])
            for key in ("in_channels", "out_channels", "conv_kernel", "up_factor", "down_factor"):
                spec[key] = int(spec[key])
            spec["conv_clamp"] = None if spec["conv_clamp"] is None else float(spec["conv_clamp"])
            down = layer["_buffers"].get("down_filter")
            up = layer["_buffers"].get("up_filter")
            spec["up_taps"] = 1 if up is None else int(up.shape[-1])
            spec["down_taps"] = 1 if down is None else int(down.shape[-1])
            spec["down_radial"] = down is not None and down.ndim == 2
            layers.append((name, spec))
        if not layers:
            raise Refused("the StyleGAN3 synthesis network lists no layers")
        config["layers"] = layers
        return config
    config["arch"] = "stylegan2"
    channels, clamp = {}, None
    for res in synthesis.get("block_resolutions") or []:
        block = synthesis.child(f"b{res}")
        architecture = block.get("architecture", "skip")
        if architecture != "skip":
            raise Refused(f"only the 'skip' synthesis architecture is supported, this one is {architecture!r}")
        channels[int(res)] = int(block["out_channels"])
        clamp = block.child("conv1").get("conv_clamp", clamp)
    if not channels:
        raise Refused("the StyleGAN2 synthesis network lists no blocks")
    config["channels"] = channels
    config["conv_clamp"] = None if clamp is None else float(clamp)
    return config


def build(config: dict) -> nets.Generator:
    """A generator with the architecture of ``config`` (weights still random)."""
    z_dim, w_dim = config["z_dim"], config["w_dim"]
    res, img_channels = config["img_resolution"], config["img_channels"]
    if config["arch"] == "stylegan2":
        channels = {int(k): int(v) for k, v in config["channels"].items()}
        synthesis = nets.SynthesisNetwork(w_dim, res, img_channels, channels, config["conv_clamp"])
    elif config["arch"] == "stylegan3":
        specs, names = [], []
        for name, s in config["layers"]:
            specs.append(nets.LayerSpec(
                **{k: s[k] for k in ("is_torgb", "is_critically_sampled", "in_channels", "out_channels",
                                     "in_size", "out_size", "in_sampling_rate", "out_sampling_rate",
                                     "in_cutoff", "out_cutoff", "in_half_width", "out_half_width",
                                     "conv_kernel", "conv_clamp")},
                filter_size=max(s["up_taps"] // max(s["up_factor"], 1), s["down_taps"] // max(s["down_factor"], 1), 1),
                use_radial_filters=s["down_radial"]))
            names.append(name)
        first = dict(config["first"])
        first["size"] = first["size"][0]
        synthesis = nets.SynthesisNetwork3(w_dim, res, img_channels, first, specs,
                                           config["output_scale"], names=names)
        for name, s in config["layers"]:
            layer = getattr(synthesis, name)
            layer.padding = [int(v) for v in s["padding"]]
            layer.up_factor, layer.down_factor = int(s["up_factor"]), int(s["down_factor"])
    else:
        raise Refused(f"unknown StyleGAN architecture {config['arch']!r}")
    mapping = nets.MappingNetwork(z_dim, w_dim, synthesis.num_ws, config["mapping_layers"],
                                  config.get("layer_features"), config["lr_multiplier"])
    return nets.Generator(mapping, synthesis, z_dim)


def _load_tensors(g: nets.Generator, tensors: dict[str, torch.Tensor]) -> None:
    ours = g.state_dict()
    missing = sorted(set(ours) - set(tensors))
    extra = sorted(set(tensors) - set(ours))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:3])}{' …' if len(missing) > 3 else ''}")
        if extra:
            parts.append(f"unexpected {', '.join(extra[:3])}{' …' if len(extra) > 3 else ''}")
        raise Refused("the weights do not fit the architecture: " + "; ".join(parts))
    for name, value in tensors.items():
        if tuple(value.shape) != tuple(ours[name].shape):
            raise Refused(f"the weights do not fit the architecture: {name} has shape "
                          f"{tuple(value.shape)}, expected {tuple(ours[name].shape)}")
    g.load_state_dict(tensors, strict=True)


def load_generator(path: str | Path) -> tuple[nets.Generator, dict]:
    """The generator of a snapshot pickle or safetensors export, and its config; raises
    ``Refused`` with a sentence on anything else."""
    path = Path(path)
    if not path.is_file():
        raise Refused(f"no file at {path}")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file, safe_open

        try:
            with safe_open(str(path), framework="pt") as f:
                meta = f.metadata() or {}
            tensors = load_file(str(path))
        except (SafetensorError, OSError) as e:
            raise Refused(f"not a readable safetensors file ({e})") from None
        if "mendel.stylegan" not in meta:
            raise Refused("the safetensors file has no 'mendel.stylegan' config in its metadata "
                          "(make it with: python -m inference.stylegan export in.pkl out.safetensors)")
        config = json.loads(meta["mendel.stylegan"])
    elif path.suffix == ".pkl":
        record = load_snapshot(path.read_bytes())
        config = config_from_record(record)
        tensors = record.tensors()
    else:
        raise Refused(f"a StyleGAN space loads a .pkl snapshot or a .safetensors export, not {path.name}")
    g = build(config)
    _load_tensors(g, tensors)
    return g.eval().requires_grad_(False), config


def export(src: str | Path, dst: str | Path) -> dict:
    """Write a snapshot's generator as safetensors with its config in the metadata."""
    from safetensors.torch import save_file

    g, config = load_generator(src)
    tensors = {k: v.contiguous() for k, v in g.state_dict().items()}
    save_file(tensors, str(dst), metadata={"mendel.stylegan": json.dumps(config)})
    return config


def gmac_per_image(g: nets.Generator) -> float:
    """Multiply-adds of one picture through the synthesis network, in GMAC (convolutions
    and the modulation of their weights; mapping and filters are small beside them)."""
    total = 0
    s = g.synthesis
    if isinstance(s, nets.SynthesisNetwork):
        for res in s.block_resolutions:
            block = getattr(s, f"b{res}")
            if block.in_channels:  # the upsampling conv works at the input's resolution
                total += block.conv0.weight.numel() * (res // 2) ** 2
            total += block.conv1.weight.numel() * res * res
            total += block.torgb.weight.numel() * res * res
    else:
        for name in s.layer_names:
            layer = getattr(s, name)
            h, w = layer.in_size
            k = layer.conv_kernel
            total += layer.weight.numel() * (h + k - 1) * (w + k - 1)
    return total / 1e9


class StyleGANSpace:
    """A StyleGAN2/3 generator as a space; latents are W+ (num_ws, w_dim)."""

    prior = "w"
    can_project = True

    def __init__(self, path: str | Path, slug: str = "stylegan", version: str | None = None,
                 truncation: float = DEFAULT_TRUNCATION, device: str | None = None,
                 stats_samples: int = STATS_SAMPLES, needs_gpu: bool | None = None) -> None:
        self.path = Path(path)
        self.slug = slug
        digest = file_digest(self.path)[:16] if self.path.is_file() else ""
        if version is not None and digest != version:
            raise Refused(f"the weights file {self.path.name} changed since the space was added "
                          f"(digest {digest or 'missing'}, recorded {version})")
        self.version = digest
        self.generator, self.config = load_generator(self.path)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.generator.to(self.device)
        #: Off the CPU, render in passes of exactly this many pictures (``render_fixed``);
        #: 0 or 1: one picture a pass.
        self.fixed_batch = 0
        self.truncation = float(truncation)
        g = self.generator
        self.layers, self.dim = g.num_ws, g.w_dim
        self.arch = self.config["arch"]
        self.groups = self._groups()
        self.coarse_layers = self.groups["middle"][1]
        self.gmac = gmac_per_image(g)
        self.needs_gpu = self.gmac > CPU_MAX_GMAC if needs_gpu is None else bool(needs_gpu)
        w = self.sample(stats_samples, seed=0)
        self.stats = SpaceStats(mean=w.mean(dim=0), std=w.std(dim=0).clamp_min(1e-6))

    def to(self, device: str | torch.device) -> StyleGANSpace:
        """Move the generator (the inference service's ``--device``); latents and the
        space's statistics stay on the CPU."""
        self.device = torch.device(device)
        self.generator.to(self.device)
        return self

    def _groups(self) -> dict[str, tuple[int, int]]:
        """Coarse, middle and fine rows of W+: by block resolution in StyleGAN2 (up to 8 px,
        up to 32 px, above), by position in StyleGAN3 (the same shares of its rows)."""
        n = self.layers
        if self.arch == "stylegan2":
            # Block 4 uses rows 0-1, block 2^k (k >= 3) rows 2k-5 .. 2k-3.
            coarse, middle = min(4, n - 1), min(8, n - 1)
        else:
            coarse, middle = max(1, round(n * 4 / 18)), max(2, round(n * 8 / 18))
        return {"coarse": (0, coarse), "middle": (coarse, middle), "fine": (middle, n)}

    # -- the prior ---------------------------------------------------------------------

    @torch.no_grad()
    def sample(self, n: int, seed: int, truncation: float | None = None) -> torch.Tensor:
        """``n`` W+ latents: z ~ N(0, I) from ``seed`` through the mapping, truncated."""
        check_count(n)
        z = torch.randn(n, self.generator.z_dim, generator=torch.Generator().manual_seed(int(seed)))
        psi = self.truncation if truncation is None else float(truncation)
        out = [self.generator.mapping(chunk.to(self.device), psi).float().cpu() for chunk in z.split(256)]
        return torch.cat(out)

    # -- rendering -----------------------------------------------------------------------

    def _synthesise(self, latents: torch.Tensor, size: int) -> torch.Tensor:
        """(n, num_ws, w_dim) -> (n, 3, size, size) float in [0, 1], differentiable."""
        ws = latents.to(self.device)
        img = self.generator.synthesis(ws, max_resolution=size).float()
        img = (img[:, :3] * 0.5 + 0.5).clamp(0, 1)
        if img.shape[-1] > size:
            img = F.interpolate(img, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        elif img.shape[-1] < size:  # above the trained resolution: a bicubic upscale
            img = F.interpolate(img, size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)
        return img

    @torch.no_grad()
    def render(self, latents: torch.Tensor, size: int) -> torch.Tensor:
        """(n, layers, dim) latents -> (n, size, size, 3) uint8 pictures. StyleGAN2 stops
        at the first block at least ``size`` large (the skip output so far), so small
        pictures cost a fraction of a full one.

        One picture at a time: convolution libraries pick their algorithms by batch size,
        and the last bits of a picture must not depend on what it was batched with
        (pictures are a cache of their latent). On the CPU each picture is painted by one
        of the render workers the built-in spaces share (``scheduler.span_workers``),
        each running torch on one thread: a picture of 64 to 256 px is hundreds of small
        operations, and a team of threads on each of them spends more time starting and
        stopping than computing (one worker per core paints twice as many pictures as all
        cores on one picture; see docs/benchmarks.md). Its pixels then do not depend on
        how many threads the process has either."""
        latents = check_latents(latents, self.layers, self.dim)
        size = check_size(size)

        # A worker thread has its own grad and autocast modes: it takes the caller's.
        autocast = torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu")

        @torch.no_grad()
        def one(latent: torch.Tensor) -> torch.Tensor:
            with torch.autocast("cpu", dtype=autocast[1], enabled=autocast[0]):
                img = self._synthesise(latent, size)
            return img.mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu()

        if self.device.type != "cpu":
            if self.fixed_batch > 1:
                return self.render_fixed(latents, size, self.fixed_batch)
            return torch.cat([one(chunk) for chunk in latents.split(1)]).contiguous()
        with span_workers() as (_workers, pool):
            return torch.cat(list(pool.map(one, latents.split(1)))).contiguous()

    @torch.no_grad()
    def render_fixed(self, latents: torch.Tensor, size: int, batch: int) -> torch.Tensor:
        """``render`` in passes of exactly ``batch`` pictures, the last one filled up with
        copies of its first latent, whose pictures are dropped: full batches whose pictures
        never depend on their companions. Libraries pick convolution and matrix algorithms
        by shape, and with one shape for every pass, each picture is computed by the same
        kernels whatever it was batched with; no operation of the network mixes the
        pictures of a batch. (A different ``batch`` is a different shape, and may differ
        from one-at-a-time pictures in the last bits: a deployment keeps one.) What the
        inference service does on a GPU with ``--fixed-batch``; it runs on any device, and
        the test of invariance runs it on the CPU."""
        latents = check_latents(latents, self.layers, self.dim)
        size, batch = check_size(size), int(batch)
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        out = []
        for chunk in latents.split(batch):
            real = chunk.shape[0]
            if real < batch:
                chunk = torch.cat([chunk, chunk[:1].expand(batch - real, -1, -1)])
            img = self._synthesise(chunk.contiguous(), size)
            out.append(img.mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu()[:real])
        return torch.cat(out).contiguous()

    def render_float(self, latents: torch.Tensor, size: int) -> torch.Tensor:
        """Differentiable: (n, layers, dim) -> (n, size, size, 3) float32 in [0, 1]."""
        latents = check_latents(latents, self.layers, self.dim) if not latents.requires_grad else latents
        size = check_size(size)
        return self._synthesise(latents, size).permute(0, 2, 3, 1)

    # -- genes ---------------------------------------------------------------------------

    def style_affines(self) -> list[tuple[int, torch.Tensor]]:
        """(W+ row, effective affine weight (in_channels, w_dim)) of every modulated layer."""
        s = self.generator.synthesis
        out = []
        if isinstance(s, nets.SynthesisNetwork):
            row = 0
            for res in s.block_resolutions:
                block = getattr(s, f"b{res}")
                convs = [block.conv1] if block.in_channels == 0 else [block.conv0, block.conv1]
                for i, conv in enumerate(convs):
                    out.append((row + i, conv.affine.weight * conv.affine.weight_gain))
                out.append((row + len(convs), block.torgb.affine.weight * block.torgb.affine.weight_gain))
                row += block.num_conv
        else:
            out.append((0, s.input.affine.weight * s.input.affine.weight_gain))
            for i, name in enumerate(s.layer_names):
                layer = getattr(s, name).affine
                out.append((i + 1, layer.weight * layer.weight_gain))
        return out

    def candidate_directions(self, k: int) -> list[tuple[str, str, torch.Tensor]]:
        """Gene candidates beyond the principal components: the closed-form directions."""
        return [(f"sefa-{i}", "closed-form", d) for i, d in enumerate(self.factor_directions(k), start=1)]

    def factor_directions(self, k: int, group: str | None = None) -> list[torch.Tensor]:
        """The top ``k`` closed-form directions (Shen and Zhou 2021, Eq. 5): the
        eigenvectors of AᵀA with the largest eigenvalues, A the style affines of the
        layers in ``group`` (all layers when None) stacked. A move n changes the styles
        by A n, so these directions change them most. Each is returned as a (layers, dim)
        W+ direction on those rows, unit norm overall, sign fixed by its largest entry."""
        rows = range(*self.groups[group]) if group else range(self.layers)
        mats = [a for row, a in self.style_affines() if row in rows]
        if not mats or k < 1:
            return []
        a = torch.cat(mats).double().cpu()
        _, vectors = torch.linalg.eigh(a.T @ a)
        out = []
        for v in vectors.T.flip(0)[:k]:
            v = v if v[v.abs().argmax()] > 0 else -v
            d = torch.zeros(self.layers, self.dim, dtype=torch.float64)
            d[list(rows)] = v
            out.append((d / d.norm()).float())
        return out

    # -- projection ----------------------------------------------------------------------

    def project(self, target, *, size: int = 128, seed: int = 0, on_step=None,
                budget_s: float | None = None, steps: int | None = None):
        """Optimise a latent until its picture matches ``target`` (Image2StyleGAN): first
        one w for every row (W, from the mean of the best of a few samples), then every
        row on its own (W+). Adam on ``inference.projection.picture_loss``."""
        from inference.projection import (
            ProjectionResult,
            ProjectionStep,
            picture_loss,
            prepare_target,
            psnr_db,
        )

        size = check_size(size)
        steps = steps or 200
        goal = prepare_target(target, size).permute(2, 0, 1)[None].to(self.device)
        started = time.monotonic()
        # 1. Start from the best of a few samples.
        candidates = self.sample(16, seed)
        with torch.no_grad():
            losses = picture_loss(self._synthesise(candidates, size), goal.expand(16, -1, -1, -1))
        start = candidates[int(losses.argmin())].to(self.device)
        # 2. W, then W+.
        w = start[:1].clone().requires_grad_(True)
        plus = None
        scale = float(self.stats.std.mean())
        opt = torch.optim.Adam([w], lr=0.05 * scale)
        loss = losses.min()
        for step in range(1, steps + 1):
            halfway = step > steps // 2 or (budget_s is not None and time.monotonic() - started > budget_s / 2)
            if plus is None and halfway:
                plus = w.detach().expand(self.layers, -1).clone().requires_grad_(True)
                opt = torch.optim.Adam([plus], lr=0.02 * scale)
            latent = plus if plus is not None else w.expand(self.layers, -1)
            loss = picture_loss(self._synthesise(latent[None], size), goal)[0]
            opt.zero_grad()
            loss.backward()
            opt.step()
            elapsed = time.monotonic() - started
            if on_step is not None:
                on_step(ProjectionStep(step=step, steps=steps, loss=float(loss.detach()),
                                       latent=latent.detach().cpu().clone(), elapsed_s=elapsed,
                                       eta_s=elapsed / step * (steps - step)))
            if budget_s is not None and elapsed > budget_s:
                break
        final = (plus if plus is not None else w.expand(self.layers, -1)).detach().cpu().float()
        picture = self.render(final[None], size)[0]
        wanted = (goal[0].permute(1, 2, 0) * 255).round().cpu()
        return ProjectionResult(latent=final, loss=float(loss.detach()), psnr_db=psnr_db(picture, wanted), steps=step)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m inference.stylegan")
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("export", help="write a snapshot's generator as safetensors")
    ex.add_argument("src")
    ex.add_argument("dst")
    args = parser.parse_args(argv)
    try:
        config = export(args.src, args.dst)
    except Refused as e:
        parser.exit(2, f"{args.src}: {e}\n")
    print(f"wrote {args.dst}: {config['arch']}, {config['img_resolution']} px")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

