"""A folder of pictures as a training set, read with the upload rules, and a training run
that needs no database (``python -m breeding.trainsets``: for a GPU machine, or to build a
built-in space's weights); the site's own runs are ``breeding.training``.

Every file is read as an upload is (``breeding.uploads.decode``: the same formats, limits,
colour handling and transparency composited on white), then scaled to cover the training
resolution and centre-cropped. A file that cannot be taken is listed with the reason and
never stops the run; a folder with nothing usable is refused with a sentence (in the
language of the person who asked for the training, ``common.words``; in English on the command
line, where there is no site).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from breeding import uploads
from common.words import gettext as _

#: Files whose names start with these are never pictures (macOS and editor droppings).
HIDDEN = (".", "_")
#: The fewest usable pictures a run trains on.
MIN_PICTURES = 16


class TrainingSetRefused(ValueError):
    """A folder that cannot be trained on; the message is a sentence for a person."""


@dataclass
class TrainingSet:
    pictures: object  # torch.Tensor (n, 3, R, R) uint8
    names: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, why)

    @property
    def count(self) -> int:
        return len(self.names)


def held_out(name: str, percent: int) -> bool:
    """Whether a file is kept out of training (for measuring the result on pictures the
    generator never saw): decided by a digest of its name, so the same files on every
    machine and run."""
    import hashlib

    return percent > 0 and int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % 100 < percent


def picture_files(folder: Path) -> list[Path]:
    """The files of ``folder`` and its subfolders, in a stable order (links not followed)."""
    files = []
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(HIDDEN))
        files.extend(Path(root, n) for n in sorted(names) if not n.startswith(HIDDEN))
    return files


def read_folder(folder, resolution: int, *, minimum: int = MIN_PICTURES, on_file=None,
                hold_out: int = 0, held: bool = False) -> TrainingSet:
    """Every picture under ``folder`` as a (n, 3, R, R) uint8 tensor; ``on_file(i, n)``
    after each file. With ``hold_out`` (percent), the files :func:`held_out` keeps out are
    left out (or, with ``held``, only they are read). Raises :class:`TrainingSetRefused` for a missing, empty or unusable
    folder."""
    import numpy as np
    import torch

    folder = Path(folder)
    if not folder.is_dir():
        raise TrainingSetRefused(_("There is no folder at %(folder)s.") % {"folder": folder})
    files = picture_files(folder)
    if hold_out:
        files = [f for f in files if held_out(str(f.relative_to(folder)), hold_out) == held]
    if not files:
        raise TrainingSetRefused(_("The folder %(folder)s holds no files.")
                                 % {"folder": folder.name or folder})
    arrays, names, skipped = [], [], []
    for i, path in enumerate(files):
        name = str(path.relative_to(folder))
        try:
            if path.is_symlink() or not path.is_file():
                raise uploads.UploadRefused("format", _("It is a link or not a regular file."))
            with open(path, "rb") as f:
                data = uploads.read_limited(f)
            decoded = uploads.decode(data)
        except uploads.UploadRefused as e:
            skipped.append((name, e.message))
        except OSError as e:
            skipped.append((name, _("It could not be read (%(why)s).") % {"why": e.strerror or e}))
        else:
            arrays.append(np.asarray(uploads.thumbnail(decoded, resolution)))
            names.append(name)
        if on_file is not None:
            on_file(i + 1, len(files))
    if len(names) < minimum:
        reasons = "; ".join(f"{n}: {why}" for n, why in skipped[:3])
        # (one form whatever the counts: the English has always said "pictures of N files")
        found = _("The folder has %(usable)d usable pictures of %(count)d files, and training "
                  "needs at least %(least)d.") % {
            "usable": len(names), "count": len(files), "least": minimum}
        if reasons:
            found = _("%(found)s For example %(reasons)s") % {"found": found, "reasons": reasons}
        raise TrainingSetRefused(found)
    pictures = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
    return TrainingSet(pictures, names, skipped)


def save_png(array, path) -> None:
    """Write a (H, W, 3) uint8 tensor as a PNG, replacing ``path`` at once (a reader never
    sees half a picture)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array.numpy()).save(buffer, "PNG")
    replace(path, buffer.getvalue())


