"""StyleGAN2 and StyleGAN3 spaces from tiny snapshots the tests make themselves."""

from __future__ import annotations

import pytest
import torch

from breeding import genetics
from inference import stylegan
from inference.snapshot import Refused
from inference.stylegan import StyleGANSpace, load_generator
from tests.inference.snapshots import snapshot_bytes, tiny_stylegan2, tiny_stylegan3

MAKERS = {"stylegan2": tiny_stylegan2, "stylegan3": tiny_stylegan3,
          "stylegan3-r": lambda: tiny_stylegan3(radial=True)}


def make(kind: str, tmp_path_factory):
    torch.set_num_threads(2)
    g = MAKERS[kind]().eval()
    path = tmp_path_factory.mktemp(kind) / "network-snapshot.pkl"
    path.write_bytes(snapshot_bytes(g))
    return g, path


@pytest.fixture(scope="module", params=sorted(MAKERS))
def made(request, tmp_path_factory):
    """Each architecture in turn."""
    return make(request.param, tmp_path_factory)


@pytest.fixture(scope="module")
def made2(tmp_path_factory):
    """StyleGAN2 alone, for what only it has (lower blocks) or what the architecture does
    not change (projection, gene discovery: the same code for every synthesis network)."""
    return make("stylegan2", tmp_path_factory)


def test_a_snapshot_loads_bit_identically_to_its_state_dict(made):
    g, path = made
    loaded, config = load_generator(path)
    ours, theirs = g.state_dict(), loaded.state_dict()
    assert sorted(ours) == sorted(theirs)
    for name in ours:
        assert torch.equal(ours[name], theirs[name]), name
    assert config["arch"] == ("stylegan2" if isinstance(g.synthesis, stylegan.nets.SynthesisNetwork)
                              else "stylegan3")


def test_the_loaded_generator_renders_what_the_original_renders(made):
    g, path = made
    loaded, _ = load_generator(path)
    z = torch.randn(3, g.z_dim, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(g(z, 0.7), loaded(z, 0.7))


def test_a_safetensors_export_loads_the_same_network(made, tmp_path):
    g, path = made
    out = tmp_path / "g.safetensors"
    assert stylegan.main(["export", str(path), str(out)]) == 0
    loaded, _ = load_generator(out)
    for name, value in g.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value), name


def test_the_space_samples_w_plus_with_truncation_and_renders_deterministically(made):
    g, path = made
    space = StyleGANSpace(path, slug="tiny", stats_samples=256)
    assert (space.layers, space.dim) == (g.num_ws, g.w_dim)
    assert space.version == stylegan.file_digest(path)[:16]
    a, b = space.sample(4, seed=5), space.sample(4, seed=5)
    assert a.shape == (4, g.num_ws, g.w_dim) and torch.equal(a, b)
    # Truncation pulls every w towards w_avg by psi.
    full = space.sample(4, seed=5, truncation=1.0)
    w_avg = g.mapping.w_avg
    assert torch.allclose(a, w_avg + 0.7 * (full - w_avg), atol=1e-5)
    pictures = space.render(a, 32)
    assert pictures.shape == (4, 32, 32, 3) and pictures.dtype == torch.uint8
    assert torch.equal(pictures, space.render(a, 32))
    assert pictures.float().std() > 5  # not a flat picture
    assert not space.needs_gpu


def test_stylegan2_renders_small_pictures_from_its_lower_blocks(made2):
    g, path = made2
    space = StyleGANSpace(path, slug="tiny", stats_samples=64)
    assert space.arch == "stylegan2"
    w = space.sample(2, seed=0)
    with torch.no_grad():
        at16 = g.synthesis(w, max_resolution=16)
    assert at16.shape[-1] == 16
    expected = ((at16 * 0.5 + 0.5).clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1)
    assert torch.equal(space.render(w, 16), expected)


def test_crossing_groups_and_closed_form_genes(made):
    _, path = made
    space = StyleGANSpace(path, slug="tiny", stats_samples=64)
    groups = space.groups
    assert groups["coarse"][0] == 0 and groups["fine"][1] == space.layers
    assert groups["coarse"][1] <= groups["middle"][0] <= groups["middle"][1] <= groups["fine"][0]
    a, b = space.sample(2, seed=3)
    child = genetics.mix_groups([a, b], {"coarse": [1, 0], "middle": [0, 1], "fine": [0, 1]},
                                groups, gaussian=False)
    c0, c1 = groups["coarse"]
    assert torch.equal(child[c0:c1], a[c0:c1])
    assert torch.equal(child[c1:], b[c1:])
    directions = space.factor_directions(3)
    assert len(directions) == 3
    for d in directions:
        assert d.shape == (space.layers, space.dim)
        assert abs(float(d.norm()) - 1) < 1e-5
    # The top direction changes the styles more than any later one, by construction.
    affine = torch.cat([a for _, a in space.style_affines()])
    moved = [float((affine @ d[0]).norm()) for d in directions]
    assert moved == sorted(moved, reverse=True)
    coarse = space.factor_directions(1, group="coarse")[0]
    assert torch.count_nonzero(coarse[c1:]) == 0


