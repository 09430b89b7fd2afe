"""How good a trained GAN is, measured without downloaded networks.

    .venv/bin/python bench/gan_quality.py --space emoji [--json] [--early PATH]
        [--set var/emoji-set] [--samples N] [--seed 0] [--threads 2]

Prints, for the generator and for an early checkpoint of the same run (``--early``), in
one run and in the same feature space:

- **precision** and **recall** of generated pictures against the held-out training
  pictures (k-nearest-neighbour manifolds with k = 3, Kynkäänniemi et al. 2019, "Improved
  Precision and Recall Metric for Assessing Generative Models", Sec. 2): precision is the
  share of generated pictures inside the real manifold (the union of balls around each
  real feature reaching its k-th nearest real neighbour), recall the share of real
  pictures inside the generated manifold built the same way. Equal counts of real and
  generated pictures, as the paper requires for the two to be comparable.
- **c2st_accuracy**: a classifier two-sample test (Lopez-Paz & Oquab 2017, "Revisiting
  Classifier Two-Sample Tests"): an L2-regularised logistic regression on the fixed
  features, trained to tell held-out real pictures from generated ones, scored by 5-fold
  cross-validation (each picture classified by a model that never saw it). 0.5 means
  indistinguishable, 1 means told apart every time.
- **copy_ratio**: the median distance from a generated picture to its nearest training
  picture over the median distance from a training picture to its nearest *other*
  training picture. Near 0 the generator copies its training set; a fresh draw from the
  training distribution gives a value near 1 (printed as ``reference_copy_ratio``: the
  held-out real pictures in place of the generated ones). Also printed in pixel space
  (pictures averaged down to 32 px), where it needs no network at all. Far *above* the
  reference is not better either (pictures unlike any emoji, as an early checkpoint's
  blobs are), so "better than early" for copy_ratio means nearer the reference on a log
  scale (``copy_gap``).
- **probe_accuracy**: how meaningful the feature space is: a linear probe (multinomial
  logistic regression) fitted on the training pictures' features to their Unicode group
  (people-body, smileys-emotion, animals-nature, food-drink, travel-places, activities,
  objects, symbols, flags), scored on the held-out pictures, printed beside the share of
  the commonest group (what always answering people-body scores).

**The feature network** is a small CNN trained here, in this run, on the *training*
pictures only (never the held-out ones, never generated ones; it is not the GAN's
discriminator), at the set's 64 px composited on white as ``breeding.trainsets.read_folder``
gives them. It learns two things at once from two randomly augmented views of each picture
(scaling, shifting, mirroring, mild brightness and saturation changes):

1. the Unicode group, by cross-entropy; this ties the features to what a person sees
   (a face, a flag, a fruit);
2. which picture a view came from, by the NT-Xent contrastive loss of SimCLR (Chen et al.
   2020, "A Simple Framework for Contrastive Learning of Visual Representations", Sec. 2.1,
   temperature 0.2, through a small projection head as there). Without it, a classifier's
   features collapse each group to a point and every distance inside a group would mean
   nothing: precision and recall would be near 1 for anything of the right group, and
   copies could not be told from new pictures;
3. what is not an emoji: a tenth class for training pictures blended into smooth random
   colour fields with pixel noise (:func:`corrupt`; hand-made, never generated pictures).
   A network that has only ever seen emoji maps anything else to some average feature
   that lands inside the real manifold.

The features are not the penultimate layer alone but every block's channel means (six
blocks, 432 numbers: colours and edges at 32 px up to shapes at 8 px), each centred on the
training pictures' mean and L2-normalised, concatenated and scaled to unit length (like the
several layers of a perceptual distance, Zhang et al. 2018, "The Unreasonable
Effectiveness of Deep Features as a Perceptual Metric").

Measured, not guessed: the run's checkpoints at 4 and about 8 thousand pictures shown both
draw colour-noise blobs with nothing of an emoji in them, and a useful space must score
them low. Trained on points 1 and 2 only, the penultimate layer L2-normalised (as
Kynkäänniemi et al. do with VGG) gave the 4k blobs precision 0.81 and recall 0.20 (a ReLU
layer's features all lie in one orthant, so every distance is short); centred, 0.68 and
0.38; all six blocks, 0.38 and 0.11, but the 8k blobs still 0.60 and 0.00. With point 3,
the blobs score precision 0.10 to 0.12 and recall 0, while the held-out real pictures
against as many random training pictures score 0.91 to 0.93 and 0.88 to 0.93 (the
ceiling: a perfect generator scores about that), the two-sample test tells held-out from
training pictures at 0.47 (chance), and the held-out pictures' copy_ratio is 0.97. The
linear probe (L2 penalty chosen by 4-fold cross-validation on the training pictures
among 1e-4, 1e-3, 1e-2) scores 0.82 on the held-out pictures' groups, against 0.55 for
always answering people-body. That margin over 0.8 is thin: the people-body group is
mostly skin-tone and gender variants, and the hard cases are between objects, symbols
and activities.

The network trains for 8 epochs of 23 batches (about 6 minutes on two cores shared with
a GAN training run, 3 to 4 on idle ones; the channels-last memory layout is 1.7x faster
there). Training is deterministic for a seed, thread count and torch build; its weights
are cached under ``var/gan-quality/`` keyed by a digest of the training pictures, their
groups, the seed and the recipe's version, so a second run only reads the set, generates
and measures (about 1.5 minutes). Delete the file, or pass ``--cache none``, to retrain.

**Generated pictures** come from ``generator.mapping(z, psi=1)`` (no truncation, so that
recall sees the whole distribution), z ~ N(0, I) from ``--seed``, rounded to 8-bit like
the real pictures. The default count is the number of held-out pictures, so precision and
recall compare equal counts; a larger ``--samples`` averages precision and recall over
disjoint slices of that size (less noise) and gives copy_ratio more pictures, while the
two-sample test uses as many generated pictures as real ones.

Anchor: StyleGAN2 on FFHQ reports precision 0.69 and recall 0.49 (Karras et al. 2020,
"Analyzing and Improving the Image Quality of StyleGAN", Table 1, in VGG-16 features).
Those are other pictures and another feature space; the goals here (precision >= 0.6,
recall >= 0.3, copy_ratio > 0.5, better than the early checkpoint on every measure) are
printed under ``goals``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: The training run's hold-out share (percent); the GAN never saw these pictures.
HOLD_OUT = 10
#: Neighbours for the k-NN manifolds (Kynkäänniemi et al. 2019 use k = 3).
K = 3
#: Bumped when the feature network's recipe changes, so cached weights are not reused.
FEATURE_RECIPE = "featnet/2"
DEFAULT_SET = "var/emoji-set"
DEFAULT_EARLY = "bench/data/emoji-early.safetensors"


# --------------------------------------------------------------------------------------
# The metric maths: pure functions of feature matrices (rows are pictures).
# --------------------------------------------------------------------------------------

def distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean distances between the rows of ``a`` (n, d) and ``b`` (m, d): (n, m)."""
    a, b = a.double(), b.double()
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return squared.clamp_min(0).sqrt()


