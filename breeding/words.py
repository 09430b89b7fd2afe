"""Words in a space: the site's side of ``inference.words``.

A space trained on labelled pictures (the built-in ``emoji`` space, or one trained from a
folder with a ``_labels.json``) has a words file beside its weights
(``<weights>.words.safetensors``: an encoder and one w per labelled picture; the built-in
one ships with the code, a trained space's is made by the words job from its folder). The
job (``learn``) turns it into a ``Vocabulary`` of ``Word`` rows for the space's present
version: each word's point, direction and sureness. From them:

- ``understand(space, phrase)``: the words of a phrase the space knows, the ones it does
  not with the closest it knows, or a sentence refusing the phrase;
- ``breeding.actions.do_words``: eight pictures that carry a phrase, made like random ones;
- ``word_gene``: a gene from a word, validated by reading its pictures back;
- ``near_phrase``: the works nearest a phrase's point (the gallery's search by words).

A space without labels (``abstract``, ``figures``, a StyleGAN file) has no vocabulary and
says so (``no_words``).
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from django.db import transaction
from django.utils.translation import gettext as _

from breeding.genes import spearman
from breeding.models import Gene, Space, Training, Vocabulary, Word
from breeding.spaces import name_of, title_of
from common.errors import Refused
from inference import words as inference_words

log = logging.getLogger(__name__)

#: The longest phrase, in characters, and the most words in one.
MAX_PHRASE = 100
MAX_WORDS = 6
#: Closest known words offered for an unknown one.
CLOSEST = 3
#: A word gene: amounts along it, in spreads of the space's pictures along it.
GENE_AMOUNT = 2.0
GENE_STEPS = 5
GENE_HELD_OUT = 12
GENE_SIZE = 64
#: A word gene must move its own word, end to end, at least this many of its spreads over
#: random pictures (read back by the encoder) ...
GENE_MIN_EFFECT = 0.5
#: ... more than any other word, apart from words pointing almost the same way (a word and
#: its synonyms: "cat" and "cat face") ...
GENE_MIN_RATIO = 1.0
GENE_SAME_WAY = 0.8
#: ... steadily (mean Spearman rho of its own score against the amount) and visibly (mean
#: absolute pixel change between the ends, 0-255).
GENE_MIN_RHO = 0.8
GENE_MIN_CHANGE = 12.0
#: Where word genes sit among a space's genes: after the discovered ones.
WORD_GENE_POSITION = 1000
SOURCE = "word"
#: Random pictures whose read-back scores give each word's spread.
SPREAD_SAMPLES = 64


# -- the words file and the vocabulary --------------------------------------------------


def words_file(space: Space) -> Path | None:
    """The words file beside the space's weights, if it has one (an added space's weights
    are where its row says; a built-in space is loaded already)."""
    path = space.settings.get("path") or getattr(space.generator(), "path", None)
    if path is None:
        return None
    found = inference_words.words_path(path)
    return found if found.is_file() else None


def labelled_folder(space: Space) -> Path | None:
    """The labelled folder a space was trained from on this site, if it is still there."""
    from breeding import wordsets

    training = Training.objects.filter(space=space).order_by("-pk").first()
    if training is not None and wordsets.has_labels(training.folder):
        return Path(training.folder)
    return None


def can_learn(space: Space) -> bool:
    return words_file(space) is not None or labelled_folder(space) is not None


def vocabulary_of(space: Space) -> Vocabulary | None:
    """The space's vocabulary for its present version, or None: it has no words (yet)."""
    return Vocabulary.objects.filter(space=space, version=space.version).first()


def knowing_words(spaces):
    """``spaces`` (a Space queryset), each with ``has_words``: whether it has a vocabulary
    for its present version. One query for all of them."""
    from django.db.models import Exists, OuterRef

    return spaces.annotate(has_words=Exists(
        Vocabulary.objects.filter(space=OuterRef("pk"), version=OuterRef("version"))))


