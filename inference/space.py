"""What every latent space offers, and the registry that finds them by slug."""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import torch

MIN_SIZE = 16
MAX_SIZE = 8192


@dataclass(frozen=True)
class SpaceStats:
    """Per-dimension statistics of the prior, shape (layers, dim); mutation scales by ``std``."""

    mean: torch.Tensor
    std: torch.Tensor


@runtime_checkable
class Space(Protocol):
    slug: str
    layers: int
    dim: int
    version: str
    stats: SpaceStats
    #: "gaussian" when latents are drawn from N(0, I): crossing and morphing then use slerp.
    prior: str
    #: Layers [0, coarse_layers) carry composition ("content"); the rest carry style.
    coarse_layers: int

    def sample(self, n: int, seed: int) -> torch.Tensor: ...

    def render(self, latents: torch.Tensor, size: int) -> torch.Tensor: ...


def render_each(space: Space, latents: torch.Tensor, size: int, each) -> torch.Tensor:
    """``space.render``, handing each picture (1, size, size, 3) to ``each(b, picture)`` as
    soon as it is ready: as it is painted in a space that paints picture by picture (one
    offering ``render_each``), else once the whole pass is."""
    own = getattr(space, "render_each", None)
    if callable(own):
        return own(latents, size, each)
    out = space.render(latents, size)
    for b in range(out.shape[0]):
        each(b, out[b : b + 1])
    return out


def can_move_camera(space: object) -> bool:
    """Whether ``space`` can move a camera over a picture (zoom out, pan): it offers
    ``render_view(latents, size, zoom, centre)``. Whether it can take uploads is
    ``inference.projection.can_project``."""
    return callable(getattr(space, "render_view", None))


def check_size(size: object) -> int:
    if isinstance(size, bool) or not isinstance(size, int):
        raise ValueError(f"size must be a whole number of pixels, got {size!r}")
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be between {MIN_SIZE} and {MAX_SIZE} pixels, got {size}")
    return size


def check_latents(latents: object, layers: int, dim: int) -> torch.Tensor:
    """A float32 tensor of shape (n, layers, dim) with finite values, or ValueError."""
    import torch

    if not isinstance(latents, torch.Tensor):
        raise ValueError(f"latents must be a torch.Tensor, got {type(latents).__name__}")
    if latents.dtype not in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        raise ValueError(f"latents must be floating point, got dtype {latents.dtype}")
    if latents.dim() == 2:
        latents = latents.unsqueeze(0)
    if latents.dim() != 3 or tuple(latents.shape[1:]) != (layers, dim) or latents.shape[0] == 0:
        raise ValueError(
            f"latents must have shape (n, {layers}, {dim}) with n >= 1, got {tuple(latents.shape)}"
        )
    latents = latents.to(torch.float32)
    bad = ~torch.isfinite(latents)
    if bad.any():
        where = tuple(int(i) for i in bad.nonzero()[0])
        raise ValueError(f"latents must be finite, got {latents[where].item()} at index {where}")
    return latents.contiguous()