def nearest_other(x: torch.Tensor, k: int = 1) -> torch.Tensor:
    """For each row of ``x``, the distance to its k-th nearest *other* row of ``x``."""
    if len(x) <= k:
        raise ValueError(f"the k-th nearest neighbour needs more than k = {k} rows, got {len(x)}")
    d = distances(x, x)
    d.fill_diagonal_(math.inf)
    return d.kthvalue(k, dim=1).values


def inside_manifold(points: torch.Tensor, support: torch.Tensor, k: int = K) -> torch.Tensor:
    """Whether each row of ``points`` lies in the k-NN manifold of ``support``: within the
    ball around some support row whose radius reaches that row's k-th nearest other support
    row (Kynkäänniemi et al. 2019, Eq. 1 and 2)."""
    radii = nearest_other(support, k)
    return (distances(points, support) <= radii[None, :]).any(dim=1)


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = K) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019): the share of ``fake`` rows
    inside the real manifold, and the share of ``real`` rows inside the fake manifold."""
    precision = inside_manifold(fake, real, k).double().mean().item()
    recall = inside_manifold(real, fake, k).double().mean().item()
    return precision, recall


def copy_ratio(generated: torch.Tensor, training: torch.Tensor, within: float | None = None) -> float:
    """Median distance from a generated row to its nearest training row over the median
    distance from a training row to its nearest other training row (``within``, when it
    is known already): 0 for exact copies, near 1 for fresh draws from the training
    distribution."""
    to_training = distances(generated, training).min(dim=1).values.median()
    if within is None:
        within = nearest_other(training, 1).median().item()
    return (to_training / within).item() if within > 0 else math.inf


def fit_logistic(x: torch.Tensor, y: torch.Tensor, classes: int, *, l2: float = 1e-3,
                 steps: int = 100) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Multinomial logistic regression of labels ``y`` (n,) in [0, classes) on ``x`` (n, d),
    standardised with the training rows' mean and deviation, L2 penalty ``l2`` on the
    weights, fitted by L-BFGS (deterministic). Returns (weight, bias, mean, std)."""
    x = x.double()
    mean, std = x.mean(0), x.std(0).clamp_min(1e-6)
    z = (x - mean) / std
    weight = torch.zeros(x.shape[1], classes, dtype=torch.double, requires_grad=True)
    bias = torch.zeros(classes, dtype=torch.double, requires_grad=True)
    opt = torch.optim.LBFGS([weight, bias], lr=1, max_iter=steps, history_size=20,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(z @ weight + bias, y) + l2 * (weight * weight).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    return weight.detach(), bias.detach(), mean, std


def predict_logistic(model, x: torch.Tensor) -> torch.Tensor:
    weight, bias, mean, std = model
    return (((x.double() - mean) / std) @ weight + bias).argmax(dim=1)


#: The probe's L2 penalties to choose from, by cross-validation on the training pictures.
PROBE_L2 = (1e-4, 1e-3, 1e-2)


def choose_l2(x: torch.Tensor, y: torch.Tensor, classes: int, options=PROBE_L2,
              folds: int = 4) -> float:
    """The L2 penalty of ``options`` with the best ``folds``-fold cross-validated accuracy
    on (x, y) alone (the first on ties), so the held-out pictures choose nothing."""
    fold_of = torch.arange(len(x)) % folds
    best, best_correct = options[0], -1
    for l2 in options:
        correct = 0
        for f in range(folds):
            model = fit_logistic(x[fold_of != f], y[fold_of != f], classes, l2=l2)
            correct += int((predict_logistic(model, x[fold_of == f]) == y[fold_of == f]).sum())
        if correct > best_correct:
            best, best_correct = l2, correct
    return best


def probe_accuracy(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor,
                   test_y: torch.Tensor, classes: int, l2: float | None = 1e-3) -> float:
    """A linear probe's accuracy: fitted on (train_x, train_y), scored on (test_x, test_y);
    ``l2=None`` chooses the penalty by cross-validation on the training rows."""
    if l2 is None:
        l2 = choose_l2(train_x, train_y, classes)
    model = fit_logistic(train_x, train_y, classes, l2=l2)
    return (predict_logistic(model, test_x) == test_y).double().mean().item()


def c2st_accuracy(a: torch.Tensor, b: torch.Tensor, *, folds: int = 5, seed: int = 0,
                  l2: float = 1e-2) -> float:
    """Classifier two-sample test (Lopez-Paz & Oquab 2017): the cross-validated accuracy of
    a logistic regression telling rows of ``a`` from rows of ``b`` (the larger set is cut to
    the smaller's size, so 0.5 is chance). Each fold keeps both sets' shares equal."""
    n = min(len(a), len(b))
    g = torch.Generator().manual_seed(seed)
    a = a[torch.randperm(len(a), generator=g)[:n]]
    b = b[torch.randperm(len(b), generator=g)[:n]]
    fold_of = torch.arange(n) % folds
    correct = 0
    for f in range(folds):
        train, test = fold_of != f, fold_of == f
        x = torch.cat([a[train], b[train]])
        y = torch.cat([torch.zeros(int(train.sum()), dtype=torch.long),
                       torch.ones(int(train.sum()), dtype=torch.long)])
        model = fit_logistic(x, y, 2, l2=l2)
        correct += int((predict_logistic(model, a[test]) == 0).sum())
        correct += int((predict_logistic(model, b[test]) == 1).sum())
    return correct / (2 * n)


# --------------------------------------------------------------------------------------
# The feature network.
# --------------------------------------------------------------------------------------

def _block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class FeatureNet(nn.Module):
    """A small CNN: 64 px in, a ``width * 8``-dimensional feature out (global average pool),
    with a group head and a SimCLR projection head on top of it for training."""

    def __init__(self, groups: int, width: int = 16, projection: int = 64) -> None:
        super().__init__()
        w = width
        self.body = nn.Sequential(
            _block(3, w, 2),                           # 32 px
            _block(w, 2 * w, 1),
            _block(2 * w, 4 * w, 2),                   # 16 px
            _block(4 * w, 4 * w, 1),
            _block(4 * w, 8 * w, 2),                   # 8 px
            _block(8 * w, 8 * w, 1),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.dim = 8 * w
        self.group_head = nn.Linear(self.dim, groups)
        self.projection = nn.Sequential(nn.Linear(self.dim, self.dim), nn.ReLU(inplace=True),
                                        nn.Linear(self.dim, projection))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def stage_means(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each convolution block's output averaged over the picture: (n, channels) each."""
        means = []
        for layer in self.body:
            if not isinstance(layer, nn.Sequential):  # the pooling and flattening at the end
                break
            x = layer(x)
            means.append(x.mean(dim=(2, 3)))
        return means


def to_input(pictures: torch.Tensor) -> torch.Tensor:
    """uint8 (n, 3, R, R) -> float in [-1, 1] at 64 px."""
    x = pictures.float() / 127.5 - 1
    if x.shape[-1] != 64:
        x = F.interpolate(x, size=(64, 64), mode="area" if x.shape[-1] > 64 else "bilinear",
                          align_corners=None if x.shape[-1] > 64 else False)
    return x


def augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """A random view of each picture: scaled by 0.8-1.15, shifted by up to 12% of the side,
    mirrored half the time (grid sampling with the white border repeated), then brightness
    and saturation scaled by 0.85-1.15."""
    n = len(x)
    scale = torch.empty(n).uniform_(0.8, 1.15, generator=g)
    flip = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0)
    shift = torch.empty(n, 2).uniform_(-0.12, 0.12, generator=g)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = flip / scale
    theta[:, 1, 1] = 1 / scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    grey = x.mean(1, keepdim=True)
    saturation = torch.empty(n, 1, 1, 1).uniform_(0.85, 1.15, generator=g)
    brightness = torch.empty(n, 1, 1, 1).uniform_(0.85, 1.15, generator=g)
    x = grey + (x - grey) * saturation
    return ((x + 1) * brightness - 1).clamp(-1, 1)


def corrupt(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Pictures that are not emoji, for the extra "not an emoji" class: each picture blended
    (by 0.4 to 1) into a smooth random colour field (2 to 8 cells a side) with per-pixel
    colour noise (deviation 0.05 to 0.5) on top."""
    n, _, h, w = x.shape
    cells = int(torch.randint(2, 9, (1,), generator=g))
    field = F.interpolate(torch.rand(n, 3, cells, cells, generator=g) * 2 - 1, size=(h, w),
                          mode="bicubic", align_corners=False)
    amount = torch.empty(n, 1, 1, 1).uniform_(0.4, 1.0, generator=g)
    speckle = torch.randn(x.shape, generator=g) * torch.empty(n, 1, 1, 1).uniform_(0.05, 0.5, generator=g)
    return ((1 - amount) * x + amount * field + speckle).clamp(-1, 1)


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.2) -> torch.Tensor:
    """SimCLR's normalised temperature-scaled cross-entropy (Chen et al. 2020, Eq. 1): each
    view must pick its sibling among the other 2n - 1 views of the batch."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = z @ z.T / temperature
    logits.fill_diagonal_(-math.inf)
    n = len(z1)
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(logits, target)


def train_feature_net(pictures: torch.Tensor, labels: torch.Tensor, groups: int, *, seed: int,
                      epochs: int = 8, batch: int = 128, on_epoch=None) -> FeatureNet:
    """Train :class:`FeatureNet` on uint8 ``pictures`` with group ``labels`` (-1: none) in
    [0, groups): cross-entropy on the group of both views (and on the class ``groups``, "not
    an emoji", for a quarter batch of :func:`corrupt` views) plus NT-Xent between the two
    views; AdamW with a one-cycle learning rate; deterministic from ``seed``."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    net = FeatureNet(groups + 1).to(memory_format=torch.channels_last)  # ~1.7x faster on CPUs
    x_all = to_input(pictures)
    labels = labels.clone()
    labels[labels < 0] = -100  # cross_entropy's ignore_index
    steps_per_epoch = max(1, len(x_all) // batch)
    total = epochs * steps_per_epoch
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=total,
                                                pct_start=0.15)
    net.train()
    for epoch in range(epochs):
        order = torch.randperm(len(x_all), generator=g)
        for s in range(steps_per_epoch):
            idx = order[s * batch:(s + 1) * batch]
            x, y = x_all[idx], labels[idx]
            n, m = len(idx), max(1, len(idx) // 4)
            views = torch.cat([augment(x, g), augment(x, g), corrupt(augment(x[:m], g), g)])
            h = net(views.contiguous(memory_format=torch.channels_last))
            logits = net.group_head(h)
            z = net.projection(h[:2 * n])
            not_emoji = torch.full((m,), groups, dtype=torch.long)
            loss = (F.cross_entropy(logits, torch.cat([y, y, not_emoji]), ignore_index=-100)
                    + nt_xent(z[:n], z[n:]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        if on_epoch is not None:
            on_epoch(epoch + 1, epochs, loss.item())
    return net.eval()


class FeatureSpace:
    """The measuring space: every block's channel means (from edges and colours at 32 px to
    shapes at 8 px), each centred on the training pictures' mean and L2-normalised, then
    concatenated and divided by sqrt(blocks), so a feature has unit length and each block
    weighs the same (several layers at once, as perceptual distances do: Zhang et al. 2018,
    "The Unreasonable Effectiveness of Deep Features as a Perceptual Metric")."""

    def __init__(self, net: FeatureNet, training: torch.Tensor) -> None:
        self.net = net.eval()
        self.centres = [s.mean(0) for s in self._stages(training)]
        self.dim = sum(len(c) for c in self.centres)

    @torch.no_grad()
    def _stages(self, pictures: torch.Tensor, batch: int = 256) -> list[torch.Tensor]:
        chunks = [self.net.stage_means(
            to_input(pictures[i:i + batch]).contiguous(memory_format=torch.channels_last))
            for i in range(0, len(pictures), batch)]
        return [torch.cat(parts) for parts in zip(*chunks, strict=True)]

    def __call__(self, pictures: torch.Tensor) -> torch.Tensor:
        """uint8 pictures (n, 3, R, R) -> unit-length features (n, self.dim)."""
        stages = self._stages(pictures)
        parts = [F.normalize(s - c, dim=1) for s, c in zip(stages, self.centres, strict=True)]
        return torch.cat(parts, dim=1) / math.sqrt(len(parts))


def pixel_vectors(pictures: torch.Tensor, size: int = 32) -> torch.Tensor:
    """Pictures averaged down to ``size`` px and flattened, in [0, 1]: a space with no network."""
    x = pictures.float() / 255
    if x.shape[-1] != size:
        x = F.interpolate(x, size=(size, size), mode="area")
    return x.flatten(1)


# --------------------------------------------------------------------------------------
# Data, generators, the run.
# --------------------------------------------------------------------------------------

class Refused(Exception):
    """A sentence for the person running the benchmark."""


def read_set(folder: Path):
    """(training set, held-out set, group names, training labels, held-out labels), as the
    GAN was trained (``read_folder(..., hold_out=10)``) at 64 px."""
    from breeding.trainsets import TrainingSetRefused, read_folder

    if not folder.is_dir():
        raise Refused(f"There is no training set at {folder}; build it with: "
                      f"python -m inference.make_emoji_set {folder}")
    try:
        train = read_folder(folder, 64, hold_out=HOLD_OUT)
        held = read_folder(folder, 64, hold_out=HOLD_OUT, held=True, minimum=2 * K + 2)
    except TrainingSetRefused as e:
        raise Refused(str(e)) from None
    labels_file = folder / "_labels.json"
    names = json.loads(labels_file.read_text()) if labels_file.is_file() else {}
    group_of = {name: (entry or {}).get("group") for name, entry in names.items()}
    groups = sorted({g for g in group_of.values() if g})
    index = {g: i for i, g in enumerate(groups)}

    def labels(names_):
        return torch.tensor([index.get(group_of.get(n), -1) for n in names_], dtype=torch.long)

    return train, held, groups, labels(train.names), labels(held.names)


def feature_net_for(train, train_labels, groups, seed: int, cache: Path | None, log) -> tuple[FeatureNet, bool]:
    """The feature network for this training set and seed: from the cache when there is
    one for the same pictures, groups, seed and recipe, else trained (and cached)."""
    digest = hashlib.sha256()
    digest.update(FEATURE_RECIPE.encode())
    digest.update(json.dumps(groups).encode())
    digest.update(str(seed).encode())
    digest.update(train.pictures.numpy().tobytes())
    digest.update(train_labels.numpy().tobytes())
    key = digest.hexdigest()[:16]
    path = cache / f"featnet-{key}.safetensors" if cache else None
    net = FeatureNet(len(groups) + 1)
    if path is not None and path.is_file():
        from safetensors.torch import load_file

        net.load_state_dict(load_file(str(path)))
        return net.eval(), True
    net = train_feature_net(train.pictures, train_labels, len(groups), seed=seed,
                            on_epoch=lambda e, n, loss: log(f"feature net epoch {e}/{n}, loss {loss:.3f}"))
    if path is not None:
        from safetensors.torch import save_file

        path.parent.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    return net, False


@torch.no_grad()
def generate(path: Path, n: int, seed: int, psi: float = 1.0, batch: int = 64) -> torch.Tensor:
    """``n`` pictures of the generator at ``path`` as uint8 (n, 3, R, R), latents from ``seed``."""
    from inference.stylegan import Refused as NotAGenerator
    from inference.stylegan import load_generator

    try:
        generator, _ = load_generator(path)
    except NotAGenerator as e:
        raise Refused(f"{path}: {e}") from None
    z = torch.randn(n, generator.z_dim, generator=torch.Generator().manual_seed(seed))
    out = []
    for i in range(0, n, batch):
        images = generator.synthesis(generator.mapping(z[i:i + batch], psi))
        out.append(((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8))
    return torch.cat(out)


class Reference:
    """What every generator is measured against: the feature space, the held-out real
    features, the training features and pixels, and the training set's own nearest-other
    medians (computed once)."""

    def __init__(self, space: FeatureSpace, train: torch.Tensor, held: torch.Tensor) -> None:
        self.space = space
        self.train_f, self.real_f = space(train), space(held)
        self.train_px = pixel_vectors(train)
        self.within_f = nearest_other(self.train_f, 1).median().item()
        self.within_px = nearest_other(self.train_px, 1).median().item()

    def copy_ratios(self, pictures: torch.Tensor, f: torch.Tensor | None = None) -> tuple[float, float]:
        """(copy_ratio in features, copy_ratio in pixels) of uint8 ``pictures``."""
        f = self.space(pictures) if f is None else f
        return (copy_ratio(f, self.train_f, self.within_f),
                copy_ratio(pixel_vectors(pictures), self.train_px, self.within_px))

    def measure(self, generated: torch.Tensor, seed: int) -> dict:
        """Every measure of one generator's uint8 pictures."""
        fake_f, real_f = self.space(generated), self.real_f
        # Equal counts: precision and recall averaged over disjoint slices of the generated
        # pictures, each as large as the real set (one slice at the default --samples).
        n = min(len(real_f), len(fake_f))
        if n < len(real_f):  # fewer generated pictures: a random subset of the real ones
            real_f = real_f[torch.randperm(len(real_f), generator=torch.Generator().manual_seed(seed))[:n]]
        pairs = [precision_recall(real_f, fake_f[i:i + n], K)
                 for i in range(0, len(fake_f) - n + 1, n)]
        precision = sum(p for p, _ in pairs) / len(pairs)
        recall = sum(r for _, r in pairs) / len(pairs)
        copy_f, copy_px = self.copy_ratios(generated, fake_f)
        return {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "c2st_accuracy": round(c2st_accuracy(real_f, fake_f, seed=seed), 4),
            "copy_ratio": round(copy_f, 4),
            "pixel_copy_ratio": round(copy_px, 4),
        }


def copy_gap(ratio: float, reference: float) -> float:
    """How far a copy_ratio is from a fresh draw's, on a log scale: a copier (near 0) and a
    generator of pictures unlike any training picture (far above 1) are both far off."""
    return abs(math.log(max(ratio, 1e-9) / max(reference, 1e-9)))


def run(weights: Path, early: Path | None, folder: Path, *, samples: int | None, seed: int,
        cache: Path | None, log=lambda message: None) -> dict:
    started = time.perf_counter()
    train, held, groups, train_labels, held_labels = read_set(folder)
    log(f"{train.count} training and {held.count} held-out pictures, {len(groups)} groups")
    net, cached = feature_net_for(train, train_labels, groups, seed, cache, log)
    feature_s = time.perf_counter() - started
    ref = Reference(FeatureSpace(net, train.pictures), train.pictures, held.pictures)
    train_f, real_f = ref.train_f, ref.real_f

    known_train, known_held = train_labels >= 0, held_labels >= 0
    probe = probe_accuracy(train_f[known_train], train_labels[known_train],
                           real_f[known_held], held_labels[known_held], len(groups), l2=None)
    majority = torch.bincount(held_labels[known_held], minlength=len(groups)).max().item()
    reference_f, reference_px = ref.copy_ratios(held.pictures, real_f)
    result = {
        "precision": None, "recall": None, "c2st_accuracy": None, "copy_ratio": None,
        "probe_accuracy": round(probe, 4),
        "probe_majority_share": round(majority / int(known_held.sum()), 4),
        "reference_copy_ratio": round(reference_f, 4),
        "reference_pixel_copy_ratio": round(reference_px, 4),
    }
    reference = result["reference_copy_ratio"]
    n = samples or held.count
    log(f"measuring {weights.name}")
    result.update(ref.measure(generate(weights, n, seed), seed))
    if early is not None:
        log(f"measuring the early checkpoint {early.name}")
        result["early"] = ref.measure(generate(early, n, seed), seed)
        e = result["early"]
        result["better_than_early"] = {
            "precision": result["precision"] > e["precision"],
            "recall": result["recall"] > e["recall"],
            "c2st_accuracy": result["c2st_accuracy"] < e["c2st_accuracy"],
            "copy_ratio": copy_gap(result["copy_ratio"], reference) < copy_gap(e["copy_ratio"], reference),
        }
    result["goals"] = {
        "precision >= 0.6": result["precision"] >= 0.6,
        "recall >= 0.3": result["recall"] >= 0.3,
        "copy_ratio > 0.5": result["copy_ratio"] > 0.5,
        "probe_accuracy >= 0.8": result["probe_accuracy"] >= 0.8,
        **({"better than early on every measure": all(result["better_than_early"].values())}
           if early is not None else {}),
    }
    from bench._server import cpu_model

    result.update({
        "weights": weights.name, "early_weights": early.name if early else None,
        "training_pictures": train.count, "held_out_pictures": held.count,
        "generated_pictures": n, "k": K, "psi": 1.0, "feature_dim": ref.space.dim,
        "groups": len(groups), "feature_net_cached": cached, "seed": seed,
        "cpu": cpu_model(), "threads": torch.get_num_threads(),
        "feature_net_s": round(feature_s, 1), "seconds": round(time.perf_counter() - started, 1),
    })
    return result


def print_table(r: dict) -> None:
    early = r.get("early") or {}
    print(f"{r['weights']} against {r['held_out_pictures']} held-out pictures, "
          f"{r['generated_pictures']} generated (psi 1), k = {r['k']}; "
          f"{r['cpu']}, {r['threads']} threads, {r['seconds']} s")
    print(f"{'measure':<20} {'model':>8} {'early':>8}  goal")
    rows = [("precision", ">= 0.6, higher"), ("recall", ">= 0.3, higher"),
            ("c2st_accuracy", "0.5 best, lower"), ("copy_ratio", "> 0.5"),
            ("pixel_copy_ratio", "")]
    for key, goal in rows:
        e = early.get(key)
        print(f"{key:<20} {r[key]:>8.3f} {'' if e is None else f'{e:>8.3f}':>8}  {goal}")
    print(f"{'probe_accuracy':<20} {r['probe_accuracy']:>8.3f} {'':>8}  >= 0.8 "
          f"(commonest group alone: {r['probe_majority_share']:.3f})")
    print(f"held-out real pictures' copy_ratio {r['reference_copy_ratio']:.3f} "
          f"(pixels {r['reference_pixel_copy_ratio']:.3f}): what a fresh draw scores")
    for goal, met in r["goals"].items():
        print(f"  {'met' if met else 'NOT met':<8} {goal}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--space", help="a built-in space: its weights are inference/weights/SPACE.safetensors")
    which.add_argument("--weights", type=Path, help="a generator's safetensors file")
    parser.add_argument("--early", type=Path, default=Path(DEFAULT_EARLY),
                        help=f"an early checkpoint of the same run (default {DEFAULT_EARLY}); "
                             "'none' to measure only --weights")
    parser.add_argument("--set", type=Path, default=Path(DEFAULT_SET),
                        help=f"the training set's folder (default {DEFAULT_SET})")
    parser.add_argument("--samples", type=int, default=None,
                        help="generated pictures (default: as many as held-out pictures)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=Path("var/gan-quality"),
                        help="folder for the feature network's weights; 'none' to retrain every time")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    def resolve(p: Path) -> Path:
        return p if p.is_absolute() else ROOT / p

    weights = ROOT / "inference" / "weights" / f"{args.space}.safetensors" if args.space else args.weights
    early = None if str(args.early) == "none" else resolve(args.early)
    cache = None if str(args.cache) == "none" else resolve(args.cache)
    folder = resolve(args.set)
    if args.space and args.set == Path(DEFAULT_SET) and args.space != "emoji":
        parser.exit(2, f"--space {args.space}: only the emoji space has a training set here\n")
    def shown(p: Path) -> str:  # a path under the repository as the repository names it
        return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)

    for label, path in (("weights", weights), ("early checkpoint", early)):
        if path is not None and not path.is_file():
            parser.exit(2, f"There is no {label} file at {shown(path)}"
                           + (" (pass --early PATH, or --early none)" if path is early else "") + ".\n")
    if not folder.is_dir():
        parser.exit(2, f"There is no training set at {args.set}; build it with: "
                       f"python -m inference.make_emoji_set {args.set}\n")

    def log(message: str) -> None:
        if not args.json:
            print(message, file=sys.stderr, flush=True)

    try:
        result = run(weights, early, folder, samples=args.samples, seed=args.seed, cache=cache, log=log)
    except Refused as e:
        parser.exit(2, f"{e}\n")
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