def has_words(space: Space) -> bool:
    """Whether ``space`` knows words now (``knowing_words`` said so already, or ask)."""
    known = getattr(space, "has_words", None)
    return vocabulary_of(space) is not None if known is None else bool(known)


def no_words(space: Space) -> str:
    """Why a space has no words, as a sentence."""
    if can_learn(space):
        return _("The %(space)s space is still learning its words; try again in a few minutes.") % {
            "space": title_of(space)}
    return _("The %(space)s space has no words: it was not trained on labelled pictures. "
             "Words work in the %(emoji)s space.") % {"space": title_of(space), "emoji": name_of("emoji")}


def learn(space: Space, on_progress=None) -> int:
    """Make the space's vocabulary for its present version from its words file (made first
    from its labelled folder where it has none); idempotent. The number of words, or 0 for
    a space without labels."""
    from breeding import wordsets

    path = words_file(space)
    generator = space.generator()
    made = inference_words.load(path) if path is not None else None
    if made is None or made.version != space.version:
        folder = labelled_folder(space)
        if folder is None:
            if path is not None:
                log.warning("%s: its words file was made for another version", space.slug)
            return 0
        reader, latents, names, labels = wordsets.learn(generator, folder, on_progress=on_progress)
        path = inference_words.words_path(generator.path)
        inference_words.save(path, reader, latents, names, labels, space.version, method="encoder")
        made = inference_words.load(path)
    table = inference_words.word_table(made.latents, made.words)
    with transaction.atomic():
        Vocabulary.objects.filter(space=space, version=space.version).delete()
        vocabulary = Vocabulary.objects.create(
            space=space, version=space.version, method=made.about.get("method", "encoder"),
            pictures=len(made.latents), mean=made.latents.mean(0).tolist())
        Word.objects.bulk_create(
            Word(vocabulary=vocabulary, language=w.language, text=w.text[:80],
                 point=w.point.tolist(), direction=w.direction.tolist(), count=w.count,
                 tightness=w.tightness, reach=w.reach)
            for w in table if len(w.text) <= 80)
    log.info("%s: %d words for version %s", space.slug, len(table), space.version)
    return len(table)


@dataclass
class Table:
    """A vocabulary in memory: every word by its text, and the mean."""

    vocabulary_id: int
    words: dict[str, inference_words.WordPoint]
    mean: torch.Tensor
    texts: list[str] = field(default_factory=list)  # by how many pictures carry them, most first


_tables: dict[int, Table] = {}
_tables_lock = threading.Lock()


def table_of(vocabulary: Vocabulary) -> Table:
    """The vocabulary's words, read once per process (a vocabulary never changes: a new
    one is a new row)."""
    with _tables_lock:
        found = _tables.get(vocabulary.pk)
    if found is not None:
        return found
    rows = Word.objects.filter(vocabulary=vocabulary).values_list(
        "language", "text", "point", "direction", "count", "tightness", "reach")
    words = {
        text: inference_words.WordPoint(language, text, torch.from_numpy(np.asarray(point, np.float32)),
                                        torch.from_numpy(np.asarray(direction, np.float32)),
                                        count, tightness, reach)
        for language, text, point, direction, count, tightness, reach in rows
    }
    table = Table(vocabulary.pk, words, torch.from_numpy(np.asarray(vocabulary.mean, np.float32)),
                  sorted(words, key=lambda t: (-words[t].count, t)))
    with _tables_lock:
        _tables[vocabulary.pk] = table
    return table


# -- phrases ------------------------------------------------------------------------------


@dataclass
class Reading:
    """What a space made of a phrase."""

    phrase: str
    known: list[inference_words.WordPoint]
    unknown: list[tuple[str, list[str]]]  # (word, the closest known words)
    mean: torch.Tensor

    @property
    def notes(self) -> list[str]:
        """One sentence per unknown word."""
        return [unknown_sentence(word, closest) for word, closest in self.unknown]

    def as_dict(self) -> dict:
        return {"phrase": self.phrase,
                "words": [{"text": w.text, "language": w.language, "pictures": w.count,
                           "tightness": round(w.tightness, 3)} for w in self.known],
                "unknown": [{"text": word, "closest": closest} for word, closest in self.unknown],
                "notes": self.notes}


