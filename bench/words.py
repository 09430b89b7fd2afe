"""Words in a space: do the pictures a word starts carry the word?

    .venv/bin/python bench/words.py --space emoji [--set var/emoji-set] [--words 60] [--json]
        [--coarse] [--sheet docs/img/words-sheet.png]

Needs the space's labelled training set (``python -m inference.make_emoji_set var/emoji-set``
fetches it) and its words file (shipped beside the weights; ``python -m breeding.wordsets``
remakes it). No database: the site's word points are ``inference.words.word_table`` of that
file, and its pictures ``inference.words.phrase_latents``, which this calls as the site does.

The labelled pictures are split in two by a digest of their names:

- half **A** makes the word points (the encoder's latents of A's pictures only);
- half **B** trains the **judge**: a small convolutional classifier, trained here on B's real
  pictures (64 px, mirrored and shifted at random) to say which of the evaluated words a
  picture carries; 20% of B is kept back to choose each word's threshold (best F1) and to
  measure the judge (``judge_auc``, ``judge_f1`` on real pictures it never saw). It is not
  the encoder that made the word points, and it never saw A.

The evaluated words are ``--words`` words (60) with at least 5 pictures in each half, taken
evenly along the list of such words from the most to the least pictured. For each, 8 pictures
from its point (as "start from a phrase" makes them) and 8 random pictures of the space: the
share the judge says carry the word is ``word_hit_rate`` and ``random_hit_rate`` (the
baseline). Diversity: the mean pairwise distance of the 8 pictures (mean absolute pixel
difference, 0-255, at 64 px) for the words' eights and the random eights. Goal (issue
"Words"): ``word_hit_rate`` >= 0.6 and at least 4 times ``random_hit_rate``.

``--coarse`` adds a second judge, trained and asked the same way but seeing every picture,
real or painted, with only the detail of a 16 px picture (``*_coarse`` figures): whether the
pictures carry their words in colour and shape, where the space cannot paint detail.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from bench._server import cpu_model  # noqa: E402

PER_WORD = 8
#: Phrases of the sheet (docs/img/words-sheet.png), each followed by its 8 pictures.
SHEET = ("cat", "dog", "red heart", "flag", "woman", "hand", "fruit", "car", "face smile",
         "猫", "红色", "tree")


def half_a(name: str) -> bool:
    return hashlib.sha256(name.encode()).digest()[0] % 2 == 0


class Judge(nn.Module):
    """A plain classifier: conv-BN-ReLU stages, global average pooling, a linear layer."""

    def __init__(self, outputs: int) -> None:
        super().__init__()
        layers, channels = [nn.Conv2d(3, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU()], 32
        for out in (64, 128, 192):
            layers += [nn.Conv2d(channels, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(),
                       nn.Conv2d(out, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(), nn.MaxPool2d(2)]
            channels = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(channels, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features((x - 0.5) * 2).mean(dim=(2, 3)))


def as_float(pictures: torch.Tensor) -> torch.Tensor:
    """(n, 3, 64, 64) or (n, 64, 64, 3) uint8 -> (n, 3, 64, 64) float in [0, 1]."""
    if pictures.shape[-1] == 3:
        pictures = pictures.permute(0, 3, 1, 2)
    return pictures.float() / 255.0


def coarse(x: torch.Tensor) -> torch.Tensor:
    """Pictures with only the detail of a 16 px picture (down and up again): what the
    coarse judge sees of every picture, real or painted."""
    small = F.interpolate(x, size=(16, 16), mode="bilinear", antialias=True, align_corners=False)
    return F.interpolate(small, size=x.shape[-2:], mode="bilinear", align_corners=False)


def augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    flip = torch.rand(len(x), generator=g) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    dx, dy = (int(v) for v in torch.randint(-4, 5, (2,), generator=g))
    padded = F.pad(x, (4, 4, 4, 4), value=1.0)  # the set's white ground
    return padded[:, :, 4 + dy:68 + dy, 4 + dx:68 + dx]


def train_judge(x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int) -> Judge:
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    judge = Judge(y.shape[1])
    steps = epochs * ((len(x) + 63) // 64)
    opt = torch.optim.AdamW(judge.parameters(), lr=2e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    positives = y.sum(0).clamp_min(1)
    weight = ((len(y) - positives) / positives).clamp(max=30)
    for _ in range(epochs):
        judge.train()
        for index in torch.randperm(len(x), generator=g).split(64):
            loss = F.binary_cross_entropy_with_logits(judge(augment(x[index], g)), y[index], pos_weight=weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
    return judge.eval()


@torch.no_grad()
def judged(judge: Judge, x: torch.Tensor) -> torch.Tensor:
    return torch.cat([torch.sigmoid(judge(chunk)) for chunk in x.split(256)])


def auc(scores: np.ndarray, truth: np.ndarray) -> float:
    """Area under the ROC curve (the rank statistic)."""
    pos, neg = scores[truth], scores[~truth]
    if not len(pos) or not len(neg):
        return float("nan")
    ranks = np.argsort(np.argsort(np.concatenate([pos, neg]))) + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def best_threshold(scores: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(threshold, F1) maximising F1 on held-back real pictures."""
    best = (0.5, 0.0)
    for t in np.unique(np.round(scores, 3)):
        said = scores >= t
        tp = float((said & truth).sum())
        f1 = 2 * tp / max(1.0, said.sum() + truth.sum())
        if f1 > best[1]:
            best = (float(t), f1)
    return best


