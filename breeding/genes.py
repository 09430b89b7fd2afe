"""Genes: directions in a latent space that move a picture steadily in one way.

Two kinds of candidate are found, then each is kept only if it passes validation on
held-out latents:

- attribute genes, after InterFaceGAN (Shen et al. 2020, "Interpreting the Latent Space of
  GANs for Semantic Face Editing"): a linear model of a measurable attribute (brightness,
  warmth, ...) on the latents; its normal is the direction of "more of it". Each is fitted
  only on the latent layers that can drive it (colour in the style layers, symmetry in the
  composition ones), made orthogonal to the other attributes' directions (the paper's
  conditional manipulation, sec. 2.3) and cut down to the coordinates that stand out of the
  regression's noise;
- PCA genes, after GANSpace (Härkönen et al. 2020, "GANSpace: Discovering Interpretable GAN
  Controls"): the principal components of sampled latents, the directions along which the
  samples vary most;
- directions a space offers itself (``candidate_directions(k)``): closed-form ones for
  StyleGAN (Shen and Zhou 2021, "Closed-form factorization of latent semantics in GANs"),
  principal components of its renders' embeddings for diffusion; validated and named like
  PCA genes.

A direction is validated by walking held-out latents along it and checking, with a
Spearman rank correlation, that the measured attribute rises with the amount, and that it
does what its name says and little else: its own attribute must change, end to end of the
range, ``MIN_RATIO`` times more than any other attribute (each in units of its spread over
random pictures), and the picture visibly. A PCA gene is named after the attribute it moves
most when it passes that test for an attribute no other gene holds, and is dropped
otherwise. Pure torch, numpy and scipy: no Django here. Its words for people (the sliders'
labels, the progress lines) are English, marked for the catalogue with ``common.words`` and
said in each reader's language where they are shown (``Gene.shown_label``, the studio socket).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import spearmanr

from common.words import Words, gettext_noop
from inference.metrics import ATTRIBUTES
from inference.space import check_latents, check_size

DEFAULT_BATCH = 64
#: Seed offset of the held-out latents: validation never sees the fitting samples.
HELD_OUT_SEED_OFFSET = 1
#: An attribute gene must move its attribute, end to end of its range, by at least this
#: many standard deviations of the attribute over random pictures: monotonic but tiny
#: changes (a random direction nudges brightness steadily about one time in five) are
#: not genes a person would notice.
MIN_EFFECT = 0.5
#: Selectivity: a gene's own attribute must change, from one end of its range to the other,
#: at least this many times more than any other attribute (both in units of their spread
#: over random pictures; the others' changes as mean absolute changes, so a gene that moves
#: them up on some pictures and down on others is not let off).
MIN_RATIO = 3.0
#: Visible: the mean absolute difference of the pictures at the two ends of the range, in
#: 0-255 pixel values, must reach this.
MIN_CHANGE = 12.0
#: Version of the discovery method, stored with the genes: a deployment whose genes were
#: found by an older method finds them again at start-up (``breeding.tasks.ensure_genes``).
DISCOVERY_VERSION = 3
#: The attributes that colour and shading decide, fitted on the style layers only; those of
#: the layout, on the composition layers only. Any other attribute may use every layer.
STYLE_ATTRIBUTES = frozenset({"brightness", "colourfulness", "warmth", "tint", "contrast"})
CONTENT_ATTRIBUTES = frozenset({"symmetry", "grain", "light_right", "light_bottom"})
#: The attributes that are only checked, never fitted: a gene's side effects on them count
#: against its ratio, but they get no candidate of their own. A grain gene (stretch and
#: rotation) passed on the held-out pictures at 3.1 but turned the mirror symmetry of
#: fresh pictures almost as much as their grain; the light's side moves with everything.
CHECK_ONLY = frozenset({"grain", "light_right", "light_bottom"})
#: What a slider is called: what moves, from its low end to its high end. Stored in English
#: (``Gene.label``) and translated where it is shown (``Gene.shown_label``).
LABELS = {
    "brightness": gettext_noop("Brightness"),
    "colourfulness": gettext_noop("Colourfulness"),
    "warmth": gettext_noop("Cool ↔ warm"),
    "tint": gettext_noop("Magenta ↔ green"),
    "contrast": gettext_noop("Contrast"),
    "complexity": gettext_noop("Calm ↔ busy"),
    "symmetry": gettext_noop("Symmetry"),
    "grain": gettext_noop("Horizontal ↔ vertical grain"),
    "light_right": gettext_noop("Light on the left ↔ right"),
    "light_bottom": gettext_noop("Light at the top ↔ bottom"),
    "subject_size": gettext_noop("Small ↔ large"),
    "subject_tall": gettext_noop("Wide ↔ tall"),
    "subject_right": gettext_noop("Subject to the left ↔ right"),
    "subject_low": gettext_noop("Subject up ↔ down"),
}
#: A coordinate of an attribute direction is kept if it exceeds this many robust standard
#: deviations (1.4826 x the median absolute deviation) of the direction's coordinates.
SPARSE_SIGMAS = 3.0
#: Share of the progress bar given to the main passes; the last share is the retry pass
#: of directions that failed over the full range and are tried over half of it.
MAIN_SHARE = 0.9

ProgressFn = Callable[[float, str], None]
#: Measures one (size, size, 3) uint8 picture; ``None`` measures the distance from the
#: unmoved picture instead (used for PCA genes, whose sign is arbitrary).
AttributeFn = Callable[[np.ndarray], float]


# eq=False: the dataclass's generated __eq__ would compare tensors, which is ambiguous.
@dataclass(eq=False)
class DiscoveredGene:
    """A validated direction. ``amount`` in [low, high] moves a picture steadily along it."""

    slug: str  # "brightness", "pc-1"
    label: str  # "Brightness", "Calm ↔ busy"; the slug for a dropped PCA candidate
    source: str  # "attribute", "pca" or "closed-form"
    direction: torch.Tensor  # (layers, dim) float32, unit L2 norm over all elements
    low: float
    high: float
    rho: float  # mean Spearman correlation on held-out latents, over [low, high]
    effect: float = float("nan")  # own attribute's change over [low, high], in sample std
    ratio: float = float("nan")  # effect / the largest mean |change| of another attribute
    rival: str = ""  # that other attribute
    change: float = float("nan")  # mean |pixel difference| between the ends, 0-255
    attribute: str = ""  # the attribute it moves ("" for a PCA gene that moves none alone)
    kept: bool = True  # passed every test (``discover_candidates`` returns the others too)


def measures_of(space) -> dict[str, AttributeFn]:
    """Every attribute a gene of ``space`` is measured by: the common ones
    (``inference.metrics.ATTRIBUTES``), then those the space offers for its kind of picture
    (``extra_attributes``: the subject's size, shape and place where pictures show one
    subject on a plain ground). A space's own attributes are only checked and named, never
    fitted."""
    return {**ATTRIBUTES, **(getattr(space, "extra_attributes", None) or {})}


def discover_genes(space, **options) -> list[DiscoveredGene]:
    """Find attribute and PCA genes of ``space`` and keep those that pass every test.

    Returns attribute genes first, in the order of ``inference.metrics.ATTRIBUTES``, then
    PCA genes, each with ``rho >= min_rho``, a visible change and a selectivity ratio of at
    least ``MIN_RATIO``. Takes the options of ``discover_candidates``.
    """
    return [gene for gene in discover_candidates(space, **options) if gene.kept]


def discover_candidates(
    space,
    *,
    samples: int = 1024,
    held_out: int = 32,
    size: int = 64,
    components: int = 6,
    amount: float = 3.0,
    steps: int = 7,
    min_rho: float = 0.8,
    seed: int = 0,
    batch: int = DEFAULT_BATCH,
    on_progress: ProgressFn | None = None,
) -> list[DiscoveredGene]:
    """Every candidate gene of ``space`` with its validation figures, ``kept`` or not.

    Everything is reproducible from ``seed``: the fitting samples are ``space.sample(samples,
    seed)``, the held-out latents ``space.sample(held_out, seed + 1)``.
    """
    # 1. Check inputs
    _check_whole("samples", samples, minimum=2)
    _check_whole("held_out", held_out, minimum=1)
    size = check_size(size)
    _check_whole("components", components, minimum=0)
    if components > samples - 1:
        raise ValueError(
            f"components must be at most samples - 1 = {samples - 1} (the rank of the "
            f"centred samples), got {components}"
        )
    _check_amount(amount)
    _check_whole("steps", steps, minimum=3)
    if isinstance(min_rho, bool) or not -1.0 <= min_rho <= 1.0:
        raise ValueError(f"min_rho must be between -1 and 1, got {min_rho!r}")
    _check_whole("batch", batch, minimum=1)

    offered = getattr(space, "candidate_directions", None)
    extra = offered(components) if callable(offered) else []
    measures_all = measures_of(space)
    n_candidates = len(set(ATTRIBUTES) - CHECK_ONLY) + components + len(extra)
    planned = samples + 2 * held_out + n_candidates * held_out * steps
    progress = _Progress(on_progress, planned)

    # 2. Sample and measure every attribute of every sample.
    latents = space.sample(samples, seed)
    measured = np.empty((samples, len(measures_all)))
    for start, images in _render_batches(space, latents, size, batch):
        for k, image in enumerate(images):
            measured[start + k] = [fn(image) for fn in measures_all.values()]
        progress.advance(len(images), Words.gettext("rendering samples"))
    spread = measured.std(axis=0)

    # 3. Candidates: one conditional direction per attribute, then the principal components.
    flat = latents.reshape(samples, -1).double().numpy()
    slugs, sources, directions, measures = [], [], [], []
    for slug, direction in _attribute_directions(space, flat, measured[:, : len(ATTRIBUTES)]).items():
        if slug in CHECK_ONLY:
            continue
        slugs.append(slug)
        sources.append("attribute")
        directions.append(direction)
        measures.append(measures_all[slug])
    for k, direction in enumerate(_principal_directions(flat, components), start=1):
        slugs.append(f"pc-{k}")
        sources.append("pca")
        directions.append(direction)
        measures.append(None)
    # Directions a space offers itself: closed-form ones (StyleGAN), principal components
    # of its renders' embeddings (diffusion).
    for slug, source, direction in extra:
        slugs.append(slug)
        sources.append(source)
        directions.append(direction.double().reshape(-1).numpy())
        measures.append(None)
    directions = [
        torch.from_numpy(d).to(torch.float32).reshape(space.layers, space.dim) for d in directions
    ]
    if getattr(space, "prior", "gaussian") != "gaussian":
        directions = _in_spreads(directions, flat)

    # 4. Validate over the full range on held-out latents.
    held = space.sample(held_out, seed + HELD_OUT_SEED_OFFSET)
    runs: dict[int, _Run] = {}
    rhos = _validate_many(
        space, directions, measures, held, amount, steps, size, batch, progress.advance,
        keep=runs, attributes=measures_all,
    )
    ranges = [amount] * len(directions)
    names = list(measures_all)
    scores = [_score(runs[i], slugs[i], spread, names) for i in range(len(directions))]

    # 5. A direction that fails over the full range may still pass over a narrower one
    # (attributes saturate: a picture cannot get brighter than white, and other attributes
    # start to move once its own has stopped).
    retry = [i for i, score in enumerate(scores) if not _passes(rhos[i], score, min_rho)]
    if retry:
        base_renders = held_out if any(measures[i] is None for i in retry) else 0
        progress.retry(len(retry) * held_out * steps + base_renders)
        half = amount / 2
        retried_runs: dict[int, _Run] = {}
        retried = _validate_many(
            space,
            [directions[i] for i in retry],
            [measures[i] for i in retry],
            held,
            half,
            steps,
            size,
            batch,
            progress.advance,
            keep=retried_runs,
            attributes=measures_all,
        )
        for k, (i, rho) in enumerate(zip(retry, retried, strict=True)):
            rhos[i], ranges[i] = rho, half
            scores[i] = _score(retried_runs[k], slugs[i], spread, names)

    # 6. Name the genes; a PCA gene takes the name of the attribute it moves alone, if no
    # attribute gene already holds it.
    genes = []
    held_attributes: set[str] = set()
    for i in range(len(directions)):
        attribute, sign, effect, ratio, rival, change = scores[i]
        kept = _passes(rhos[i], scores[i], min_rho)
        if sources[i] != "attribute" and kept and attribute in held_attributes:
            kept = False
        if kept:
            held_attributes.add(attribute)
        named = sources[i] == "attribute" or kept
        genes.append(
            DiscoveredGene(
                slug=attribute if sources[i] != "attribute" and kept else slugs[i],
                label=LABELS.get(attribute, attribute.capitalize()) if named else slugs[i],
                source=sources[i],
                direction=directions[i] * sign,
                low=-ranges[i],
                high=ranges[i],
                rho=rhos[i],
                effect=effect,
                ratio=ratio,
                rival=rival,
                change=change,
                attribute=attribute if named else "",
                kept=kept,
            )
        )
    found = sum(g.kept for g in genes)
    progress.done(Words.ngettext("found %(count)d gene", "found %(count)d genes", found,
                                 count=found))
    return genes


def _in_spreads(directions: list[torch.Tensor], flat: np.ndarray) -> list[torch.Tensor]:
    """Each unit direction scaled to the spread of the samples along it, so that an amount
    counts standard deviations of the space's own pictures in every direction. A Gaussian
    prior's spread is 1 whichever way; a StyleGAN's W is not: its samples spread 1.6 to 4.4
    units along the emoji space's first closed-form and principal directions, so a move of
    3 units was less than one standard deviation, and no candidate changed its pictures
    visibly."""
    centred = flat - flat.mean(axis=0)
    out = []
    for direction in directions:
        along = centred @ direction.double().reshape(-1).numpy()
        out.append(direction * float(along.std()))
    return out


def validate_direction(
    space,
    direction: torch.Tensor,
    attribute_fn: AttributeFn | None,
    latents: torch.Tensor,
    amount: float,
    steps: int,
    size: int,
    *,
    batch: int = DEFAULT_BATCH,
) -> float:
    """Mean Spearman rho of ``attribute_fn`` against the amount a, over ``latents``.

    Each latent z is rendered at z + a * direction for ``steps`` amounts a evenly spaced in
    [-amount, amount]; per latent, the rank correlation between a and the attribute is
    computed (NaN, e.g. for a constant attribute, counts as 0) and the mean returned.

    With ``attribute_fn=None`` the attribute is the distance of the moved picture from the
    unmoved one (mean absolute difference of the pixel values). Its sign says nothing, so
    it is correlated with |a| on each side separately (amounts in [0, amount] and in
    [-amount, 0], the unmoved picture counting as distance 0), and the two rhos averaged.
    With ``steps`` of 3 each side has just two points and always passes: use 5 or more.

    ``direction`` is used as given (not normalised): a is in units of its length.
    """
    latents = check_latents(latents, space.layers, space.dim)
    direction = _check_direction(direction, space.layers, space.dim)
    _check_amount(amount)
    _check_whole("steps", steps, minimum=3)
    size = check_size(size)
    _check_whole("batch", batch, minimum=1)
    (rho,) = _validate_many(space, [direction], [attribute_fn], latents, amount, steps, size, batch)
    return rho


def selectivity(
    space,
    gene: DiscoveredGene,
    latents: torch.Tensor,
    spread: np.ndarray,
    size: int,
    *,
    batch: int = DEFAULT_BATCH,
) -> tuple[float, str, float]:
    """(ratio, rival, change) of ``gene`` on other ``latents``, measured as in discovery:
    its attribute's change from ``gene.low`` to ``gene.high`` over the largest mean absolute
    change of another, each over its ``spread`` (one per attribute of ``measures_of(space)``,
    e.g. their standard deviations over random pictures), and the mean pixel change."""
    latents = check_latents(latents, space.layers, space.dim)
    size = check_size(size)
    measures = measures_of(space)
    if gene.attribute not in measures:
        raise ValueError(f"gene.attribute must be one of {', '.join(measures)}, got "
                         f"{gene.attribute!r}")
    runs: dict[int, _Run] = {}
    _validate_many(space, [gene.direction], [measures[gene.attribute]], latents, gene.high,
                   3, size, batch, keep=runs, attributes=measures)
    _, _, _, ratio, rival, change = _score(runs[0], gene.attribute, np.asarray(spread),
                                           list(measures))
    return ratio, rival, change


# -- candidates -------------------------------------------------------------------------


def _layer_mask(space, slug: str) -> np.ndarray:
    """(layers * dim,) bool: the latent coordinates an attribute's direction may use."""
    mask = np.zeros((space.layers, space.dim), dtype=bool)
    if slug in STYLE_ATTRIBUTES:
        mask[space.coarse_layers :] = True
    elif slug in CONTENT_ATTRIBUTES:
        mask[: space.coarse_layers] = True
    else:
        mask[:] = True
    return mask.ravel()


