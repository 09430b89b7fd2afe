"""Full batches whose pictures never depend on their companions: a StyleGAN space rendering
in passes of one fixed shape (what the inference service does on a GPU with
``--fixed-batch``), checked here on the CPU with the same code."""

from __future__ import annotations

import pytest
import torch

from inference.stylegan import StyleGANSpace
from tests.inference.snapshots import snapshot_bytes, tiny_stylegan2


@pytest.fixture(scope="module")
def gan(tmp_path_factory):
    torch.set_num_threads(2)
    path = tmp_path_factory.mktemp("fixed") / "network-snapshot.pkl"
    path.write_bytes(snapshot_bytes(tiny_stylegan2(seed=3).eval()))
    return StyleGANSpace(path, slug="fixed", device="cpu", stats_samples=64)


def test_a_picture_is_the_same_whatever_it_is_batched_with(gan):
    latents = gan.sample(13, seed=5)
    target = latents[:1]
    alone = gan.render_fixed(target, 32, batch=4)  # with three copies of itself
    among = gan.render_fixed(torch.cat([latents[1:3], target, latents[3:4]]), 32, batch=4)[2:3]
    others = gan.render_fixed(torch.cat([target, latents[4:7]]), 32, batch=4)[:1]
    later = gan.render_fixed(torch.cat([latents[7:12], target]), 32, batch=4)[5:6]  # 2nd, padded pass
    assert alone.dtype == torch.uint8 and alone.shape == (1, 32, 32, 3)
    for picture in (among, others, later):
        assert torch.equal(picture, alone)
    # The companions are pictures of their own latents, not copies of the target.
    companions = gan.render_fixed(torch.cat([latents[1:3], target, latents[3:4]]), 32, batch=4)
    assert not torch.equal(companions[0], alone[0])
    assert torch.equal(companions[1:2], gan.render_fixed(latents[2:3], 32, batch=4))


def test_fixed_passes_look_like_one_at_a_time_pictures(gan):
    latents = gan.sample(6, seed=6)
    fixed = gan.render_fixed(latents, 32, batch=4).int()
    single = gan.render(latents, 32).int()
    assert fixed.shape == single.shape == (6, 32, 32, 3)
    assert (fixed - single).abs().max() <= 1  # the same picture, to the last bit or one level


def test_a_batch_of_fewer_than_one_picture_is_refused(gan):
    with pytest.raises(ValueError, match="at least 1"):
        gan.render_fixed(gan.sample(1, seed=7), 32, batch=0)


@pytest.mark.parametrize("fixed", [False, True])
def test_the_service_gives_its_stylegan_spaces_fixed_passes_only_when_asked(gan, fixed):
    from inference.service import Limits, Service
    from inference.space import register_file

    slug = register_file(f"fixed-{int(fixed)}=stylegan:{gan.path}")
    service = Service([slug], Limits(max_batch=8, fixed_batch=fixed), device="cpu")
    service.load()
    try:
        assert service.ready, service.load_error
        assert service.spaces[slug].space.fixed_batch == (8 if fixed else 0)
    finally:
        for batcher in service.batchers.values():
            batcher.close()
