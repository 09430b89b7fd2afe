"""The GAN quality benchmark's measures behave as their definitions say, on synthetic
features (no training set, no network, no generator)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_gan_quality", ROOT / "bench" / "gan_quality.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


q = _load_bench()


def cloud(n: int, d: int = 16, seed: int = 0, shift: float = 0.0) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed)) + shift


def test_precision_and_recall_of_a_set_against_itself_are_one():
    x = cloud(200)
    assert q.precision_recall(x, x.clone()) == (1.0, 1.0)


def test_precision_and_recall_against_a_far_away_set_are_zero():
    assert q.precision_recall(cloud(200), cloud(200, seed=1, shift=100.0)) == (0.0, 0.0)


def test_a_generator_covering_half_the_modes_has_full_precision_and_half_recall():
    modes = torch.eye(16) * 50
    real = torch.cat([cloud(50, seed=i) * 0.5 + modes[i] for i in range(4)])
    fake = real[:100] + cloud(100, seed=7) * 1e-3  # near-copies of the first two modes only
    assert q.precision_recall(real, fake) == (1.0, 0.5)


def test_fresh_draws_from_the_same_distribution_score_high_on_both():
    precision, recall = q.precision_recall(cloud(300, d=8), cloud(300, d=8, seed=1))
    assert precision > 0.7 and recall > 0.7


def test_the_k_nn_radius_ignores_the_point_itself():
    x = torch.tensor([[0.0], [1.0], [3.0]])
    assert q.nearest_other(x, 1).tolist() == [1.0, 1.0, 2.0]
    assert q.nearest_other(x, 2).tolist() == [3.0, 2.0, 3.0]
    with pytest.raises(ValueError):
        q.nearest_other(x, 3)


def test_copy_ratio_is_zero_for_copies_and_near_one_for_fresh_draws():
    training = cloud(500, d=8)
    copies = training[torch.randperm(500, generator=torch.Generator().manual_seed(1))[:100]]
    assert q.copy_ratio(copies, training) == 0.0
    fresh = cloud(100, d=8, seed=2)
    assert 0.8 < q.copy_ratio(fresh, training) < 1.3
    assert q.copy_ratio(cloud(100, d=8, seed=3, shift=10.0), training) > 3


def test_copy_gap_calls_both_copying_and_straying_far_off():
    assert q.copy_gap(1.0, 1.0) == 0.0
    assert q.copy_gap(0.1, 1.0) == pytest.approx(q.copy_gap(10.0, 1.0))
    assert q.copy_gap(0.9, 1.0) < q.copy_gap(3.0, 1.0)


def test_a_two_sample_test_on_one_distribution_is_near_chance():
    accuracy = q.c2st_accuracy(cloud(300), cloud(300, seed=1))
    assert 0.35 < accuracy < 0.65


def test_a_two_sample_test_on_separated_distributions_is_near_one():
    assert q.c2st_accuracy(cloud(300), cloud(300, seed=1, shift=1.5)) > 0.95


def test_a_linear_probe_tells_separable_classes_apart_and_not_noise():
    centres = cloud(3, d=16, seed=9) * 4
    y = torch.arange(600) % 3
    x = centres[y] + cloud(600, d=16, seed=4)
    assert q.probe_accuracy(x[:400], y[:400], x[400:], y[400:], 3) > 0.95
    noise = cloud(600, d=16, seed=5)
    assert q.probe_accuracy(noise[:400], y[:400], noise[400:], y[400:], 3) < 0.5


def test_the_feature_network_gives_unit_features_and_trains_a_step():
    pictures = torch.randint(0, 256, (8, 3, 64, 64), dtype=torch.uint8,
                             generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([0, 1, 2, -1, 0, 1, 2, 0])
    net = q.train_feature_net(pictures, labels, 3, seed=0, epochs=1, batch=8)
    space = q.FeatureSpace(net, pictures)
    f = space(pictures)
    assert f.shape == (8, space.dim) and space.dim == 16 + 32 + 64 + 64 + 128 + 128
    assert torch.allclose(f.norm(dim=1), torch.ones(8), atol=1e-5)
    again = q.FeatureSpace(q.train_feature_net(pictures, labels, 3, seed=0, epochs=1, batch=8), pictures)
    assert torch.equal(f, again(pictures))  # deterministic from the seed


def test_the_benchmark_asks_for_the_training_set_with_a_sentence(tmp_path):
    weights = tmp_path / "g.safetensors"
    weights.write_bytes(b"")
    out = subprocess.run(
        [sys.executable, "bench/gan_quality.py", "--weights", str(weights), "--early", "none",
         "--set", str(tmp_path / "no-set"), "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "python -m inference.make_emoji_set" in out.stderr
    assert out.stdout == ""


def test_the_probe_chooses_its_penalty_on_the_training_rows_alone():
    centres = cloud(3, d=8, seed=9) * 4
    y = torch.arange(90) % 3
    x = centres[y] + cloud(90, d=8, seed=4)
    assert q.choose_l2(x, y, 3, options=(1e-4, 1e-2), folds=2) in (1e-4, 1e-2)


def test_the_not_an_emoji_views_keep_shape_and_range():
    x = torch.zeros(4, 3, 64, 64)
    out = q.corrupt(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.min() >= -1 and out.max() <= 1
    assert not torch.equal(out, x)