def _attribute_directions(space, x: np.ndarray, measured: np.ndarray,
                          names: Sequence[str] = tuple(ATTRIBUTES)) -> dict[str, np.ndarray]:
    """One unit direction per attribute that varies, in the order of ``names`` (the
    columns of ``measured``).

    1. The ridge normal of the attribute on the latent coordinates its layers allow.
    2. Conditional manipulation (InterFaceGAN, Shen et al. 2020, sec. 2.3): the part of that
       normal orthogonal to the other attributes' normals (restricted to the same layers),
       n_1 - P n_1 with P the projection onto their span, so that to first order moving
       along it leaves the others' linear models unchanged.
    3. Sparsity: coordinates within ``SPARSE_SIGMAS`` robust standard deviations of zero
       are noise of the regression (most latent numbers drive nothing the attribute sees);
       they are set to zero, since each one moves the picture in some unmeasured way.
    """
    masks, normals = {}, {}
    for column, slug in enumerate(names):
        mask = _layer_mask(space, slug)
        normal = _ridge_direction(x[:, mask], measured[:, column])
        if normal is None:  # the attribute never varied: nothing to regress on
            continue
        masks[slug], normals[slug] = mask, np.zeros(x.shape[1])
        normals[slug][mask] = normal
    out = {}
    for slug, normal in normals.items():
        others = [normals[o] * masks[slug] for o in normals if o != slug]
        others = [o for o in others if np.linalg.norm(o) > 0]
        if others:
            q, _ = np.linalg.qr(np.stack(others, axis=1))
            normal = normal - q @ (q.T @ normal)
        entries = normal[masks[slug]]
        sigma = 1.4826 * np.median(np.abs(entries - np.median(entries)))
        normal = np.where(np.abs(normal) >= SPARSE_SIGMAS * sigma, normal, 0.0)
        norm = np.linalg.norm(normal)
        if norm > 0:
            out[slug] = normal / norm
    return out