def check_count(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive whole number, got {n!r}")
    return n


_REGISTRY: dict[str, tuple[str, dict]] = {}
_LOADED: dict[str, Space] = {}
#: Called with an unknown slug; return (target, options) to register it, or None.
_RESOLVERS: list = []


#: The kinds of space an operator adds from weights of their own, and their classes.
ADDABLE_KINDS = {
    "stylegan": "inference.stylegan:StyleGANSpace",
    "diffusion": "inference.diffusion:DiffusionSpace",
}


def register_file(spec: str) -> str:
    """Register an added space from ``SLUG=KIND:PATH`` (a StyleGAN snapshot or export, a
    diffusers folder), as ``manage.py addspace`` recorded it; the slug. For processes
    without the site's database: the inference service."""
    slug, sep, rest = spec.partition("=")
    kind, sep2, path = rest.partition(":")
    if not (sep and sep2 and slug and path):
        raise ValueError(f"a space to add is SLUG=KIND:PATH, got {spec!r}")
    if kind not in ADDABLE_KINDS:
        raise ValueError(f"no space kind {kind!r} (kinds: {', '.join(ADDABLE_KINDS)})")
    register(slug, ADDABLE_KINDS[kind], path=path, slug=slug, needs_gpu=False)
    return slug


def register(slug: str, target: str, /, **options) -> None:
    """Make a space available by slug; ``target`` is "module:Class", built on first use
    with ``options`` as keyword arguments (a weights path, a version...)."""
    _REGISTRY[slug] = (target, options)
    _LOADED.pop(slug, None)


def add_resolver(resolver) -> None:
    """Let ``resolver(slug)`` supply spaces registered elsewhere (the site's database)."""
    if resolver not in _RESOLVERS:
        _RESOLVERS.append(resolver)


def _resolve(slug: str) -> None:
    for resolver in _RESOLVERS:
        found = resolver(slug)
        if found is not None:
            register(slug, found[0], **found[1])
            return


def _earlier_builtin(slug: str) -> tuple[str, dict] | None:
    """``name@version``: an earlier version of a built-in space whose class keeps the
    weights of its earlier versions (``earlier_versions()``: version -> weights file)."""
    name, at, version = slug.partition("@")
    found = _REGISTRY.get(name)
    if not at or found is None or found[1]:  # not a versioned name of a built-in space
        return None
    target, _ = found
    module, _, cls_name = target.partition(":")
    earlier = getattr(getattr(importlib.import_module(module), cls_name), "earlier_versions", None)
    path = (earlier() if callable(earlier) else {}).get(version)
    if path is None:
        return None
    return target, {"path": path, "slug": slug, "version": version}


_RESOLVERS.append(_earlier_builtin)


def get_space(slug: str) -> Space:
    """The space registered as ``slug`` (one shared instance per process)."""
    if slug not in _REGISTRY:
        _resolve(slug)
    if slug not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise KeyError(f"unknown space {slug!r} (known: {known})")
    if slug not in _LOADED:
        target, options = _REGISTRY[slug]
        module, _, name = target.partition(":")
        _LOADED[slug] = getattr(importlib.import_module(module), name)(**options)
    return _LOADED[slug]


def registered_options(slug: str) -> dict | None:
    """The options ``slug`` is registered with here, or None; never resolves or loads."""
    found = _REGISTRY.get(slug)
    return dict(found[1]) if found is not None else None


def adopt(slug: str, space: Space) -> None:
    """Use ``space``, already built, as the registered ``slug``'s shared instance."""
    if slug not in _REGISTRY:
        raise KeyError(f"unknown space {slug!r}")
    _LOADED[slug] = space


def loaded(slug: str) -> bool:
    return slug in _LOADED


def space_options(slug: str) -> dict:
    """The options ``slug`` was registered with (resolving it if needed), without
    building it: what a caller may know of a space before loading its weights."""
    if slug not in _REGISTRY:
        _resolve(slug)
    if slug not in _REGISTRY:
        raise KeyError(f"unknown space {slug!r}")
    return dict(_REGISTRY[slug][1])


def space_slugs() -> list[str]:
    """The built-in spaces: registered without options (no weights file of their own)."""
    return sorted(slug for slug, (_, options) in _REGISTRY.items() if not options)


def file_digest(path) -> str:
    """The sha256 of a file, read in chunks (weights files are hundreds of MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def weights_digest(path) -> str:
    """The digest of a weights file, or of a model folder: there, every file's relative
    path, size and modification time (diffusers folders hold gigabytes, and their files
    are replaced, not edited in place)."""
    from pathlib import Path

    path = Path(path)
    if path.is_file():
        return file_digest(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        stat = file.stat()
        digest.update(f"{file.relative_to(path)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def gaussian_stats(layers: int, dim: int) -> SpaceStats:
    import torch

    return SpaceStats(mean=torch.zeros(layers, dim), std=torch.ones(layers, dim))


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation of two vectors (last dimension), t in [0, 1].

    Angle and norm are interpolated separately, so the result keeps the typical norm of
    Gaussian samples; t = 0 and t = 1 return ``a`` and ``b`` exactly.
    """
    import torch

    if t == 0:
        return a.clone()
    if t == 1:
        return b.clone()
    na = torch.linalg.vector_norm(a, dim=-1, keepdim=True)
    nb = torch.linalg.vector_norm(b, dim=-1, keepdim=True)
    ua, ub = a / na.clamp_min(1e-12), b / nb.clamp_min(1e-12)
    cos = (ua * ub).sum(dim=-1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    sin = torch.sin(omega)
    near = sin.abs() < 1e-6  # (anti)parallel: fall back to a straight line
    wa = torch.where(near, torch.full_like(sin, 1 - t), torch.sin((1 - t) * omega) / sin)
    wb = torch.where(near, torch.full_like(sin, t), torch.sin(t * omega) / sin)
    direction = wa * ua + wb * ub
    direction = direction / torch.linalg.vector_norm(direction, dim=-1, keepdim=True).clamp_min(1e-12)
    return direction * ((1 - t) * na + t * nb)