def unknown_sentence(word: str, closest: list[str]) -> str:
    if closest:
        return _("No pictures taught me “%(word)s”; closest: %(closest)s.") % {
            "word": word, "closest": _(", ").join(closest)}
    return _("No pictures taught me “%(word)s”.") % {"word": word}


def closest_words(word: str, table: Table, limit: int = CLOSEST) -> list[str]:
    """Known words like an unknown one: the known words it is made of ("spaceship": space,
    ship; "宇宙飞船": 飞船), longest first, then those spelt alike (difflib), the most pictured
    first."""
    if inference_words.is_chinese(word):
        parts = [t for t in table.texts if t != word and t in word]
    else:
        parts = [t for t in table.texts if len(t) >= 4 and t != word
                 and (word.startswith(t) or word.endswith(t) or t.startswith(word))]
    parts.sort(key=len, reverse=True)  # (stable: the most pictured first among equals)
    alike = difflib.get_close_matches(word, table.texts, n=limit * 2, cutoff=0.75)
    return list(dict.fromkeys(parts[:limit] + alike))[:limit]


def understand(space: Space, phrase: object) -> Reading:
    """The words of ``phrase`` that ``space`` knows, and those it does not; refuses (400)
    an empty or over-long phrase, a space without words, and a phrase with no known word."""
    if not isinstance(phrase, str) or not phrase.strip():
        raise Refused(_("Type a few words, such as “red cat”."), field="phrase")
    phrase = " ".join(phrase.split())
    if len(phrase) > MAX_PHRASE:
        raise Refused(_("A phrase is at most %(count)d characters.") % {"count": MAX_PHRASE},
                      field="phrase")
    vocabulary = vocabulary_of(space)
    if vocabulary is None:
        raise Refused(no_words(space), status_code=409 if can_learn(space) else 400, field="phrase")
    table = table_of(vocabulary)
    parts = inference_words.split_phrase(phrase, table.words)
    if len(parts) > MAX_WORDS:
        raise Refused(_("Use at most %(count)d words.") % {"count": MAX_WORDS}, field="phrase")
    known = [table.words[p] for p in parts if p in table.words]
    unknown = [(p, closest_words(p, table)) for p in parts if p not in table.words]
    if not known:
        raise Refused(" ".join(unknown_sentence(w, c) for w, c in unknown)
                      or _("Type a few words, such as “red cat”."), field="phrase")
    return Reading(phrase, known, unknown, table.mean)


def phrase_latents(space: Space, reading: Reading, n: int, seed: int) -> torch.Tensor:
    return inference_words.phrase_latents(space.generator(), reading.known, reading.mean, n, seed)


def phrase_point(reading: Reading) -> list[float]:
    """The phrase's point: one row of the space's latent, for searching."""
    return inference_words.phrase_point(reading.known, reading.mean).tolist()


def suggestions(space: Space, prefix: str, limit: int = 12) -> list[str]:
    """Known words starting with ``prefix``, the most pictured first (for a search box)."""
    vocabulary = vocabulary_of(space)
    if vocabulary is None:
        return []
    prefix = inference_words.normalise(prefix)
    return [t for t in table_of(vocabulary).texts if t.startswith(prefix)][:limit]


# -- genes from words ---------------------------------------------------------------------


def gene_slug(text: str) -> str:
    """A word gene's slug: ``w-`` and the word where it is plain ASCII letters, else a
    digest of it."""
    plain = text.replace(" ", "-")
    if plain.isascii() and plain.replace("-", "").isalnum() and len(plain) <= 30:
        return f"w-{plain}"
    return "w-" + hashlib.sha256(text.encode()).hexdigest()[:12]