def _ridge_direction(x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """Unit normal of the ridge regression of attribute ``y`` (n,) on latents ``x`` (n, d).

    InterFaceGAN (Shen et al. 2020, sec. 2.2) takes the unit normal n of a hyperplane that
    separates the attribute in latent space as the editing direction, z' = z + a n. Our
    attributes are continuous, so the hyperplane comes from a linear regression instead of
    an SVM. With y standardised and x centred, ridge regression has the closed form

        w = (X^T X + alpha I)^-1 X^T y = X^T (X X^T + alpha I)^-1 y,

    the second (dual) form being cheaper when n < d (Hastie, Tibshirani and Friedman, "The
    Elements of Statistical Learning", 2nd ed., eq. 3.44 and exercise 18.4).

    alpha = d. Seen as a Bayesian model (ESL sec. 3.4.1), ridge is the posterior mean with
    w ~ N(0, tau^2 I) and noise variance sigma^2, where alpha = sigma^2 / tau^2. For a
    standardised y spread over d coefficients of unit-variance latents, with about half
    of its variance explained linearly, tau^2 = 0.5 / d and sigma^2 = 0.5: alpha = d. That
    shrinks well when n < d (where plain least squares interpolates noise), and as alpha
    grows w tends to X^T y, which for Gaussian latents estimates E[grad y] by Stein's lemma
    (Stein 1981, lemma 1): the average direction of "more", a sound limit either way.
    Only the direction of w is kept, so alpha's scale matters only relative to X^T X ~ n I.

    The sign points to more of the attribute. Returns None if y is constant.
    """
    n, d = x.shape
    spread = y.std()
    if not np.isfinite(spread) or spread == 0:
        return None
    y = (y - y.mean()) / spread
    x = x - x.mean(axis=0)
    alpha = float(d)
    if n < d:
        w = x.T @ np.linalg.solve(x @ x.T + alpha * np.eye(n), y)
    else:
        w = np.linalg.solve(x.T @ x + alpha * np.eye(d), x.T @ y)
    norm = np.linalg.norm(w)
    return w / norm if norm > 0 else None


def _principal_directions(x: np.ndarray, k: int) -> list[np.ndarray]:
    """The top ``k`` principal components of ``x`` (n, d), unit norm.

    GANSpace (Härkönen et al. 2020, sec. 2.2) computes PCA of sampled latents and edits
    along the components, z' = z + a v_i. Here from the SVD of the centred samples,
    X = U S V^T, whose rows of V^T are the components, by decreasing variance. A
    component's sign is arbitrary; it is fixed so that its largest entry is positive, so
    the same samples give the same directions whatever the LAPACK.
    """
    if k == 0:
        return []
    _, _, vt = np.linalg.svd(x - x.mean(axis=0), full_matrices=False)
    out = []
    for v in vt[:k]:
        v = v / np.linalg.norm(v)
        out.append(v if v[np.argmax(np.abs(v))] > 0 else -v)
    return out


# -- validation -------------------------------------------------------------------------


@dataclass(eq=False)
class _Run:
    """What one direction did to the held-out pictures."""

    values: np.ndarray  # (held, steps): the measured attribute (or distance) at each amount
    ends: np.ndarray  # (held, 2, attributes): every attribute at -amount and +amount
    change: np.ndarray  # (held,): mean |pixel difference| of the two ends, 0-255


#: (attribute, sign, effect, ratio, rival, change); see ``_score``.
_Score = tuple[str, float, float, float, str, float]


def _score(run: _Run, slug: str, spread: np.ndarray, names: list[str]) -> _Score:
    """How selectively a run moved one attribute.

    Each attribute's change from -amount to +amount is divided by its spread over the
    random samples. The gene's own attribute (``slug``, or for a PCA gene the attribute
    with the largest mean absolute change) gives ``effect``, its mean signed change
    (positive: a PCA gene's sign is turned so that it is); every other attribute its mean
    absolute change, the largest of which (``rival``) divides ``effect`` into ``ratio``.
    ``names`` are the attributes of ``spread`` and of the run's ends, in their order.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = (run.ends[:, 1] - run.ends[:, 0]) / np.where(spread > 0, spread, np.nan)
    delta = np.nan_to_num(delta)
    signed, absolute = delta.mean(axis=0), np.abs(delta).mean(axis=0)
    own = names.index(slug) if slug in names else int(np.argmax(absolute))
    sign = 1.0 if slug in names or signed[own] >= 0 else -1.0
    others = absolute.copy()
    others[own] = -np.inf
    rival = int(np.argmax(others)) if len(names) > 1 else own
    effect = float(sign * signed[own])
    largest = float(others[rival]) if len(names) > 1 else 0.0
    ratio = effect / largest if largest > 0 else math.inf
    return names[own], sign, effect, ratio, names[rival], float(run.change.mean())


def _passes(rho: float, score: _Score, min_rho: float) -> bool:
    """Steady (rho), strong (effect), selective (ratio) and visible (change)."""
    _, _, effect, ratio, _, change = score
    return (
        rho >= min_rho
        and effect >= MIN_EFFECT
        and ratio >= MIN_RATIO
        and change >= MIN_CHANGE
    )


def _validate_many(
    space,
    directions: Sequence[torch.Tensor],
    measures: Sequence[AttributeFn | None],
    latents: torch.Tensor,
    amount: float,
    steps: int,
    size: int,
    batch: int,
    advance: Callable[[int, str], None] | None = None,
    keep: dict[int, _Run] | None = None,
    attributes: dict[str, AttributeFn] = ATTRIBUTES,
) -> list[float]:
    """``validate_direction`` for many directions, all pictures rendered in shared batches.

    ``keep``, if given, receives each direction's ``_Run``: its measured values, every
    one of ``attributes`` at both ends and the pixel change between them."""
    held, layers, dim = latents.shape
    amounts = np.linspace(-amount, amount, steps)
    needs_base = any(m is None for m in measures)
    total = len(directions) * held * steps + (held if needs_base else 0)
    done = 0

    def tick(count: int) -> None:
        nonlocal done
        done += count
        if advance is not None:
            advance(count, Words.gettext("validating genes (%(done)d/%(total)d pictures)",
                                         done=done, total=total))

    base = None
    if needs_base:  # the unmoved pictures, to measure distances from
        base = np.empty((held, size, size, 3), dtype=np.uint8)
        for start, images in _render_batches(space, latents, size, batch):
            base[start : start + len(images)] = images
            tick(len(images))

    # (candidates, held, steps, layers, dim): every latent at every amount along every direction.
    steps_t = torch.from_numpy(amounts).to(torch.float32)[:, None, None]
    moved = torch.stack([latents[:, None] + steps_t * d for d in directions])
    values = np.empty(len(directions) * held * steps)
    profile = keep is not None
    ends = np.zeros((len(directions), held, 2, len(attributes)))
    end_images = np.zeros((len(directions), held, 2, size, size, 3), dtype=np.uint8) if profile else None
    for start, images in _render_batches(space, moved.reshape(-1, layers, dim), size, batch):
        for k, image in enumerate(images):
            c, i, step = np.unravel_index(start + k, (len(directions), held, steps))
            measure = measures[c]
            if measure is None:
                values[start + k] = np.abs(image.astype(np.float32) - base[i]).mean()
            else:
                values[start + k] = measure(image)
            if profile and step in (0, steps - 1):
                end = int(step == steps - 1)
                ends[c, i, end] = [fn(image) for fn in attributes.values()]
                end_images[c, i, end] = image
        tick(len(images))

    values = values.reshape(len(directions), held, steps)
    if keep is not None:
        for c in range(len(directions)):
            change = np.abs(
                end_images[c, :, 1].astype(np.float32) - end_images[c, :, 0]
            ).mean(axis=(1, 2, 3))
            keep[c] = _Run(values[c], ends[c], change)
    return [
        _mean_rho(amounts, rows, one_sided=measure is None)
        for rows, measure in zip(values, measures, strict=True)
    ]


def _mean_rho(amounts: np.ndarray, rows: np.ndarray, *, one_sided: bool) -> float:
    """Mean over rows (one per held-out latent) of the Spearman rho of values and amounts."""
    rhos = []
    for row in rows:
        if not one_sided:
            rhos.append(spearman(amounts, row))
            continue
        sides = []
        for mask in (amounts >= 0, amounts <= 0):
            x, y = np.abs(amounts[mask]), row[mask]
            if not np.any(x == 0):  # an even number of steps: add the unmoved picture
                x, y = np.append(0.0, x), np.append(0.0, y)
            sides.append(spearman(x, y))
        rhos.append(sum(sides) / 2)
    return float(np.mean(rhos))


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation (scipy), with NaN (a constant input) as 0."""
    if np.ptp(y) == 0:
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rho = float(spearmanr(x, y).statistic)
    return 0.0 if math.isnan(rho) else rho


# -- plumbing ---------------------------------------------------------------------------


def _render_batches(space, latents: torch.Tensor, size: int, batch: int):
    """Yield (start index, (b, size, size, 3) uint8 array) for ``latents`` in batches."""
    for start in range(0, latents.shape[0], batch):
        yield start, space.render(latents[start : start + batch], size).numpy()


class _Progress:
    """Reports fractions of planned renders; the retry pass fills the last share."""

    def __init__(self, callback: ProgressFn | None, planned: int) -> None:
        self.callback = callback
        self.planned = max(planned, 1)
        self.done_count = 0
        self.retry_total = 0
        self.retry_done = 0

    def advance(self, count: int, message: str) -> None:
        if self.retry_total:
            self.retry_done += count
            share = min(self.retry_done / self.retry_total, 1.0)
            fraction = MAIN_SHARE + (1 - MAIN_SHARE) * share
        else:
            self.done_count += count
            fraction = MAIN_SHARE * min(self.done_count / self.planned, 1.0)
        self._report(fraction, message)

    def retry(self, total: int) -> None:
        self.retry_total = max(total, 1)
        self._report(MAIN_SHARE, Words.gettext("retrying failed genes over half the range"))

    def done(self, message: str) -> None:
        self._report(1.0, message)

    def _report(self, fraction: float, message: str) -> None:
        if self.callback is not None:
            self.callback(fraction, message)


def _check_whole(name: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be a whole number of at least {minimum}, got {value!r}")


def _check_amount(amount: object) -> None:
    if (
        isinstance(amount, bool)
        or not isinstance(amount, int | float)
        or not math.isfinite(amount)
        or amount <= 0
    ):
        raise ValueError(f"amount must be a positive finite number, got {amount!r}")


def _check_direction(direction: object, layers: int, dim: int) -> torch.Tensor:
    if not isinstance(direction, torch.Tensor) or tuple(direction.shape) != (layers, dim):
        shape = tuple(direction.shape) if isinstance(direction, torch.Tensor) else direction
        raise ValueError(f"direction must be a ({layers}, {dim}) tensor, got {shape!r}")
    direction = direction.to(torch.float32)
    if not torch.isfinite(direction).all():
        raise ValueError("direction must be finite, got non-finite values")
    return direction