def test_projection_finds_a_rendered_picture_in_w_plus(made2):
    _, path = made2
    space = StyleGANSpace(path, slug="tiny", stats_samples=64)
    target = space.render(space.sample(1, seed=11), 32)[0]
    steps = []
    result = space.project(target, size=32, seed=0, steps=24, on_step=steps.append)
    assert result.latent.shape == (space.layers, space.dim)
    assert len(steps) == 24 and steps[-1].loss < steps[0].loss
    start = space.render(space.sample(16, seed=0), 32).float()
    start_mse = float(((start - target.float()) ** 2).mean(dim=(1, 2, 3)).min())
    end_mse = float(((space.render(result.latent[None], 32)[0].float() - target.float()) ** 2).mean())
    assert end_mse < start_mse


def test_changed_or_wrong_files_are_refused_with_a_sentence(made, tmp_path):
    _, path = made
    with pytest.raises(Refused, match="changed since the space was added"):
        StyleGANSpace(path, version="0" * 16)
    with pytest.raises(Refused, match="no file at"):
        load_generator(tmp_path / "missing.pkl")
    bad = tmp_path / "weights.bin"
    bad.write_bytes(b"x")
    with pytest.raises(Refused, match="loads a .pkl snapshot or a .safetensors export"):
        load_generator(bad)
    plain = tmp_path / "plain.safetensors"
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(1)}, str(plain))
    with pytest.raises(Refused, match="no 'mendel.stylegan' config"):
        load_generator(plain)


def test_a_full_size_generator_is_marked_as_needing_a_gpu():
    with torch.device("meta"):
        g = stylegan.nets.stylegan2(img_resolution=1024)
    assert stylegan.gmac_per_image(g) > stylegan.CPU_MAX_GMAC
    assert g.num_ws == 18


def test_gene_discovery_tries_the_closed_form_directions(made2):
    from breeding.genes import discover_candidates

    _, path = made2
    space = StyleGANSpace(path, slug="tiny", stats_samples=64)
    genes = discover_candidates(space, samples=24, held_out=3, size=32, components=2, steps=3)
    closed = [g for g in genes if g.source == "closed-form"]
    assert len(closed) == 2
    for gene, direction in zip(closed, space.factor_directions(2), strict=True):
        # The same direction, as long as the samples' spread along it (W is no unit Gaussian).
        unit = gene.direction / gene.direction.norm()
        assert torch.allclose(unit.abs(), direction.abs(), atol=1e-6)


def test_the_upsampling_conv_is_a_conv_over_the_upsampled_input_away_from_the_border():
    from inference.stylegan_nets import fir_2d, modulated_conv2d, upsample2x

    gen = torch.Generator().manual_seed(0)
    x, w, s = torch.randn(2, 3, 6, 6, generator=gen), torch.randn(4, 3, 3, 3, generator=gen), torch.randn(2, 3, generator=gen)
    f = fir_2d([1, 3, 3, 1])
    fast = modulated_conv2d(x, w, s, padding=1, up_filter=f)
    slow = modulated_conv2d(upsample2x(x, f), w, s, padding=1)
    assert fast.shape == slow.shape == (2, 4, 12, 12)
    assert torch.allclose(fast[..., 2:-2, 2:-2], slow[..., 2:-2, 2:-2], atol=1e-5)


def test_the_flop_floor_of_a_full_size_stylegan2_is_about_151_gflop():
    with torch.device("meta"):
        g = stylegan.nets.stylegan2(img_resolution=1024, channel_base=32768)
    assert 145 < 2 * stylegan.gmac_per_image(g) < 155


def test_the_space_moves_to_the_service_device_and_takes_mixed_precision(made2):
    """The service places a space with ``to(device)`` and renders under autocast; a StyleGAN
    space moves its generator (on a GPU machine, to the GPU the service drives), and its
    mapping keeps W in float32 when autocast makes the layers' outputs half precision."""
    from inference.device import OnDevice, precision_difference

    _, path = made2
    space = StyleGANSpace(path, stats_samples=64, device="cpu")
    assert space.to(torch.device("cpu")) is space and space.device == torch.device("cpu")
    assert all(p.device.type == "cpu" for p in space.generator.parameters())
    z = torch.randn(3, space.generator.z_dim, generator=torch.Generator().manual_seed(1))
    exact = space.generator.mapping(z, 0.7)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = space.generator.mapping(z, 0.7)
    assert mixed.dtype == torch.float32 and mixed.shape == exact.shape
    assert 0 < float((mixed - exact).abs().max()) < 0.1 * float(exact.abs().max())
    placed = OnDevice(space, torch.device("cpu"), "bf16")
    assert placed.render(space.sample(2, 3), 32).shape == (2, 32, 32, 3)
    found = precision_difference(space, "cpu", "bf16", n=2, size=32)
    assert found.max_abs >= 1  # autocast reached the generator's products
