"""The built-in `abstract` space: shape, determinism, resolution independence, bad input."""

from __future__ import annotations

import hashlib
import shutil

import pytest
import torch

from inference import fused, get_space, space_slugs
from inference.abstract import WEIGHTS, AbstractSpace
from inference.make_abstract_weights import make
from inference.space import Space


def test_the_abstract_space_is_registered_and_fits_the_interface(space):
    assert "abstract" in space_slugs()
    assert isinstance(space, Space)
    assert (space.slug, space.layers, space.dim) == ("abstract", 8, 64)
    assert space.stats.std.shape == (8, 64)
    assert get_space("abstract") is space


def test_an_unknown_space_is_named_in_the_error(monkeypatch):
    from inference import space as registry

    monkeypatch.setattr(registry, "_RESOLVERS", [])  # this package alone, without the site's rows
    with pytest.raises(KeyError, match="unknown space 'nope'"):
        get_space("nope")


def test_sampling_is_seeded(space):
    assert torch.equal(space.sample(3, 11), space.sample(3, 11))
    assert not torch.equal(space.sample(3, 11), space.sample(3, 12))
    assert space.sample(5, 0).shape == (5, 8, 64)


@pytest.mark.parametrize("size", [16, 64, 100, 256, 300])
def test_it_renders_square_rgb_pictures_of_any_size(space, size):
    images = space.render(space.sample(2, 1), size)
    assert images.shape == (2, size, size, 3)
    assert images.dtype == torch.uint8
    assert images.float().std() > 5, "a picture, not a flat colour"


def test_the_same_latent_and_size_give_identical_pixels(space):
    z = space.sample(4, 5)
    first = space.render(z, 128)
    assert torch.equal(first, space.render(z, 128))
    # Alone or in a batch, a picture comes out bit for bit the same.
    assert torch.equal(first[2], space.render(z[2:3], 128)[0])
    # And with a different number of threads.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert torch.equal(first, space.render(z, 128))
    finally:
        torch.set_num_threads(threads)


def test_a_latent_renders_the_same_picture_at_every_size(space):
    z = space.sample(3, 9)
    small = space.render(z, 64).float()
    large = space.render(z, 512).float()
    downsampled = torch.nn.functional.avg_pool2d(large.permute(0, 3, 1, 2), 8).permute(0, 2, 3, 1)
    assert (small - downsampled).abs().mean() < 4.0  # of 255: the same picture, finer


def test_a_large_render_is_tiled_and_matches_a_smaller_one(space):
    z = space.sample(1, 4)
    big = space.render(z, 2048).float()
    mid = space.render(z, 256).float()
    pooled = torch.nn.functional.avg_pool2d(big.permute(0, 3, 1, 2), 8).permute(0, 2, 3, 1)
    assert (pooled - mid).abs().mean() < 4.0


def test_different_latents_give_different_pictures(space):
    images = space.render(space.sample(2, 3), 64).float()
    assert (images[0] - images[1]).abs().mean() > 10


@pytest.mark.parametrize(
    "latents,message",
    [
        (torch.zeros(1, 8, 63), r"shape \(n, 8, 64\).*\(1, 8, 63\)"),
        (torch.zeros(8, 64, 1), r"shape \(n, 8, 64\)"),
        (torch.zeros(0, 8, 64), r"n >= 1"),
        (torch.zeros(1, 8, 64, dtype=torch.int64), "floating point.*int64"),
        ([[0.0] * 64] * 8, "torch.Tensor"),
    ],
)
def test_malformed_latents_are_refused_by_name(space, latents, message):
    with pytest.raises(ValueError, match=message):
        space.render(latents, 64)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_latents_are_refused_with_their_place(space, bad):
    z = space.sample(2, 0)
    z[1, 3, 7] = bad
    with pytest.raises(ValueError, match=r"finite.*index \(1, 3, 7\)"):
        space.render(z, 64)


@pytest.mark.parametrize("size", [15, 8193, 0, -64, 64.0, "64", True])
def test_sizes_outside_the_range_are_refused_by_value(space, size):
    with pytest.raises(ValueError, match="size"):
        space.render(space.sample(1, 0), size)


def test_a_single_latent_without_batch_dimension_is_accepted(space):
    z = space.sample(1, 0)
    assert torch.equal(space.render(z[0], 64), space.render(z, 64))


def test_the_committed_weights_are_small_and_made_by_the_script():
    assert WEIGHTS.stat().st_size < 2 * 1024 * 1024
    from safetensors.torch import load_file

    committed = load_file(str(WEIGHTS))
    rebuilt = make()
    assert committed.keys() == rebuilt.keys()
    for name, tensor in rebuilt.items():
        assert torch.equal(committed[name], tensor), name


def test_the_version_is_a_digest_of_the_weights_and_the_renderer(tmp_path, space):
    # Rendered with torch alone: the weights' digest (the pictures of before the kernel).
    torch_alone = AbstractSpace(kernels=False)
    assert torch_alone.version == hashlib.sha256(WEIGHTS.read_bytes()).hexdigest()[:12]
    # With the fused kernel, whose pixels differ slightly: the weights and the kernel's source.
    assert space.kernels is not None, "the test machine compiles the fused kernel"
    tagged = WEIGHTS.read_bytes() + f"\0fused {fused.PIXELS}".encode()
    assert space.version == hashlib.sha256(tagged).hexdigest()[:12]
    copy = tmp_path / "abstract.safetensors"
    shutil.copy(WEIGHTS, copy)
    assert AbstractSpace(copy).version == space.version

    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(WEIGHTS))
    with safe_open(str(WEIGHTS), framework="pt") as f:
        metadata = f.metadata()
    tensors["layer1.bias"] = tensors["layer1.bias"] + 0.01
    save_file(tensors, str(copy), metadata=metadata)
    assert AbstractSpace(copy).version != space.version
