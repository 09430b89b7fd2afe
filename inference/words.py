"""Words in a space: where the words of a labelled training set live among its latents.

A space trained on pictures that each carry a name and keywords (the ``emoji`` space: each
picture's Unicode CLDR name and keywords, in English and Simplified Chinese) can be reached
by words. Three steps, pure torch:

1. **A latent for every training picture, by an encoder.** A small convolutional network
   is trained on the space's own pictures to give back the w each was painted from
   (``train_encoder``: pictures of random latents, over a range of truncations, so that it
   sees the space's whole extent), then reads every labelled picture (``encode``). Why an
   encoder rather than projection by optimisation: projecting one 64 px picture of the
   ``emoji`` space takes about 65 ms a step on two cores and wants a hundred steps, so the
   3,391 labelled pictures would take six hours; the encoder trains in minutes and reads a
   picture in a fraction of a millisecond (the idea of the pSp and e4e encoders, Richardson
   et al. 2021 and Tov et al. 2021, at a toy scale). It also reads the space's own renders
   back, which is how a word's gene is checked (``word_scores``).
2. **A point, a direction and a measure of sureness for every word** (``word_table``):
   the point is the mean w of the pictures that carry the word; the direction, the
   difference of that mean and the mean of all the other pictures; how sure, the number of
   pictures and how tight they are (the share of the space's spread that they do not
   fill: 1 would be one place, 0 as scattered as the whole set).
3. **Pictures from a phrase** (``phrase_latents``): the words' offsets from the mean
   added, then varied by the space's own randomness, scaled by how loose the words are.

What a word is (``label_words``): the tokens of the English name (without a few function
words), the English keywords, the Chinese name and its parts, and the Chinese keywords.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

#: English words that carry no picture ("woman with headscarf", "flag: Japan").
STOP_WORDS = frozenset("a an and as at by for from in into of on or the to with".split())
#: Chinese words that carry no picture either ("红色的猫", "猫和狗"): skipped where no longer
#: known word starts with them.
STOP_WORDS_ZH = frozenset("的 和 与 及 或 在 是 一个 一只 个 只 了".split())
#: The fewest pictures a word must have to get a place: fewer is a guess.
MIN_PICTURES = 3
#: The side the encoder reads pictures at.
SIDE = 64
#: How far a phrase's pictures stray from its point: (for the tightest words, more for the
#: loosest), in units of a random picture's offset from the space's average.
VARIETY = (0.35, 0.4)
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff]")


def is_chinese(text: str) -> bool:
    return bool(_CJK.search(text))


def normalise(text: str) -> str:
    """A word as words are stored: lower case, straight apostrophes, single spaces."""
    return " ".join(text.replace("’", "'").lower().split())


def label_words(label: dict) -> set[tuple[str, str]]:
    """(language, word) pairs a labelled picture carries: ``label`` has ``en``, ``zh``,
    ``en_tags`` and ``zh_tags`` as the emoji set's ``_labels.json`` gives them. One text is
    one word, whichever list it came from."""
    texts: set[str] = set()
    for token in _TOKEN.findall(normalise(label.get("en", ""))):
        if token not in STOP_WORDS and not token.isdigit():
            texts.add(token)
    for tag in label.get("en_tags", []) + label.get("zh_tags", []):
        tag = normalise(tag)
        if tag and tag not in STOP_WORDS:
            texts.add(tag)
    for part in re.split(r"[:：,，、\s]+", label.get("zh", "")):
        if is_chinese(part):
            texts.add(part.strip())
    # The language is the script's: a Chinese keyword in Latin letters ("ok") is the
    # English word.
    words = {("zh" if is_chinese(t) else "en", t) for t in texts}
    return words


# -- 1. the encoder ------------------------------------------------------------------------


class Encoder(nn.Module):
    """(n, 3, 64, 64) pictures in [0, 1] -> (n, dim) standardised w: four stride-2 stages
    of two 3x3 convolutions each, then a linear layer."""

    def __init__(self, dim: int, width: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for stage in range(4):
            out = width * 2**stage
            layers += [nn.Conv2d(channels, out, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
                       nn.Conv2d(out, out, 3, padding=1), nn.LeakyReLU(0.2)]
            channels = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(channels * 4 * 4, dim)

    def forward(self, pictures: torch.Tensor) -> torch.Tensor:
        x = (pictures - 0.5) * 2.0
        return self.head(self.features(x).flatten(1))


@dataclass
class Reader:
    """An encoder with the standardisation of its output: ``w = mean + std * net(x)``."""

    net: Encoder
    mean: torch.Tensor  # (dim,)
    std: torch.Tensor  # (dim,)

    @torch.no_grad()
    def __call__(self, pictures: torch.Tensor, batch: int = 256) -> torch.Tensor:
        """(n, S, S, 3) or (n, 3, S, S) uint8 pictures -> (n, dim) w."""
        self.net.eval()
        out = []
        for chunk in pictures.split(batch):
            x = as_input(chunk)
            out.append(self.mean + self.std * self.net(x))
        return torch.cat(out) if out else torch.empty(0, self.mean.shape[0])

    def state(self) -> dict[str, torch.Tensor]:
        # Half precision on disk (half the size; the encoder reads pictures in float32).
        tensors = {f"encoder.{k}": v.detach().half().contiguous() for k, v in self.net.state_dict().items()}
        return tensors | {"encoder_mean": self.mean.contiguous(), "encoder_std": self.std.contiguous()}

    @classmethod
    def from_state(cls, tensors: dict[str, torch.Tensor]) -> Reader:
        mean, std = tensors["encoder_mean"].float(), tensors["encoder_std"].float()
        width = tensors["encoder.features.0.weight"].shape[0]
        net = Encoder(mean.shape[0], width)
        net.load_state_dict({k.removeprefix("encoder."): v.float() for k, v in tensors.items()
                             if k.startswith("encoder.")})
        return cls(net.eval(), mean, std)


def as_input(pictures: torch.Tensor) -> torch.Tensor:
    """uint8 pictures, channels last or first, any side -> (n, 3, 64, 64) float in [0, 1]."""
    x = pictures
    if x.shape[-1] == 3 and x.shape[1] != 3:
        x = x.permute(0, 3, 1, 2)
    x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
    if x.shape[-1] != SIDE:
        x = F.interpolate(x, size=(SIDE, SIDE), mode="bilinear", antialias=True, align_corners=False)
    return x.contiguous()


def space_pictures(space, count: int, seed: int, chunk: int = 256,
                   on_progress: Callable[[float], object] | None = None):
    """``count`` pictures of random latents of a W-space (truncation drawn between 0.4 and
    1.0, one w for every row): (w (count, dim), pictures (count, 64, 64, 3) uint8)."""
    g = torch.Generator().manual_seed(int(seed))
    ws, pictures = [], []
    for start in range(0, count, chunk):
        n = min(chunk, count - start)
        psi = 0.4 + 0.6 * torch.rand(1, generator=g).item()
        w = space.sample(n, seed=int(torch.randint(0, 2**31 - 1, (1,), generator=g)), truncation=psi)[:, 0]
        ws.append(w)
        pictures.append(space.render(w[:, None].expand(-1, space.layers, -1).contiguous(), SIDE))
        if on_progress is not None:
            on_progress((start + n) / count)
    return torch.cat(ws), torch.cat(pictures)


def train_encoder(w: torch.Tensor, pictures: torch.Tensor, *, epochs: int = 12, batch: int = 128,
                  seed: int = 0, width: int = 32,
                  on_progress: Callable[[float, float], object] | None = None) -> Reader:
    """An encoder from (w, picture) pairs: mean squared error on standardised w, Adam with
    a one-cycle learning rate, no augmentation (a mirrored picture is another w).
    ``on_progress(fraction, loss)`` after each epoch."""
    g = torch.Generator().manual_seed(int(seed))
    torch.manual_seed(int(seed))
    mean, std = w.mean(0), w.std(0).clamp_min(1e-6)
    target = (w - mean) / std
    net = Encoder(w.shape[1], width)
    steps = epochs * math.ceil(len(w) / batch)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    x_all = pictures
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(w), generator=g)
        total = 0.0
        for index in order.split(batch):
            loss = F.mse_loss(net(as_input(x_all[index])), target[index])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
            total += float(loss.detach()) * len(index)
        if on_progress is not None:
            on_progress((epoch + 1) / epochs, total / len(w))
    return Reader(net.eval(), mean, std)


# -- 2. words --------------------------------------------------------------------------


@dataclass(frozen=True)
class WordPoint:
    language: str
    text: str
    point: torch.Tensor  # (dim,) mean w of its pictures
    direction: torch.Tensor  # (dim,) unit: from the other pictures' mean to its own
    count: int  # pictures that carry it
    tightness: float  # 1 - (its pictures' spread / the whole set's spread), in [0, 1]
    reach: float  # distance from the others' mean to its point, in w units


def word_table(latents: torch.Tensor, words: list[set[tuple[str, str]]],
               minimum: int = MIN_PICTURES) -> list[WordPoint]:
    """Every word carried by at least ``minimum`` pictures: ``latents`` (n, dim), one w
    per picture, ``words[i]`` the words of picture i."""
    latents = latents.double()
    n = len(latents)
    total = latents.sum(0)
    spread = float(((latents - latents.mean(0)) ** 2).sum(1).mean())
    carriers: dict[tuple[str, str], list[int]] = {}
    for i, found in enumerate(words):
        for word in found:
            carriers.setdefault(word, []).append(i)
    table = []
    for (language, text), rows in sorted(carriers.items()):
        if len(rows) < minimum or len(rows) == n:
            continue
        own = latents[rows]
        point = own.mean(0)
        rest = (total - own.sum(0)) / (n - len(rows))
        offset = point - rest
        reach = float(offset.norm())
        if reach == 0.0:
            continue
        inner = float(((own - point) ** 2).sum(1).mean())
        table.append(WordPoint(language, text, point.float(), (offset / reach).float(), len(rows),
                               max(0.0, 1.0 - inner / spread) if spread > 0 else 0.0, reach))
    return table


# -- 3. phrases -----------------------------------------------------------------------


def split_phrase(phrase: str, known: Iterable[str]) -> list[str]:
    """The words of a phrase, as the vocabulary ``known`` has them: English by spaces (the
    longest run of tokens that is a known word first, so "light skin" can be one word),
    Chinese by the longest known word at each place, spaces or not ("猫笑" and "猫 笑")."""
    known = set(known)
    longest = max((len(k) for k in known), default=1)
    out: list[str] = []
    for chunk in normalise(phrase).split():
        if is_chinese(chunk):
            i = 0
            while i < len(chunk):
                for j in range(min(len(chunk), i + longest), i, -1):
                    if chunk[i:j] in known or j == i + 1 or (j == i + 2 and chunk[i:j] in STOP_WORDS_ZH):
                        if chunk[i:j] not in STOP_WORDS_ZH or chunk[i:j] in known:
                            out.append(chunk[i:j])
                        i = j
                        break
        else:
            out.extend(singular(t, known) for t in _TOKEN.findall(chunk) if t not in STOP_WORDS)
    # English runs that are one known word ("light skin tone" stays three; "ice cream" if known).
    merged: list[str] = []
    i = 0
    while i < len(out):
        for j in range(min(len(out), i + 4), i + 1, -1):
            joined = " ".join(out[i:j])
            if joined in known:
                merged.append(joined)
                i = j
                break
        else:
            merged.append(out[i])
            i += 1
    return list(dict.fromkeys(merged))


def singular(word: str, known: set[str]) -> str:
    """An English plural the vocabulary knows in the singular ("cats", "boxes", "berries"),
    as that word; any other word as it is."""
    if word in known or len(word) < 4 or not word.endswith("s"):
        return word
    for ending, instead in (("ies", "y"), ("es", ""), ("s", "")):
        if word.endswith(ending) and word[: -len(ending)] + instead in known:
            return word[: -len(ending)] + instead
    return word


def phrase_point(words: list[WordPoint], mean: torch.Tensor) -> torch.Tensor:
    """Where several words meet: the mean of all pictures plus each word's offset from it."""
    return mean + sum((w.point - mean for w in words), torch.zeros_like(mean))


