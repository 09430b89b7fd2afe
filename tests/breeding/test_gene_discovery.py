"""Gene discovery on the real abstract space: small, seeded runs on the CPU, no database."""

from __future__ import annotations

import pytest
import torch

from breeding.genes import DiscoveredGene, discover_genes, validate_direction
from inference.metrics import ATTRIBUTES, brightness

# Small enough for two cores: one discovery for the whole module, a few seconds.
SAMPLES = 256
HELD_OUT = 12
SIZE = 32
MIN_RHO = 0.8


@pytest.fixture(scope="module")
def space():
    from inference import get_space

    torch.set_num_threads(2)
    return get_space("abstract")


@pytest.fixture(scope="module")
def discovery(space):
    """The genes of one discovery, and every progress report it made."""
    reports: list[tuple[float, str]] = []
    genes = discover_genes(
        space,
        samples=SAMPLES,
        held_out=HELD_OUT,
        size=SIZE,
        min_rho=MIN_RHO,
        seed=0,
        on_progress=lambda fraction, message: reports.append((fraction, message)),
    )
    return genes, reports


@pytest.fixture(scope="module")
def genes(discovery) -> dict[str, DiscoveredGene]:
    return {gene.slug: gene for gene in discovery[0]}


def tiny_discovery(space, reports: list[str]) -> list[DiscoveredGene]:
    """A few seconds: so strict that some candidates fail and are retried over half the range."""
    return discover_genes(
        space,
        samples=64,
        held_out=4,
        components=2,
        size=16,
        min_rho=0.95,
        seed=3,
        on_progress=lambda fraction, message: reports.append(message),
    )


def test_it_finds_brightness_and_other_attribute_genes(genes):
    attribute_genes = [g for g in genes.values() if g.source == "attribute"]
    assert "brightness" in genes
    assert genes["brightness"].rho >= MIN_RHO
    assert len(attribute_genes) >= 4
    assert all(g.rho >= MIN_RHO for g in attribute_genes)


def test_the_brightness_gene_makes_fresh_pictures_brighter(space, genes):
    direction = genes["brightness"].direction
    z = space.sample(8, seed=1234)  # neither the fitting samples nor the held-out ones
    lighter = space.render(z + 2 * direction, 64)
    darker = space.render(z - 2 * direction, 64)
    pairs = zip(lighter, darker, strict=True)
    gains = torch.tensor([brightness(a) - brightness(b) for a, b in pairs])
    assert gains.mean() > 0
    assert (gains > 0).sum() >= 6


def test_every_gene_is_a_unit_direction_with_a_validated_range(discovery, space):
    found = discovery[0]
    assert len({g.slug for g in found}) == len(found)
    for gene in found:
        assert gene.direction.shape == (space.layers, space.dim)
        assert gene.direction.dtype == torch.float32
        assert gene.direction.norm().item() == pytest.approx(1.0, abs=1e-5)
        assert gene.low < 0 < gene.high
        assert gene.rho >= MIN_RHO
        assert gene.source in ("attribute", "pca")


def test_attribute_genes_come_first_in_attribute_order_then_pca_genes(discovery):
    found = discovery[0]
    sources = [g.source for g in found]
    assert sources == sorted(sources)  # "attribute" < "pca"
    attribute_slugs = [g.slug for g in found if g.source == "attribute"]
    assert attribute_slugs == [slug for slug in ATTRIBUTES if slug in attribute_slugs]
    pca = [g for g in found if g.source == "pca"]
    assert [g.slug for g in pca] == [f"pc-{k}" for k in range(1, len(pca) + 1)]
    assert all(g.label.startswith("Variation ") for g in pca)


def test_progress_runs_from_zero_to_one_without_going_back(discovery):
    fractions = [fraction for fraction, _ in discovery[1]]
    assert fractions, "on_progress was never called"
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0


def test_validation_can_fail(space, genes):
    """Random directions mostly fail for brightness, and the gene walked backwards fails.

    Spearman's rho measures only whether brightness moves consistently, not by how much, so
    a random direction that happens to lean on the lightness latents can pass; most don't.
    """
    held = space.sample(HELD_OUT, seed=1)
    generator = torch.Generator().manual_seed(7)
    rhos = []
    for _ in range(6):
        direction = torch.randn(space.layers, space.dim, generator=generator)
        rhos.append(
            validate_direction(space, direction / direction.norm(), brightness, held, 3.0, 7, SIZE)
        )
    assert sum(rhos) / len(rhos) < 0.4
    assert sum(rho < MIN_RHO for rho in rhos) >= 4

    backwards = validate_direction(
        space, -genes["brightness"].direction, brightness, held, 3.0, 7, SIZE
    )
    assert backwards < -MIN_RHO


def test_the_same_seed_gives_the_same_genes(space):
    reports: list[str] = []
    first, second = tiny_discovery(space, reports), tiny_discovery(space, reports)
    assert [g.slug for g in first] == [g.slug for g in second]
    assert first, "the tiny discovery found no genes to compare"
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a.direction, b.direction)
        assert (a.low, a.high, a.rho) == (b.low, b.high, b.rho)
    # The retry over half the range ran, and kept only genes that then passed.
    assert any("half the range" in message for message in reports)
    for gene in first:
        assert gene.rho >= 0.95
        assert gene.high in (3.0, 1.5) and gene.low == -gene.high


@pytest.mark.parametrize(
    ("argument", "value"),
    [("samples", 1), ("samples", 0), ("amount", 0), ("amount", -1.5), ("steps", 2)],
)
def test_bad_arguments_raise_a_value_error_naming_the_value(space, argument, value):
    with pytest.raises(ValueError, match=rf"{argument}.*got {value}"):
        discover_genes(space, **{argument: value})


def test_validate_direction_rejects_a_direction_of_the_wrong_shape(space):
    with pytest.raises(ValueError, match=r"got \(64, 8\)"):
        validate_direction(space, torch.zeros(64, 8), brightness, space.sample(2, 0), 1.0, 5, 16)


def test_kept_attribute_genes_move_their_attribute_visibly(genes):
    from breeding.genes import MIN_EFFECT

    attribute_genes = [g for g in genes.values() if g.source == "attribute"]
    assert attribute_genes
    assert all(g.effect >= MIN_EFFECT for g in attribute_genes), [(g.slug, g.effect) for g in attribute_genes]
