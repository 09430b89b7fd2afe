"""The built-in ``emoji`` space: its committed weights load and render the same pixels
every time, in this process and in a fresh one from the command line."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import torch
from PIL import Image

from inference import get_space, space_slugs
from inference.emoji import WEIGHTS
from inference.space import file_digest
from mendel.processes import ROOT


def test_the_emoji_space_ships_its_weights_and_is_a_stylegan_space_of_64_px():
    assert "emoji" in space_slugs()
    space = get_space("emoji")
    assert WEIGHTS.is_file() and WEIGHTS.stat().st_size < 10_000_000
    assert space.version == file_digest(WEIGHTS)[:16]
    assert space.config["img_resolution"] == 64 and space.arch == "stylegan2"
    assert space.groups == {"coarse": (0, 4), "middle": (4, 8), "fine": (8, 10)}
    assert space.needs_gpu is False and space.gmac < 0.5


def test_a_seed_renders_the_same_pixels_every_time_here_and_from_the_command_line(tmp_path):
    space = get_space("emoji")
    latent = space.sample(1, 3)
    first = space.render(latent, 256)[0]
    assert torch.equal(first, space.render(latent, 256)[0])
    assert torch.equal(latent, space.sample(1, 3))
    # Not one flat colour: the generator draws something.
    assert first.float().std() > 10
    out = tmp_path / "x.png"
    done = subprocess.run([sys.executable, "-m", "inference", "render", "emoji", "--seed", "3",
                           "--size", "256", "-o", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    fresh = np.asarray(Image.open(out).convert("RGB"))
    assert fresh.shape == (256, 256, 3) and np.array_equal(fresh, first.numpy())


def test_a_pictures_pixels_do_not_depend_on_the_threads_or_its_batch():
    """Each picture is painted by one render worker on one torch thread: the same bits
    whatever thread count the process runs torch with, and whatever it is rendered with."""
    space = get_space("emoji")
    latents = space.sample(5, 11)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = space.render(latents, 256)
        torch.set_num_threads(2)
        two = space.render(latents, 256)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(one, two)
    assert torch.equal(space.render(latents[2:3], 256)[0], two[2])
    assert torch.get_num_threads() == threads  # restored once the render is done


def test_an_earlier_version_of_the_space_renders_from_its_own_weights(tmp_path, monkeypatch, db):
    """Works made in an earlier version render as ``emoji@<version>``, from the weights
    that version shipped with; the shipped earlier weights are named by their digest."""
    import pytest

    from inference import space as registry
    from inference.emoji import EmojiSpace, earlier_versions
    from tests.inference.snapshots import snapshot_bytes, tiny_stylegan2

    for version, path in earlier_versions().items():
        assert file_digest(path)[:16] == version
    path = tmp_path / "older.pkl"
    path.write_bytes(snapshot_bytes(tiny_stylegan2()))
    version = file_digest(path)[:16]
    monkeypatch.setattr(EmojiSpace, "earlier_versions", staticmethod(lambda: {version: path}))
    name = f"emoji@{version}"
    try:
        older = get_space(name)
        assert older.version == version and older.slug == name and (older.layers, older.dim) == (8, 16)
        assert get_space("emoji").version == file_digest(WEIGHTS)[:16]
        assert name not in space_slugs()
        with pytest.raises(KeyError):
            get_space("emoji@0123456789abcdef")
    finally:
        registry._REGISTRY.pop(name, None)
        registry._LOADED.pop(name, None)
