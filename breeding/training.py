"""Training a space from a folder of pictures, as a durable job (``breeding.jobs``).

Staff ask for it (``manage.py trainspace`` or the training page): a folder on the server,
a slug and title for the space, a resolution, how many pictures to show and a seed. The
job reads the folder with the upload rules (``breeding.trainsets``: files it cannot take
are listed with the reason), trains with ``inference.gan``, writes a checkpoint every
``TRAINING_CHECKPOINT_S`` and a sample grid every ``TRAINING_SAMPLES_S`` into
``TRAINING_DIR``/<public id>, and reports pictures shown, losses and the time left. A worker
killed mid-run leaves its job to the stalled-job sweep; the next run reads the folder again
and goes on from the last checkpoint, exactly as if it had never stopped (``inference.gan``
restores every random state). When the pictures are shown, the moving average of the
generator is written beside the checkpoints and added as the space ``slug``
(``breeding.spaces.add_space``): random pictures, children, crosses by layer group, genes,
uploads, videos and neighbours work there as in any StyleGAN space.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from django.conf import settings
from django.core.validators import slug_re
from django.db import transaction
from django.utils.translation import gettext as _
from procrastinate.contrib.django import app

from breeding import wordsets
from breeding.jobs import Cancelled
from breeding.models import Space, Training
from breeding.trainsets import TrainingSetRefused, picture_files, read_folder, replace, save_png
from common.errors import Refused

log = logging.getLogger(__name__)

#: The resolutions offered (16 and 32 px train too: for tests and quick trials).
RESOLUTIONS = (64, 128)
MAX_PICTURES = 50_000_000
#: Share of the progress bar for reading the folder.
READING_SHARE = 0.02


def folder_of(training: Training) -> Path:
    return Path(settings.TRAINING_DIR) / training.public_id


def checkpoint_of(training: Training) -> Path:
    return folder_of(training) / "checkpoint.pt"


def samples_of(training: Training) -> Path:
    return folder_of(training) / "samples.png"


def weights_of(training: Training) -> Path:
    return folder_of(training) / f"{training.slug}.safetensors"


def check_request(folder: str, slug: str, resolution: int, pictures: int, seed: int,
                  *, allow_small: bool = False) -> None:
    """Refuse, with a sentence, what cannot be trained: raises ``Refused`` (400)."""
    from inference.gan import RESOLUTIONS as ALL

    if not folder or not Path(folder).is_dir():
        raise Refused(_("There is no folder at %(folder)s on the server.") % {"folder": folder or "''"})
    if not picture_files(Path(folder)):
        raise Refused(_("The folder %(folder)s holds no files.") % {"folder": folder})
    if not slug_re.fullmatch(slug or "") or len(slug) > 40:
        raise Refused(_("A space's slug is letters, digits, - and _, at most 40 of them."))
    existing = Space.objects.filter(slug=slug).first()
    if existing is not None and not existing.settings.get("path"):
        raise Refused(_("%(slug)s is a built-in space; choose another slug.") % {"slug": slug})
    allowed = ALL if allow_small else RESOLUTIONS
    if resolution not in allowed:
        raise Refused(_("The resolution is one of %(sizes)s pixels.")
                      % {"sizes": ", ".join(str(r) for r in allowed)})
    if not 1_000 <= pictures <= MAX_PICTURES and not (allow_small and pictures >= 1):
        raise Refused(_("Show between 1,000 and %(most)s pictures.") % {"most": f"{MAX_PICTURES:,}"})
    if not 0 <= seed < 2**63:
        raise Refused(_("The seed is a whole number from 0."))


def ask(owner, folder: str, slug: str, title: str, resolution: int, pictures: int, seed: int,
        *, allow_small: bool = False) -> Training:
    """Check, keep and defer a training for ``owner`` (staff); raises ``Refused``."""
    check_request(folder, slug, resolution, pictures, seed, allow_small=allow_small)
    busy = Training.objects.filter(slug=slug, status__in=Training.unfinished()).first()
    if busy is not None:
        raise Refused(_("The space %(slug)s is already being trained (training %(id)s); cancel "
                        "it first.") % {"slug": slug, "id": busy.public_id}, 409)
    # The task by name: the job module imports this one, never the other way round.
    task = app.configure_task(Training.TASK, allow_unknown=False)
    with Training.admit(owner):
        return Training.start(owner, lambda job: task.defer(training_id=job.pk),
                              folder=str(Path(folder).resolve()), slug=slug, title=title[:120],
                              resolution=resolution, pictures_total=pictures, seed=seed)


def run(training_id: int, stopping=lambda: False) -> str | None:
    """Train (or go on training) one space; its slug once done, None if there was nothing
    to do (done, failed or cancelled) or ``stopping()`` said to stop (the worker is
    shutting down: a checkpoint is written first, and the next run goes on from it)."""
    from inference import gan

    job = Training.claim(training_id)
    if job is None:
        return None
    progress = job.progress_meter()
    try:
        progress(job.progress, force=True)
        data = read_folder(job.folder, job.resolution,
                           on_file=lambda i, n: progress(READING_SHARE * i / n))
    except TrainingSetRefused as e:
        job.fail(str(e))
        return None
    except Cancelled:
        return _cancelled(job)
    progress(READING_SHARE, force=True, pictures_read=data.count,
             skipped=[list(s) for s in data.skipped[:1000]])
    folder_of(job).mkdir(parents=True, exist_ok=True)
    checkpoint = checkpoint_of(job)
    if checkpoint.exists():
        trainer = gan.Trainer.resume(data.pictures, checkpoint.read_bytes())
        log.info("training %s: resumed at %d pictures", job.public_id, trainer.nimg)
    else:
        trainer = gan.Trainer(data.pictures, gan.Recipe(resolution=job.resolution, seed=job.seed))
    last_grid = [time.monotonic()]
    latest: dict = {}  # the fields last reported, written again with every checkpoint

    def grid(t: gan.Trainer) -> None:
        save_png(gan.grid(t.samples(16), 4), samples_of(job))
        last_grid[0] = time.monotonic()

    def save(state: bytes, t: gan.Trainer) -> None:
        replace(checkpoint, state)
        grid(t)
        latest.update(pictures_shown=t.nimg, checkpoint_at=t.nimg, samples_at=t.nimg)
        progress(READING_SHARE + (1 - READING_SHARE) * t.nimg / job.pictures_total, force=True, **latest)

    def report(p: gan.Progress) -> None:
        fields = {"pictures_shown": p.nimg, "pictures_per_s": round(p.pictures_per_s, 2),
                  "losses": {"g": round(p.step.g_loss, 4), "d": round(p.step.d_loss, 4),
                             "real": round(p.step.real_score, 4), "fake": round(p.step.fake_score, 4),
                             **({"r1": round(p.step.r1, 4)} if p.step.r1 is not None else {})}}
        if time.monotonic() - last_grid[0] >= settings.TRAINING_SAMPLES_S:
            grid(trainer)
            fields["samples_at"] = p.nimg
        latest.update(fields)
        progress(READING_SHARE + (1 - READING_SHARE) * p.nimg / job.pictures_total, **latest)

    try:
        done = gan.train(trainer, job.pictures_total, save=save, every_s=settings.TRAINING_CHECKPOINT_S,
                         report=report, report_every_s=min(2.0, settings.TRAINING_SAMPLES_S),
                         should_stop=stopping)
    except Cancelled:
        return _cancelled(job)
    return finish(job, trainer) if done else None


def _discover(task, slug: str) -> None:
    from procrastinate.exceptions import AlreadyEnqueued

    try:
        task.defer(space_slug=slug)
    except AlreadyEnqueued:  # one is waiting already: it finds these weights' genes
        pass


def _cancelled(job: Training) -> None:
    log.info("training %s: cancelled", job.public_id)
    shutil.rmtree(folder_of(job), ignore_errors=True)
    return None


def finish(job: Training, trainer) -> str | None:
    """Write the weights and add them as the space, once."""
    from breeding.spaces import SpaceRefused, add_space

    # As ``breeding.tasks.ensure_genes`` queues it: once per space, one discovery at a time.
    genes = app.configure_task("breeding.tasks.discover_genes", allow_unknown=False,
                               queueing_lock=f"discover-genes:{job.slug}", lock="gene-discovery")
    # A folder with labels (``_labels.json``) teaches the space words too (``breeding.words``).
    learn = (app.configure_task("breeding.tasks.learn_words", allow_unknown=False,
                                queueing_lock=f"learn-words:{job.slug}")
             if wordsets.has_labels(job.folder) else None)

    weights = weights_of(job)
    tmp = weights.with_suffix(".tmp")
    trainer.export(tmp, pictures_shown=trainer.nimg, seed=job.seed, training=job.public_id)
    tmp.replace(weights)
    checkpoint_of(job).unlink(missing_ok=True)
    made = []

    def make(locked: Training) -> list[str] | None:
        try:
            space = add_space("stylegan", weights, locked.slug, locked.title, cpu_ok=True)
        except SpaceRefused as e:
            locked.error = str(e)[:300]
            raise
        locked.space, locked.pictures_shown = space, trainer.nimg
        transaction.on_commit(lambda: _discover(genes, space.slug))
        if learn is not None:
            transaction.on_commit(lambda: _discover(learn, space.slug))
        made.append(space.slug)
        return ["space", "pictures_shown"]

    try:
        job.finish(make)
    except SpaceRefused as e:
        job.fail(_("The trained weights could not be added as a space: %(why)s") % {"why": e})
        return None
    return made[0] if made else None
