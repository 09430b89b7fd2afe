"""The trainer (inference.gan) for real, on a few dozen tiny pictures at 16 px."""

from __future__ import annotations

import math

import pytest
import torch

from inference import gan
from inference import stylegan_nets as nets
from inference.stylegan import StyleGANSpace, load_generator

SMALL = dict(resolution=16, z_dim=32, w_dim=32, channels={4: 32, 8: 32, 16: 16}, batch=8, r1_every=2)


def pictures(n: int = 24, size: int = 16, seed: int = 0) -> torch.Tensor:
    """Coloured discs on white, each of its own colour, place and radius."""
    g = torch.Generator().manual_seed(seed)
    ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    out = torch.full((n, 3, size, size), 255, dtype=torch.uint8)
    for i in range(n):
        cy, cx = (torch.rand(2, generator=g) * size * 0.5 + size * 0.25).tolist()
        r = float(torch.rand(1, generator=g)) * size * 0.25 + 2
        colour = (torch.rand(3, generator=g) * 255).to(torch.uint8)
        inside = (ys - cy) ** 2 + (xs - cx) ** 2 <= r * r
        out[i][:, inside] = colour.reshape(3, 1)
    return out


@pytest.fixture(autouse=True)
def _one_thread():
    """These networks are tiny: one thread is faster than two, and the same bits."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_few_steps_give_finite_losses_and_move_every_network():
    trainer = gan.Trainer(pictures(), gan.Recipe(**SMALL))
    before_g = {k: v.clone() for k, v in trainer.G.state_dict().items()}
    before_d = {k: v.clone() for k, v in trainer.D.state_dict().items()}
    steps = [trainer.step() for _ in range(4)]
    for s in steps:
        assert all(math.isfinite(v) for v in (s.g_loss, s.d_loss, s.real_score, s.fake_score))
    assert [s.r1 is not None for s in steps] == [True, False, True, False]  # lazy R1 every 2nd
    assert trainer.nimg == 32 and trainer.step_count == 4
    assert not same(before_g, trainer.G.state_dict()) and not same(before_d, trainer.D.state_dict())
    # The moving average lags the generator; the centre of truncation followed W.
    assert not same(trainer.G.state_dict(), trainer.G_ema.state_dict())
    assert trainer.G.mapping.w_avg.abs().sum() > 0
    samples = trainer.samples(4)
    assert samples.shape == (4, 16, 16, 3) and samples.dtype == torch.uint8


def test_a_run_resumed_from_a_checkpoint_is_the_run_that_never_stopped():
    unbroken = gan.Trainer(pictures(), gan.Recipe(**SMALL))
    for _ in range(6):
        unbroken.step()
    first = gan.Trainer(pictures(), gan.Recipe(**SMALL))
    for _ in range(3):
        first.step()
    checkpoint = first.state()
    del first
    resumed = gan.Trainer.resume(pictures(), checkpoint)
    assert resumed.nimg == 24
    for _ in range(3):
        resumed.step()
    assert same(unbroken.G.state_dict(), resumed.G.state_dict())
    assert same(unbroken.D.state_dict(), resumed.D.state_dict())
    assert same(unbroken.G_ema.state_dict(), resumed.G_ema.state_dict())
    assert torch.equal(unbroken.rng.get_state(), resumed.rng.get_state())


def test_the_same_seed_trains_the_same_generator_and_another_seed_another():
    def trained(seed):
        t = gan.Trainer(pictures(), gan.Recipe(**{**SMALL, "seed": seed}))
        for _ in range(2):
            t.step()
        return t.G_ema.state_dict()

    assert same(trained(5), trained(5))
    assert not same(trained(5), trained(6))


def test_train_checkpoints_reports_and_stops_when_asked():
    trainer = gan.Trainer(pictures(), gan.Recipe(**SMALL))
    saved, reports = [], []
    ticks = iter(range(0, 10_000, 10))  # a clock where every step takes 10 s
    done = gan.train(trainer, 40, save=lambda state, t: saved.append(t.nimg), every_s=25,
                     report=reports.append, report_every_s=0, clock=lambda: next(ticks))
    assert done and trainer.nimg == 40
    assert saved == [24, 40]  # after 30 s of steps, and at the end
    assert [r.nimg for r in reports] == [8, 16, 24, 32, 40] and reports[-1].seconds_left == 0
    stopping = gan.Trainer(pictures(), gan.Recipe(**SMALL))
    saved.clear()
    assert not gan.train(stopping, 1000, save=lambda state, t: saved.append(t.nimg),
                         should_stop=lambda: stopping.nimg >= 16)
    assert saved == [16]  # a stop checkpoints first


def test_the_export_is_a_stylegan_space_that_renders_what_the_average_generator_draws(tmp_path):
    trainer = gan.Trainer(pictures(), gan.Recipe(**SMALL))
    trainer.step()
    path = tmp_path / "tiny.safetensors"
    trainer.export(path, seed=0)
    g, config = load_generator(path)
    assert config["img_resolution"] == 16 and config["channels"] == {"4": 32, "8": 32, "16": 16}
    z = torch.randn(2, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours = trainer.G_ema(z)
        theirs = g(z)
    assert torch.allclose(ours, theirs, atol=1e-4)  # unfused in training, fused in rendering
    space = StyleGANSpace(path, slug="tiny", stats_samples=64)
    a = space.render(space.sample(2, 3), 64)
    assert a.shape == (2, 64, 64, 3) and torch.equal(a, space.render(space.sample(2, 3), 64))


def test_the_unfused_modulated_convolution_is_the_fused_one():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 8, 6, 6, generator=g)
    weight = torch.randn(5, 8, 3, 3, generator=g)
    styles = torch.randn(3, 8, generator=g)
    f = nets.fir_2d([1, 3, 3, 1])
    for kwargs in ({"padding": 1}, {"up_filter": f}, {"padding": 1, "demodulate": False}):
        fused = nets.modulated_conv2d(x, weight, styles, **kwargs)
        unfused = nets.modulated_conv2d(x, weight, styles, fused=False, **kwargs)
        assert torch.allclose(fused, unfused, atol=1e-5), kwargs


def test_augmentations_keep_shape_pass_gradients_and_change_pictures():
    x = (pictures(8).float() / 127.5 - 1).requires_grad_(True)
    for name in gan.AUGMENTS:
        out = gan.augment(x, name, torch.Generator().manual_seed(0))
        assert out.shape == x.shape and not torch.equal(out, x), name
        (grad,) = torch.autograd.grad(out.sum(), x)
        assert grad.abs().sum() > 0, name
    # The same generator state gives the same augmentation.
    a = gan.augment(x, "color,translation,cutout", torch.Generator().manual_seed(4))
    b = gan.augment(x, "color,translation,cutout", torch.Generator().manual_seed(4))
    assert torch.equal(a, b)


def test_bad_recipes_and_pictures_are_refused_with_a_sentence():
    with pytest.raises(ValueError, match="resolution must be one of 16, 32, 64, 128"):
        gan.Recipe(resolution=48)
    with pytest.raises(ValueError, match="unknown augmentation blur"):
        gan.Recipe(augment="color,blur")
    with pytest.raises(ValueError, match="must be 16 px"):
        gan.Trainer(pictures(4, size=32), gan.Recipe(**SMALL))
    with pytest.raises(ValueError, match="not a Mendel training checkpoint"):
        import io

        buffer = io.BytesIO()
        torch.save({"format": "other"}, buffer)
        gan.Trainer.resume(pictures(), buffer.getvalue())


def test_a_run_goes_on_from_an_export_with_its_generator_and_count_and_a_fresh_critic(tmp_path):
    first = gan.Trainer(pictures(), gan.Recipe(**SMALL))
    for _ in range(3):
        first.step()
    first.export(tmp_path / "v1.safetensors")
    more = gan.Trainer.continuing(pictures(), tmp_path / "v1.safetensors", seed=5)
    assert more.recipe.seed == 5 and more.recipe.resolution == 16
    assert more.nimg == first.nimg == 3 * SMALL["batch"]
    assert same(more.G_ema.state_dict(), first.G_ema.state_dict())
    assert same(more.G.state_dict(), first.G_ema.state_dict())
    step = more.step()
    assert math.isfinite(step.g_loss) and math.isfinite(step.d_loss)
    assert more.nimg == 4 * SMALL["batch"]
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(1)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ValueError, match="not a generator exported by Mendel"):
        gan.Trainer.continuing(pictures(), tmp_path / "other.safetensors")
