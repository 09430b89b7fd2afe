"""Gene discovery on the real abstract space: small, seeded runs on the CPU, no database."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from breeding.genes import (
    CHECK_ONLY,
    LABELS,
    MIN_CHANGE,
    MIN_EFFECT,
    MIN_RATIO,
    DiscoveredGene,
    discover_candidates,
    discover_genes,
    selectivity,
    validate_direction,
)
from inference.metrics import ATTRIBUTES, brightness

# Small enough for two cores: one discovery for the whole module, about 15 seconds.
SAMPLES = 128
HELD_OUT = 8
SIZE = 64
COMPONENTS = 2
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
    candidates = discover_candidates(
        space,
        samples=SAMPLES,
        held_out=HELD_OUT,
        size=SIZE,
        components=COMPONENTS,
        min_rho=MIN_RHO,
        seed=0,
        on_progress=lambda fraction, message: reports.append((fraction, message)),
    )
    return [c for c in candidates if c.kept], reports, candidates


@pytest.fixture(scope="module")
def genes(discovery) -> dict[str, DiscoveredGene]:
    return {gene.slug: gene for gene in discovery[0]}


def tiny_discovery(space, reports: list[str]) -> list[DiscoveredGene]:
    """A few seconds: so small and strict that candidates fail and are retried over half the
    range."""
    return discover_candidates(
        space,
        samples=64,
        held_out=4,
        components=2,
        size=16,
        min_rho=0.95,
        seed=3,
        on_progress=lambda fraction, message: reports.append(message),
    )


def test_it_finds_the_colour_genes_and_a_sane_number_of_genes(genes):
    assert {"brightness", "colourfulness", "warmth", "tint", "contrast"} <= set(genes)
    assert 5 <= len(genes) <= 10
    assert all(g.rho >= MIN_RHO for g in genes.values())


def test_every_gene_is_named_after_what_it_moves(genes):
    for gene in genes.values():
        assert gene.attribute in ATTRIBUTES
        assert gene.label == LABELS[gene.attribute]
        assert "Variation" not in gene.label


def test_every_named_gene_is_selective_and_visible_on_the_held_out_pictures(genes):
    for gene in genes.values():
        assert gene.ratio >= MIN_RATIO, (gene.slug, gene.ratio, gene.rival)
        assert gene.effect >= MIN_EFFECT, (gene.slug, gene.effect)
        assert gene.change >= MIN_CHANGE, (gene.slug, gene.change)


def test_every_named_gene_is_selective_on_fresh_pictures(space, genes):
    """Own attribute's change from one end of the range to the other, over the largest mean
    |change| of another, each over its spread on random pictures; on pictures neither
    discovery nor validation saw."""
    names = list(ATTRIBUTES)
    spread = measure_all(space.render(space.sample(64, seed=99), SIZE)).std(axis=0)
    z = space.sample(8, seed=1234)
    for gene in genes.values():
        low = measure_all(space.render(z + gene.low * gene.direction, SIZE))
        high = measure_all(space.render(z + gene.high * gene.direction, SIZE))
        delta = (high - low) / spread
        own = names.index(gene.attribute)
        others = np.delete(np.abs(delta).mean(axis=0), own)
        ratio = delta[:, own].mean() / others.max()
        assert ratio >= MIN_RATIO, gene.slug
        assert selectivity(space, gene, z, spread, SIZE)[0] == pytest.approx(ratio, rel=1e-6)


def test_a_gene_that_moves_other_attributes_as_much_as_its_own_is_dropped(discovery):
    candidates = discovery[2]
    dropped = [c for c in candidates if not c.kept]
    assert dropped, "every candidate passed: the test of selectivity never bit"
    for candidate in dropped:
        assert (
            candidate.ratio < MIN_RATIO
            or candidate.rho < MIN_RHO
            or candidate.effect < MIN_EFFECT
            or candidate.change < MIN_CHANGE
        )


def test_the_brightness_gene_makes_fresh_pictures_brighter(space, genes):
    direction = genes["brightness"].direction
    z = space.sample(8, seed=1234)  # neither the fitting samples nor the held-out ones
    lighter = space.render(z + 2 * direction, 64)
    darker = space.render(z - 2 * direction, 64)
    pairs = zip(lighter, darker, strict=True)
    gains = torch.tensor([brightness(a) - brightness(b) for a, b in pairs])
    assert gains.mean() > 0
    assert (gains > 0).sum() >= 6


def measure_all(images) -> np.ndarray:
    return np.array([[fn(image) for fn in ATTRIBUTES.values()] for image in images.numpy()])


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
    candidates = discovery[2]
    sources = [g.source for g in candidates]
    assert sources == sorted(sources)  # "attribute" < "pca"
    attribute_slugs = [g.slug for g in candidates if g.source == "attribute"]
    assert attribute_slugs == [slug for slug in ATTRIBUTES if slug in attribute_slugs]
    assert not set(attribute_slugs) & CHECK_ONLY  # measured as rivals, never fitted
    pca = [g for g in candidates if g.source == "pca"]
    assert len(pca) == COMPONENTS
    for k, gene in enumerate(pca, start=1):  # named after an attribute only if kept
        assert gene.slug == (gene.attribute if gene.kept else f"pc-{k}")


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
            validate_direction(space, direction / direction.norm(), brightness, held, 3.0, 7, 32)
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
    assert first, "the tiny discovery found no candidates to compare"
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a.direction, b.direction)
        assert (a.low, a.high, a.rho, a.ratio, a.kept) == (b.low, b.high, b.rho, b.ratio, b.kept)
    # The retry over half the range ran, and kept only genes that then passed.
    assert any("half the range" in message for message in reports)
    for gene in first:
        assert gene.high in (3.0, 1.5) and gene.low == -gene.high
        if gene.kept:
            assert gene.rho >= 0.95 and gene.ratio >= MIN_RATIO


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
    attribute_genes = [g for g in genes.values() if g.source == "attribute"]
    assert attribute_genes
    assert all(g.effect >= MIN_EFFECT for g in attribute_genes), [(g.slug, g.effect) for g in attribute_genes]
