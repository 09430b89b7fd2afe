"""The ``diffusion`` space: a diffusers image-variation pipeline from a local folder.

The latent is the CLIP image embedding the pipeline conditions on (Stable Diffusion image
variations: ``StableDiffusionImageVariationPipeline``, an image encoder
``CLIPVisionModelWithProjection``, a UNet conditioned on the embedding, a VAE). So:

- **Uploads encode exactly**: a picture's latent is its embedding, one encoder pass.
- **Crossing is slerp** of embeddings (the space reports a Gaussian-style prior, which makes
  the breeding core interpolate on the sphere, where embeddings of real pictures lie at a
  similar length).
- **Rendering** runs the pipeline's denoising loop on a stored embedding. The starting
  noise comes from ``noise_seed`` for every picture alone, and the scheduler is made DDIM
  with η = 0 (deterministic; Song et al. 2021), so a latent renders the same picture every
  time and whatever else is in its batch.
- **Random pictures**: directions drawn from N(0, I), scaled to the length of a real
  embedding (that of a neutral grey picture): the encoder's prior is not known here.
- **Genes**: principal components of the embeddings of the space's own renders
  (``candidate_directions``), which lie where pictures do, unlike the random draws.

Nothing is fetched: ``from_pretrained(path, local_files_only=True)`` and
``HF_HUB_OFFLINE``. Any diffusion model is slow on a CPU: the space asks for a GPU unless
the operator says otherwise (``addspace --cpu-ok``).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from inference.space import SpaceStats, check_count, check_latents, check_size, weights_digest

SUPPORTED = ("StableDiffusionImageVariationPipeline",)
STEPS = 30
GUIDANCE = 3.0
NOISE_SEED = 0
CACHE_PICTURES = 64  # full-size renders kept, so every size of a latent costs one render
GENE_SAMPLES = 64


class DiffusionSpace:
    """A diffusers image-variation pipeline as a space; latents are (1, projection_dim)."""

    layers = 1
    coarse_layers = 1
    prior = "gaussian"
    can_project = True
    arch = "stable-diffusion-image-variation"

    def __init__(self, path: str | Path, slug: str = "diffusion", version: str | None = None,
                 needs_gpu: bool | None = None, steps: int = STEPS, guidance: float = GUIDANCE,
                 noise_seed: int = NOISE_SEED, device: str | None = None) -> None:
        from inference.snapshot import Refused

        self.path, self.slug = Path(path), slug
        if not (self.path / "model_index.json").is_file():
            raise Refused(f"{self.path} is not a diffusers model folder (it has no model_index.json)")
        import json

        kind = json.loads((self.path / "model_index.json").read_text()).get("_class_name")
        if kind not in SUPPORTED:
            raise Refused(f"the pipeline is a {kind}; a diffusion space takes {', '.join(SUPPORTED)}")
        current = weights_digest(self.path)[:16]
        if version is not None and version != current:
            raise Refused(f"the model folder {self.path.name} changed since the space was added "
                          f"(digest {current}, recorded {version})")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from diffusers import DDIMScheduler, DiffusionPipeline

        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        try:
            pipe = DiffusionPipeline.from_pretrained(str(self.path), local_files_only=True)
        except (OSError, ValueError) as e:
            raise Refused(f"the pipeline cannot be loaded: {e}") from None
        pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config)
        pipe.set_progress_bar_config(disable=True)
        self.pipe = pipe.to(self.device)
        self.version = current
        self.dim = int(pipe.image_encoder.config.projection_dim)
        self.steps, self.guidance, self.noise_seed = int(steps), float(guidance), int(noise_seed)
        self.native = int(pipe.unet.config.sample_size) * int(pipe.vae_scale_factor)
        self.needs_gpu = True if needs_gpu is None else bool(needs_gpu)
        grey = np.full((self.native, self.native, 3), 128, dtype=np.uint8)
        self.radius = float(self.encode(grey).norm())
        std = torch.full((1, self.dim), self.radius / self.dim**0.5)
        self.stats = SpaceStats(mean=torch.zeros(1, self.dim), std=std)
        self._cache: OrderedDict[bytes, torch.Tensor] = OrderedDict()
        self._lock = threading.Lock()

    def to(self, device: str | torch.device) -> DiffusionSpace:
        """Move the pipeline (the inference service's ``--device``)."""
        self.device = torch.device(device)
        self.pipe = self.pipe.to(self.device)
        return self

    # -- the prior ---------------------------------------------------------------------

    def sample(self, n: int, seed: int) -> torch.Tensor:
        check_count(n)
        z = torch.randn(n, 1, self.dim, generator=torch.Generator().manual_seed(int(seed)))
        return z / z.norm(dim=-1, keepdim=True) * self.radius

    # -- encoding ------------------------------------------------------------------------

    @torch.no_grad()
    def encode(self, picture) -> torch.Tensor:
        """A (H, W, 3) uint8 picture -> its (1, dim) CLIP image embedding."""
        from PIL import Image

        if isinstance(picture, torch.Tensor):
            picture = picture.cpu().numpy()
        pixels = self.pipe.feature_extractor(images=Image.fromarray(picture), return_tensors="pt").pixel_values
        encoder = self.pipe.image_encoder
        embeds = encoder(pixels.to(self.device, next(encoder.parameters()).dtype)).image_embeds
        return embeds.float().cpu().reshape(1, self.dim)

    # -- rendering -----------------------------------------------------------------------

    def _denoise(self, embeds: torch.Tensor) -> torch.Tensor:
        """(n, 1, dim) embeddings -> (n, native, native, 3) uint8, one picture at a time:
        convolution libraries pick their algorithms by batch size, and a picture must not
        depend on what it was batched with."""
        return torch.cat([self._denoise_one(e[None]) for e in embeds])

    @torch.no_grad()
    def _denoise_one(self, embeds: torch.Tensor) -> torch.Tensor:
        """(1, 1, dim) -> (1, native, native, 3) uint8: the pipeline's steps."""
        pipe = self.pipe
        dtype = pipe.unet.dtype
        # 1. Conditioning, with the zero embedding as the unconditional branch.
        cond = embeds.to(self.device, dtype)
        guided = self.guidance > 1.0
        context = torch.cat([torch.zeros_like(cond), cond]) if guided else cond
        # 2. Starting noise: the same for every picture.
        size = self.native // pipe.vae_scale_factor
        shape = (1, pipe.unet.config.in_channels, size, size)
        noise = torch.randn(shape, generator=torch.Generator().manual_seed(self.noise_seed))
        latents = noise.expand(cond.shape[0], -1, -1, -1).to(self.device, dtype)
        # 3. Denoising loop (DDIM, eta = 0: no fresh noise per step).
        pipe.scheduler.set_timesteps(self.steps, device=self.device)
        latents = latents * pipe.scheduler.init_noise_sigma
        for t in pipe.scheduler.timesteps:
            x = torch.cat([latents] * 2) if guided else latents
            x = pipe.scheduler.scale_model_input(x, t)
            eps = pipe.unet(x, t, encoder_hidden_states=context).sample
            if guided:
                uncond, cond_eps = eps.chunk(2)
                eps = uncond + self.guidance * (cond_eps - uncond)
            latents = pipe.scheduler.step(eps, t, latents).prev_sample
        # 4. Decode.
        image = pipe.vae.decode(latents / pipe.vae.config.scaling_factor, return_dict=False)[0]
        image = (image.float() / 2 + 0.5).clamp(0, 1)
        return image.mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu()

    def _full(self, latents: torch.Tensor) -> torch.Tensor:
        keys = [row.numpy().tobytes() for row in latents]
        with self._lock:
            missing = [i for i, k in enumerate(keys) if k not in self._cache]
        if missing:
            made = self._denoise(latents[missing])
            with self._lock:
                for i, picture in zip(missing, made, strict=True):
                    self._cache[keys[i]] = picture
                while len(self._cache) > CACHE_PICTURES:
                    self._cache.popitem(last=False)
        with self._lock:
            out = []
            for k in keys:
                picture = self._cache.get(k)
                if picture is None:  # pushed out meanwhile by a large batch
                    picture = self._denoise(latents[keys.index(k)][None])[0]
                out.append(picture)
        return torch.stack(out)

    def render(self, latents: torch.Tensor, size: int) -> torch.Tensor:
        """(n, 1, dim) latents -> (n, size, size, 3) uint8. Every size of a latent comes
        from one render at the pipeline's own resolution, kept for the next sizes."""
        latents = check_latents(latents, self.layers, self.dim)
        size = check_size(size)
        full = self._full(latents)
        if size == self.native:
            return full
        nchw = full.permute(0, 3, 1, 2).float()
        out = F.interpolate(nchw, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        return out.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous()

    # -- projection and genes ------------------------------------------------------------

    def project(self, target, *, size: int = 128, seed: int = 0, on_step=None,
                budget_s: float | None = None, steps: int | None = None):
        """An upload's latent is its embedding: exact, in one step."""
        from inference.projection import ProjectionResult, ProjectionStep, prepare_target, psnr_db

        size = check_size(size)
        latent = self.encode(target if isinstance(target, np.ndarray) else np.asarray(target))[None]
        if on_step is not None:
            on_step(ProjectionStep(step=1, steps=1, loss=0.0, latent=latent[0].clone(),
                                   elapsed_s=0.0, eta_s=0.0))
        wanted = (prepare_target(target, size) * 255).round()
        return ProjectionResult(latent=latent[0], loss=0.0,
                                psnr_db=psnr_db(self.render(latent, size)[0], wanted), steps=1)

    def candidate_directions(self, k: int, samples: int = GENE_SAMPLES) -> list[tuple[str, str, torch.Tensor]]:
        """The top ``k`` principal components of the embeddings of the space's own renders
        (GANSpace on what the pictures are, not on the random draws)."""
        if k < 1:
            return []
        pictures = self.render(self.sample(samples, seed=0), self.native)
        x = torch.cat([self.encode(p) for p in pictures]).double()
        _, _, vt = torch.linalg.svd(x - x.mean(dim=0), full_matrices=False)
        out = []
        for i, v in enumerate(vt[:k], start=1):
            v = v if v[v.abs().argmax()] > 0 else -v
            out.append((f"pc-embedding-{i}", "pca", (v / v.norm()).float().reshape(1, self.dim)))
        return out