@functools.lru_cache(maxsize=4)
def _reader(path: str, modified: float) -> inference_words.Reader:
    return inference_words.load(path).reader


def reader_of(space: Space) -> inference_words.Reader | None:
    path = words_file(space)
    return None if path is None else _reader(str(path), path.stat().st_mtime)


@dataclass
class GeneCheck:
    """How a word's direction did on held-out pictures."""

    rho: float
    effect: float  # its own word's change, in spreads
    rival: str  # the word (not one of its synonyms) it moved most besides
    rival_effect: float
    change: float  # pixels, 0-255

    def passed(self) -> bool:
        return (self.rho >= GENE_MIN_RHO and self.effect >= GENE_MIN_EFFECT
                and self.effect >= GENE_MIN_RATIO * self.rival_effect and self.change >= GENE_MIN_CHANGE)


_spreads: dict[tuple, torch.Tensor] = {}


@functools.lru_cache(maxsize=8)
def _samples_of(slug: str, version: str, generator) -> torch.Tensor:
    return generator.sample(256, 3).mean(1)


def _samples(generator) -> torch.Tensor:
    """The mean rows of 256 random latents of the space (the same draws every time)."""
    return _samples_of(generator.slug, generator.version, generator)


def _score_spreads(generator, reader, table: Table, seed: int) -> torch.Tensor:
    """Each word's score spread over random pictures of the space (``SPREAD_SAMPLES`` of
    them, rendered and read back): the same for every check in one version, so measured
    once per process."""
    key = (generator.slug, generator.version, table.vocabulary_id, id(reader), seed)
    found = _spreads.get(key)
    if found is None:
        directions = torch.stack([w.direction for w in table.words.values()])
        pictures = generator.render(generator.sample(SPREAD_SAMPLES, seed + 7), GENE_SIZE)
        found = _spreads[key] = inference_words.word_scores(reader, pictures, directions).std(0).clamp_min(1e-6)
    return found


def check_word_direction(generator, reader, table: Table, word: inference_words.WordPoint,
                         direction: torch.Tensor, seed: int = 0) -> GeneCheck:
    """Walk held-out pictures along ``direction`` (W+, in spreads), read every picture back
    with the encoder and measure what moved."""
    texts = list(table.words)
    directions = torch.stack([table.words[t].direction for t in texts])
    own = texts.index(word.text)
    same = (directions @ word.direction) >= GENE_SAME_WAY
    spread = _score_spreads(generator, reader, table, seed)
    held = generator.sample(GENE_HELD_OUT, seed + 11)
    amounts = torch.linspace(-GENE_AMOUNT, GENE_AMOUNT, GENE_STEPS)
    moved = held[:, None] + amounts[None, :, None, None] * direction  # (held, steps, layers, dim)
    pictures = generator.render(moved.reshape(-1, *held.shape[1:]), GENE_SIZE)
    scores = (inference_words.word_scores(reader, pictures, directions) / spread).reshape(
        GENE_HELD_OUT, GENE_STEPS, -1)
    rho = float(np.mean([spearman(amounts.numpy(), row[:, own].numpy()) for row in scores]))
    delta = scores[:, -1] - scores[:, 0]  # (held, words)
    effect = float(delta[:, own].mean())
    others = delta.abs().mean(0)
    others[same] = -1.0
    rival = int(others.argmax())
    ends = pictures.reshape(GENE_HELD_OUT, GENE_STEPS, *pictures.shape[1:]).float()
    change = float((ends[:, -1] - ends[:, 0]).abs().mean())
    return GeneCheck(rho, effect, texts[rival], float(others[rival]), change)