def pairwise(pictures: torch.Tensor) -> float:
    x = pictures.float().reshape(len(pictures), -1)
    d = (x[:, None] - x[None]).abs().mean(-1)
    n = len(x)
    return float(d.sum() / (n * (n - 1)))


def coarse_figures(found, n: int) -> dict:
    if found is None:
        return {}
    hits, bases, aucs, f1s = found
    return {"word_hit_rate": round(sum(hits) / n, 3), "random_hit_rate": round(sum(bases) / n, 3),
            "judge_auc": round(float(np.nanmean(aucs)), 3), "judge_f1": round(float(np.mean(f1s)), 3)}


def sheet(space, table, mean, path: Path) -> None:
    from PIL import Image, ImageDraw, ImageFont

    from inference import words

    cell, label_w = 96, 150
    grid = Image.new("RGB", (label_w + PER_WORD * cell, len(SHEET) * cell), (24, 24, 24))
    draw = ImageDraw.Draw(grid)
    font = None
    for candidate in ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                      "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        if os.path.exists(candidate):
            font = ImageFont.truetype(candidate, 20)
            break
    for row, phrase in enumerate(SHEET):
        parts = words.split_phrase(phrase, table)
        known = [table[p] for p in parts if p in table]
        if not known:
            continue
        latents = words.phrase_latents(space, known, mean, PER_WORD, seed=row)
        for col, picture in enumerate(space.render(latents, cell)):
            grid.paste(Image.fromarray(picture.numpy()), (label_w + col * cell, row * cell))
        draw.text((10, row * cell + cell // 2 - 12), phrase, fill=(235, 235, 235), font=font)
    path.parent.mkdir(parents=True, exist_ok=True)
    grid.quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)  # a few hundred KB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", default="emoji")
    parser.add_argument("--set", default=str(ROOT / "var/emoji-set"), help="the labelled training set")
    parser.add_argument("--words", type=int, default=60)
    parser.add_argument("--min-pictures", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=25, help="the judge's")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sheet", help="also write the sheet of phrases to this PNG")
    parser.add_argument("--coarse", action="store_true",
                        help="also judge with a second judge that sees every picture, real or "
                             "painted, with the detail of 16 px only (``*_coarse`` figures)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from breeding.wordsets import read_labelled
    from inference import words
    from inference.space import get_space

    started = time.monotonic()
    space = get_space(args.space)
    path = words.words_path(space.path)
    if not path.is_file():
        parser.exit(2, f"the {args.space} space has no words file ({path.name})\n")
    made = words.load(path)
    pictures, names, labels = read_labelled(args.set)
    by_name = {n: i for i, n in enumerate(names)}
    rows = [by_name[n] for n in made.names if n in by_name]
    if len(rows) != len(made.names):
        parser.exit(2, "the training set does not hold the pictures of the words file\n")
    pictures = pictures[rows]
    carried = made.words
    in_a = np.array([half_a(n) for n in made.names])
    a, b = np.flatnonzero(in_a), np.flatnonzero(~in_a)
    table_a = {w.text: w for w in words.word_table(made.latents[a], [carried[i] for i in a])}
    mean_a = made.latents[a].mean(0)
    count_a = {t: w.count for t, w in table_a.items()}
    count_b: dict[str, int] = {}
    for i in b:
        for _, text in carried[i]:
            count_b[text] = count_b.get(text, 0) + 1
    eligible = sorted((t for t in table_a if count_a[t] >= args.min_pictures
                       and count_b.get(t, 0) >= args.min_pictures),
                      key=lambda t: (-(count_a[t] + count_b[t]), t))
    take = np.unique(np.linspace(0, len(eligible) - 1, min(args.words, len(eligible))).round().astype(int))
    chosen = [eligible[i] for i in take]

    # The judge, on half B's real pictures.
    y = torch.tensor([[1.0 if ("zh" if words.is_chinese(t) else "en", t) in carried[i] else 0.0
                       for t in chosen] for i in b])
    g = torch.Generator().manual_seed(args.seed)
    order = torch.randperm(len(b), generator=g)
    cut = int(0.8 * len(b))
    fit, check = order[:cut], order[cut:]
    eights = []  # each word's pictures, and random ones
    for j, text in enumerate(chosen):
        latents = words.phrase_latents(space, [table_a[text]], mean_a, PER_WORD, seed=args.seed + j)
        eights.append((space.render(latents, 64),
                       space.render(space.sample(PER_WORD, seed=10_000 + args.seed + j), 64)))
    views = {"": lambda x: x}
    if args.coarse:
        views["_coarse"] = coarse
    found = {}
    for suffix, view in views.items():
        x = view(as_float(pictures[b]))
        judge = train_judge(x[fit], y[fit], args.epochs, args.seed)
        held = judged(judge, x[check]).numpy()
        truth = y[check].numpy() > 0.5
        thresholds, f1s, aucs = [], [], []
        for j in range(len(chosen)):
            t, f1 = best_threshold(held[:, j], truth[:, j])
            thresholds.append(t)
            f1s.append(f1)
            aucs.append(auc(held[:, j], truth[:, j]))
        hits = [int((judged(judge, view(as_float(mine)))[:, j] >= thresholds[j]).sum())
                for j, (mine, _) in enumerate(eights)]
        bases = [int((judged(judge, view(as_float(chance)))[:, j] >= thresholds[j]).sum())
                 for j, (_, chance) in enumerate(eights)]
        found[suffix] = (hits, bases, aucs, f1s)
    hits, bases, aucs, f1s = found[""]
    rows_out = [(text, count_a[text], count_b[text], hits[j], bases[j], round(aucs[j], 3))
                for j, text in enumerate(chosen)]
    word_hits, random_hits = sum(hits), sum(bases)
    diversity_words = [pairwise(mine) for mine, _ in eights]
    diversity_random = [pairwise(chance) for _, chance in eights]
    n = len(chosen) * PER_WORD
    result = {
        "space": args.space, "version": space.version, "words": len(chosen), "per_word": PER_WORD,
        "word_hit_rate": round(word_hits / n, 3), "random_hit_rate": round(random_hits / n, 3),
        "ratio": round(word_hits / max(1, random_hits), 2),
        "diversity_words": round(float(np.mean(diversity_words)), 2),
        "diversity_random": round(float(np.mean(diversity_random)), 2),
        "judge_auc": round(float(np.nanmean(aucs)), 3), "judge_f1": round(float(np.mean(f1s)), 3),
        "pictures_a": len(a), "pictures_b": len(b),
        **{f"{key}_coarse": value for key, value in coarse_figures(found.get("_coarse"), n).items()},
        "cpu": cpu_model(), "threads": args.threads, "load_average": os.getloadavg()[0],
        "seconds": round(time.monotonic() - started, 1),
    }
    if args.sheet:
        full = {w.text: w for w in words.word_table(made.latents, carried)}
        sheet(space, full, made.latents.mean(0), Path(args.sheet))
    if args.json:
        print(json.dumps(result | {"per_word_rows": rows_out}, ensure_ascii=False))
        return 0
    print(f"{'word':<22}{'pics A':>7}{'pics B':>7}{'hits':>6}{'random':>8}{'judge AUC':>11}")
    for text, ca, cb, hit, base, a_u_c in rows_out:
        print(f"{text:<22}{ca:>7}{cb:>7}{hit:>6}{base:>8}{a_u_c:>11}")
    for key, value in result.items():
        print(f"{key:<18}{value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
