"""A diffusion image-variation space from a tiny pipeline the test builds from configs,
saved to a folder and loaded back without any network."""

from __future__ import annotations

import socket

import numpy as np
import pytest
import torch

from breeding import genetics
from inference.snapshot import Refused


def tiny_pipeline(folder) -> None:
    from diffusers import (
        AutoencoderKL,
        PNDMScheduler,
        StableDiffusionImageVariationPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=16, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=16,
        norm_num_groups=4, attention_head_dim=4)
    torch.manual_seed(0)
    vae = AutoencoderKL(
        block_out_channels=(8, 16), in_channels=3, out_channels=3, latent_channels=4,
        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
        norm_num_groups=4, sample_size=32)
    torch.manual_seed(0)
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=16, projection_dim=16, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=32, image_size=32, patch_size=8))
    processor = CLIPImageProcessor(crop_size=32, size=32)
    pipe = StableDiffusionImageVariationPipeline(
        vae=vae, image_encoder=encoder, unet=unet, scheduler=PNDMScheduler(skip_prk_steps=True),
        safety_checker=None, feature_extractor=processor, requires_safety_checker=False)
    pipe.save_pretrained(str(folder))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    torch.set_num_threads(2)
    path = tmp_path_factory.mktemp("variations")
    tiny_pipeline(path)
    return path


@pytest.fixture
def no_network(monkeypatch):
    """Every attempt to connect anywhere is recorded and fails."""
    attempts = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError(f"no network in this test (tried {address})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return attempts


def test_the_space_renders_crosses_and_projects_offline(folder, no_network):
    from inference.diffusion import DiffusionSpace

    space = DiffusionSpace(folder, slug="variations", steps=2)
    assert (space.layers, space.dim, space.native) == (1, 16, 32)
    # Renders are the same every time, whatever else is in the batch.
    a, b = space.sample(2, seed=4)
    alone = space._denoise(a[None])
    space._cache.clear()
    together = space.render(torch.stack([a, b]), 32)
    assert together.shape == (2, 32, 32, 3) and together.dtype == torch.uint8
    assert torch.equal(together[0], alone[0])
    assert not torch.equal(together[0], together[1])
    assert space.render(a[None], 16).shape == (1, 16, 16, 3)
    # Crossing is slerp: the child keeps the parents' length and lies between them.
    child = genetics.cross([a, b], [1, 1], [1, 1], seed=0, coarse_layers=space.coarse_layers,
                           std=space.stats.std, gaussian=space.prior == "gaussian")
    assert torch.allclose(child.norm(), a.norm(), rtol=1e-4)
    assert space.render(child[None], 32).shape == (1, 32, 32, 3)
    # An upload's latent is its embedding, exactly.
    picture = np.random.default_rng(0).integers(0, 256, (40, 48, 3), dtype=np.uint8)
    result = space.project(picture, size=32)
    assert torch.equal(result.latent, space.encode(picture))
    assert result.steps == 1 and np.isfinite(result.psnr_db)
    # Genes from the embeddings of the space's own renders.
    genes = space.candidate_directions(2, samples=5)
    assert [g[0] for g in genes] == ["pc-embedding-1", "pc-embedding-2"]
    assert all(abs(float(d.norm()) - 1) < 1e-5 for _, _, d in genes)
    assert no_network == []


def test_the_space_is_deterministic_across_loads(folder, no_network):
    from inference.diffusion import DiffusionSpace

    first = DiffusionSpace(folder, steps=2)
    latent = first.sample(1, seed=9)
    again = DiffusionSpace(folder, steps=2)
    assert torch.equal(first.render(latent, 32), again.render(latent, 32))
    assert first.version == again.version and first.needs_gpu
    assert no_network == []


def test_folders_that_are_not_image_variation_pipelines_are_refused(tmp_path, folder):
    from inference.diffusion import DiffusionSpace

    with pytest.raises(Refused, match="not a diffusers model folder"):
        DiffusionSpace(tmp_path)
    (tmp_path / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    with pytest.raises(Refused, match="the pipeline is a StableDiffusionPipeline"):
        DiffusionSpace(tmp_path)
    with pytest.raises(Refused, match="changed since the space was added"):
        DiffusionSpace(folder, version="0" * 16)