def phrase_latents(space, words: list[WordPoint], mean: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """``n`` W+ latents (n, layers, dim) that carry ``words``: their meeting point
    (``phrase_point``) plus the offset of one of the space's own random pictures from the
    space's average, scaled by ``VARIETY``: more where the words are loose (their
    pictures spread wide), less where they are tight. Each picture is the point's look
    with another random picture's pose and detail, so the eight are kin, not copies."""
    point = phrase_point(words, mean.float())
    tight = sum(w.tightness for w in words) / len(words)
    scale = VARIETY[0] + VARIETY[1] * (1.0 - max(0.0, min(1.0, tight)))
    variety = space.sample(n, seed)  # (n, layers, dim), already truncated
    average = space.sample(1, seed, truncation=0.0)[0]  # the mapping's average w
    return (point + scale * (variety - average)).float().contiguous()


def word_scores(reader: Reader, pictures: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """How far along each word's direction the encoder reads each picture: (n, words)."""
    return reader(pictures) @ directions.T


# -- the file beside a space's weights ------------------------------------------------------


def words_path(weights: str | Path) -> Path:
    """Where a space's words file lives: ``<weights stem>.words.safetensors``."""
    weights = Path(weights)
    return weights.with_name(weights.name.split(".")[0] + ".words.safetensors")


def save(path: str | Path, reader: Reader, latents: torch.Tensor, names: list[str],
         labels: list[dict], version: str, **about) -> None:
    """The encoder, one w per labelled picture (float16) and each picture's label (its
    names and keywords as the training set gives them: the words are read from them when
    the words are made, ``label_words``)."""
    from safetensors.torch import save_file

    tensors = reader.state() | {"latents": latents.half().contiguous()}
    metadata = {
        "version": version,
        "names": json.dumps(names, ensure_ascii=False),
        "labels": json.dumps(labels, ensure_ascii=False, sort_keys=True),
        "about": json.dumps(about | {"made": time.strftime("%Y-%m-%d")}, ensure_ascii=False),
    }
    save_file(tensors, str(path), metadata=metadata)


@dataclass
class WordsFile:
    reader: Reader
    latents: torch.Tensor  # (n, dim) float32
    names: list[str]
    labels: list[dict]
    version: str  # of the space whose pictures the encoder learnt
    about: dict

    @property
    def words(self) -> list[set[tuple[str, str]]]:
        return [label_words(label) for label in self.labels]


def load(path: str | Path) -> WordsFile:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open has no iterator)
    return WordsFile(Reader.from_state(tensors), tensors["latents"].float(),
                     json.loads(meta.get("names", "[]")), json.loads(meta.get("labels", "[]")),
                     meta.get("version", ""), json.loads(meta.get("about", "{}")))