def replace(path, data: bytes) -> None:
    """Write ``data`` beside ``path`` and move it into place (a checkpoint or a grid is
    whole or absent, whenever its writer is killed)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    import argparse

    import torch

    from inference import gan

    parser = argparse.ArgumentParser(
        prog="python -m breeding.trainsets",
        description="Train a space's generator from a folder of pictures, without the site's "
                    "database; run it again with the same --out to resume.")
    parser.add_argument("folder")
    parser.add_argument("--out", required=True, help="folder for checkpoints, sample grids and the weights")
    parser.add_argument("--resolution", type=int, default=64, choices=gan.RESOLUTIONS)
    parser.add_argument("--pictures", type=int, default=2_000_000, help="how many pictures to show D")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's choice)")
    parser.add_argument("--every", type=float, default=300.0, help="seconds between checkpoints")
    parser.add_argument("--minutes", type=float, default=0.0,
                        help="stop after this many minutes (checkpoint and weights written first)")
    parser.add_argument("--hold-out", type=int, default=0, metavar="PERCENT",
                        help="keep this share of the files out of training, for measuring")
    parser.add_argument("--continue-from", metavar="WEIGHTS",
                        help="start from a generator this command exported (a new version of "
                             "a space); its discriminator starts fresh")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        data = read_folder(args.folder, args.resolution, hold_out=args.hold_out)
    except TrainingSetRefused as e:
        parser.exit(2, f"{e}\n")
    for name, why in data.skipped:
        print(f"skipped {name}: {why}")
    checkpoint = out / "checkpoint.pt"
    if checkpoint.exists():
        trainer = gan.Trainer.resume(data.pictures, checkpoint.read_bytes(), args.device)
        print(f"resumed at {trainer.nimg} pictures")
    elif args.continue_from:
        trainer = gan.Trainer.continuing(data.pictures, args.continue_from, args.device, seed=args.seed)
        print(f"continuing from {args.continue_from} at {trainer.nimg} pictures")
    else:
        trainer = gan.Trainer(data.pictures, gan.Recipe(resolution=args.resolution, seed=args.seed,
                                                        batch=args.batch), args.device)
    log = open(out / "log.jsonl", "a")

    def save(state: bytes, t: gan.Trainer) -> None:
        replace(checkpoint, state)
        t.export(out / "generator.safetensors", pictures_shown=t.nimg, seed=args.seed)
        save_png(gan.grid(t.samples(64), 8), out / f"samples-{t.nimg // 1000:06d}k.png")

    def report(p: gan.Progress) -> None:
        row = {"t": round(time.time()), "nimg": p.nimg, "rate": round(p.pictures_per_s, 2),
               "left_s": p.seconds_left and round(p.seconds_left), "g": p.step.g_loss,
               "d": p.step.d_loss, "r1": p.step.r1, "real": p.step.real_score, "fake": p.step.fake_score}
        log.write(json.dumps(row) + "\n")
        log.flush()

    # SIGTERM (or the time limit) stops the run after the minibatch in hand, checkpointed.
    import signal

    stop = {"asked": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(asked=True))
    deadline = time.monotonic() + args.minutes * 60 if args.minutes else float("inf")
    print(f"training on {data.count} pictures at {args.resolution} px, {args.pictures} to show")
    start_nimg, start_s = trainer.nimg, trainer.seconds
    finished = gan.train(trainer, args.pictures, save=save, every_s=args.every, report=report,
                         should_stop=lambda: stop["asked"] or time.monotonic() > deadline)
    shown, seconds = trainer.nimg - start_nimg, trainer.seconds - start_s
    print(f"{'done' if finished else 'stopped'} at {trainer.nimg} pictures shown: {shown} in this "
          f"run, {seconds:.0f} s of training ({shown / max(seconds, 1e-9):.1f} pictures/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