def parse_gene_request(text: object) -> tuple[str, int]:
    """("more cat" | "less smile" | "cat" | "更多 猫") -> (word, +1 or -1)."""
    if not isinstance(text, str) or not text.strip():
        raise Refused(_("Type a word, such as “more cat” or “less smile”."), field="word")
    words = inference_words.normalise(text).split()
    sign = 1
    if words and words[0] in ("more", "less", "更多", "更少", "多", "少", "more:", "less:"):
        sign = -1 if words[0] in ("less", "更少", "少", "less:") else 1
        words = words[1:]
    if not words:
        raise Refused(_("Type a word, such as “more cat” or “less smile”."), field="word")
    return " ".join(words), sign


def word_gene(space: Space, request_text: object, user=None) -> tuple[Gene, int]:
    """The gene of a word (found, or made and validated now), and the sign asked for
    ("less": -1), added to ``user``'s Genes tab. Refuses a word the space does not know, or
    whose direction does not move what it names more than anything else, with the
    reason."""
    text, sign = parse_gene_request(request_text)
    if len(text) > 80:
        raise Refused(_("A word is at most %(count)d characters.") % {"count": 80}, field="word")
    vocabulary = vocabulary_of(space)
    if vocabulary is None:
        raise Refused(no_words(space), status_code=409 if can_learn(space) else 400, field="word")
    table = table_of(vocabulary)
    parts = inference_words.split_phrase(text, table.words)
    if len(parts) != 1:
        raise Refused(_("A gene is one word: “%(text)s” is %(count)d.") % {"text": text, "count": len(parts)},
                      field="word")
    (text,) = parts
    word = table.words.get(text)
    if word is None:
        raise Refused(unknown_sentence(text, closest_words(text, table)), field="word")
    slug = gene_slug(text)
    found = Gene.objects.filter(space=space, slug=slug, version=space.version).first()
    if found is not None:
        if user is not None:
            found.added_by.add(user)
        return found, sign
    reader = reader_of(space)
    if reader is None:
        raise Refused(no_words(space), field="word")
    generator = space.generator()
    # In spreads of the space's own pictures along it, as every gene's amounts are.
    samples = _samples(generator)
    along = (samples - samples.mean(0)) @ word.direction
    direction = word.direction[None].expand(space.layers, -1) * float(along.std())
    check = check_word_direction(generator, reader, table, word, direction)
    if not check.passed():
        raise Refused(gene_refusal(text, check), field="word")
    with transaction.atomic():
        Gene.objects.filter(space=space, slug=slug).delete()  # one for an older version
        position = WORD_GENE_POSITION + Gene.objects.filter(space=space, source=SOURCE).count()
        gene = Gene.objects.create(
            space=space, version=space.version, slug=slug, label=text, source=SOURCE,
            direction=direction.flatten().tolist(), low=-GENE_AMOUNT, high=GENE_AMOUNT,
            rho=check.rho, position=position)
        if user is not None:
            gene.added_by.add(user)
    return gene, sign


def remove_word_gene(space: Space, slug: str, user) -> bool:
    """Take a gene from a word out of ``user``'s Genes tab; whether it was there. The gene
    stays for the others who added it (and, checked, for whoever asks for it next)."""
    gene = Gene.objects.filter(space=space, slug=slug, source=SOURCE, added_by=user.pk).first()
    if gene is None:
        return False
    gene.added_by.remove(user)
    return True


def gene_refusal(text: str, check: GeneCheck) -> str:
    if check.change < GENE_MIN_CHANGE:
        return _("“%(word)s” cannot be a gene: moving along it barely changes the pictures.") % {"word": text}
    if check.rho < GENE_MIN_RHO or check.effect < GENE_MIN_EFFECT:
        return _("“%(word)s” cannot be a gene: the pictures do not show more of it steadily as "
                 "the slider moves.") % {"word": text}
    return _("“%(word)s” cannot be a gene: moving along it changes “%(rival)s” more than "
             "“%(word)s” (%(rival_effect).1f against %(effect).1f).") % {
        "word": text, "rival": check.rival, "rival_effect": check.rival_effect, "effect": check.effect}
