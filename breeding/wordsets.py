"""A labelled folder of pictures as a space's words file, without the site's database.

    python -m breeding.wordsets var/emoji-set --space emoji

reads the folder as a training set is read (``breeding.trainsets.read_folder``) with its
``_labels.json`` (file name -> ``en``, ``zh``, ``en_tags``, ``zh_tags``, as
``inference.make_emoji_set`` writes it), trains the space's encoder on its own pictures,
reads every labelled picture with it and writes ``<weights>.words.safetensors`` beside the
space's weights (``inference.words``): the file the built-in ``emoji`` space ships with,
and what the words job (``breeding.words``) makes for a space trained from a labelled
folder. The site turns it into words in Postgres.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from breeding.trainsets import TrainingSetRefused, read_folder
from common.words import gettext as _

LABELS = "_labels.json"
PAIRS = 16384
EPOCHS = 12


def has_labels(folder: str | Path) -> bool:
    return (Path(folder) / LABELS).is_file()


def read_labelled(folder: str | Path, on_file=None):
    """(pictures (n, 3, 64, 64) uint8, names, labels) of the labelled pictures of a folder;
    pictures without a label, or whose label gives no words, are left out."""
    from inference import words

    folder = Path(folder)
    try:
        labels = json.loads((folder / LABELS).read_text())
    except (OSError, ValueError) as e:
        raise TrainingSetRefused(_("The folder's labels could not be read (%(why)s).") % {"why": e}) from e
    data = read_folder(folder, words.SIDE, on_file=on_file)
    keep, names, found = [], [], []
    for i, name in enumerate(data.names):
        label = labels.get(Path(name).name, labels.get(name, {}))
        if words.label_words(label):
            keep.append(i)
            names.append(name)
            found.append(label)
    return data.pictures[keep], names, found


def learn(space, folder: str | Path, *, pairs: int = PAIRS, epochs: int = EPOCHS, seed: int = 0,
          on_progress: Callable[[float, str], object] | None = None):
    """Train the encoder of ``space`` and read the labelled pictures of ``folder`` with it:
    (reader, latents (n, dim), names, labels)."""
    from inference import words

    def say(fraction: float, message: str) -> None:
        if on_progress is not None:
            on_progress(fraction, message)

    pictures, names, found = read_labelled(folder, on_file=lambda i, n: say(0.05 * i / n, "reading"))
    w, painted = words.space_pictures(space, pairs, seed, on_progress=lambda f: say(0.05 + 0.35 * f, "painting"))
    reader = words.train_encoder(w, painted, epochs=epochs, seed=seed,
                                 on_progress=lambda f, loss: say(0.4 + 0.58 * f, f"training (loss {loss:.3f})"))
    return reader, reader(pictures), names, found


def main(argv: list[str] | None = None) -> int:
    import argparse

    import torch

    from inference import words
    from inference.space import get_space

    parser = argparse.ArgumentParser(prog="python -m breeding.wordsets", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--space", default="emoji")
    parser.add_argument("--out", help="the words file (default: beside the space's weights)")
    parser.add_argument("--pairs", type=int, default=PAIRS, help="the space's own pictures the encoder learns from")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    space = get_space(args.space)
    started = time.monotonic()

    def report(fraction: float, message: str) -> None:
        print(f"{time.monotonic() - started:7.1f} s {100 * fraction:5.1f}% {message}", flush=True)

    reader, latents, names, found = learn(space, args.folder, pairs=args.pairs, epochs=args.epochs,
                                          seed=args.seed, on_progress=report)
    out = Path(args.out) if args.out else words.words_path(space.path)
    words.save(out, reader, latents, names, found, space.version, method="encoder",
               pairs=args.pairs, epochs=args.epochs, seed=args.seed, threads=args.threads,
               seconds=round(time.monotonic() - started), source=str(Path(args.folder).name))
    table = words.word_table(latents, [words.label_words(label) for label in found])
    print(f"{len(names)} labelled pictures, {len(table)} words, written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
