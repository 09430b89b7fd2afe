"""The built-in `figures` space: interface, determinism, resolution independence, symmetry,
the committed weights, the float render."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch

from inference import fused, get_space, space_slugs
from inference.figures import MIRROR, NONE, RADIAL, WEIGHTS, FiguresSpace
from inference.make_figures_weights import TUNING, make
from inference.projection import can_project
from inference.space import Space


def test_the_figures_space_is_registered_beside_abstract_and_fits_the_interface(figures):
    assert {"abstract", "figures"} <= set(space_slugs())
    assert isinstance(figures, Space)
    assert (figures.slug, figures.layers, figures.dim) == ("figures", 8, 64)
    assert (figures.prior, figures.coarse_layers) == ("gaussian", 4)
    assert figures.stats.std.shape == (8, 64)
    assert get_space("figures") is figures
    assert can_project(figures)


def test_sampling_is_seeded(figures):
    assert torch.equal(figures.sample(3, 11), figures.sample(3, 11))
    assert not torch.equal(figures.sample(3, 11), figures.sample(3, 12))
    assert figures.sample(5, 0).shape == (5, 8, 64)


@pytest.mark.parametrize("size", [16, 64, 100, 256, 300])
def test_it_renders_square_rgb_pictures_of_any_size(figures, size):
    images = figures.render(figures.sample(2, 1), size)
    assert images.shape == (2, size, size, 3)
    assert images.dtype == torch.uint8
    assert images.float().std() > 5, "a picture, not a flat colour"


def test_the_same_latent_and_size_give_identical_pixels_alone_in_a_batch_and_on_one_thread(figures):
    z = figures.sample(6, 5)
    first = figures.render(z, 128)
    assert torch.equal(first, figures.render(z, 128))
    assert torch.equal(first[2], figures.render(z[2:3], 128)[0])
    assert torch.equal(first[4:], figures.render(z[4:], 128))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert torch.equal(first, figures.render(z, 128))
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_picture_that_fails_its_preparation_fails_the_render_and_nothing_waits_on_it(
        figures, monkeypatch, threads):
    prepare, prepared = figures._prepare, []

    def fails_on_the_second(z):
        prepared.append(z)
        if len(prepared) == 2:
            raise RuntimeError("no styles for this one")
        return prepare(z)

    monkeypatch.setattr(figures, "_prepare", fails_on_the_second)
    saved = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with pytest.raises(RuntimeError, match="no styles for this one"):
            figures.render(figures.sample(6, 2), 64)
    finally:
        torch.set_num_threads(saved)
    assert len(prepared) < 6, "the workers stop taking pictures after a failure"
    monkeypatch.undo()
    assert figures.render(figures.sample(2, 2), 64).shape == (2, 64, 64, 3)


def test_a_latent_renders_the_same_picture_at_every_size(figures):
    z = figures.sample(3, 9)
    small = figures.render(z, 64).float()
    large = figures.render(z, 512).float()
    downsampled = torch.nn.functional.avg_pool2d(large.permute(0, 3, 1, 2), 8).permute(0, 2, 3, 1)
    assert (small - downsampled).abs().mean() < 4.0  # of 255: the same picture, finer


def test_a_large_render_matches_a_smaller_one(figures):
    z = figures.sample(1, 4)
    big = figures.render(z, 1024).float()
    mid = figures.render(z, 256).float()
    pooled = torch.nn.functional.avg_pool2d(big.permute(0, 3, 1, 2), 4).permute(0, 2, 3, 1)
    assert (pooled - mid).abs().mean() < 4.0


def _latent_of_kind(figures, kind: int, lean: bool = False) -> torch.Tensor:
    for z in figures.sample(64, 21):
        styles = figures._styles(z)
        pure = all(part != NONE for _, part, _ in styles.parts)  # no unfolded share blended in
        if styles.kind == kind and pure and (float(styles.asym) > 0) == lean:
            return z[None]
    raise AssertionError(f"no latent of kind {kind} among 64")


@pytest.mark.parametrize("kind", [MIRROR, RADIAL])
def test_mirror_and_radial_figures_are_mirror_images_of_themselves(figures, kind):
    image = figures.render(_latent_of_kind(figures, kind), 128)[0]
    assert torch.equal(image, image.flip(1))


def test_a_leaning_figure_is_only_nearly_symmetric(figures):
    image = figures.render(_latent_of_kind(figures, MIRROR, lean=True), 128)[0].float()
    assert 0 < (image - image.flip(1)).abs().mean() < 40


def test_different_latents_give_different_pictures(figures):
    images = figures.render(figures.sample(2, 3), 64).float()
    assert (images[0] - images[1]).abs().mean() > 10


@pytest.mark.parametrize(
    "latents,message",
    [
        (torch.zeros(1, 8, 63), r"shape \(n, 8, 64\).*\(1, 8, 63\)"),
        (torch.zeros(0, 8, 64), r"n >= 1"),
        (torch.zeros(1, 8, 64, dtype=torch.int64), "floating point.*int64"),
    ],
)
def test_malformed_latents_are_refused_by_name(figures, latents, message):
    with pytest.raises(ValueError, match=message):
        figures.render(latents, 64)


def test_non_finite_latents_and_bad_sizes_are_refused(figures):
    z = figures.sample(2, 0)
    z[1, 3, 7] = float("nan")
    with pytest.raises(ValueError, match=r"finite.*index \(1, 3, 7\)"):
        figures.render(z, 64)
    with pytest.raises(ValueError, match="size"):
        figures.render(figures.sample(1, 0), 15)


def test_the_committed_weights_are_small_and_made_by_the_script():
    assert WEIGHTS.stat().st_size < 1024 * 1024
    from safetensors import safe_open
    from safetensors.torch import load_file

    committed = load_file(str(WEIGHTS))
    rebuilt = make()
    assert committed.keys() == rebuilt.keys()
    for name, tensor in rebuilt.items():
        assert torch.equal(committed[name], tensor), name
    with safe_open(str(WEIGHTS), framework="pt") as f:
        assert json.loads(f.metadata()["tuning"]) == TUNING


def test_the_version_is_a_digest_of_the_weights_and_the_renderer(figures):
    torch_alone = FiguresSpace(kernels=False)
    assert torch_alone.version == hashlib.sha256(WEIGHTS.read_bytes()).hexdigest()[:12]
    assert figures.kernels is not None, "the test machine compiles the fused kernel"
    tagged = WEIGHTS.read_bytes() + f"\0fused {fused.PIXELS}".encode()
    assert figures.version == hashlib.sha256(tagged).hexdigest()[:12]
    assert FiguresSpace().version == figures.version


def test_the_float_render_is_close_to_the_render_and_differentiable(figures):
    z = figures.sample(2, 7)
    exact = figures.render(z, 256).float() / 255.0
    z.requires_grad_(True)
    smooth = figures.render_float(z, 256)
    assert smooth.shape == (2, 256, 256, 3)
    assert (smooth.detach() - exact).abs().mean() < 3 / 255
    smooth.mean().backward()
    assert z.grad is not None and torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="probe"):
        figures.render_float(z, 64, probe=2)
