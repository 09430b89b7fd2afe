"""Durable jobs of the breeding app (procrastinate)."""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy
from procrastinate.contrib.django import app

from breeding import actions, images, languages, looks
from breeding.events import send_to_all
from breeding.models import Gene, Space, Vocabulary
from common.words import Words

log = logging.getLogger(__name__)

#: Set when the process is shutting down: long jobs stop at their next step, fail, and are
#: retried by the next worker (every job is idempotent).
STOPPING = threading.Event()


class Interrupted(Exception):
    """A job stopped because its worker is shutting down."""


def stop_if_stopping(fraction: float = 0.0, message: str = "") -> None:
    if STOPPING.is_set():
        raise Interrupted("the worker is shutting down; the job will run again")


class Reporter:
    """Progress of a long job to every open studio, at most every ``every_s`` seconds; also
    the point where a job stops when its worker shuts down. Its lines are heard by breeders
    of every language at once: a line made as :class:`common.words.Words` goes with what it
    is made of (``words``), and each studio says it in its own reader's language
    (``breeding.consumers``)."""

    def __init__(self, task: str, space: str, every_s: float = 0.5) -> None:
        self.task, self.space, self.every_s = task, space, every_s
        self.last = 0.0

    def __call__(self, fraction: float, message: str = "") -> None:
        stop_if_stopping()
        now = time.monotonic()
        if now - self.last >= self.every_s or fraction >= 1.0:
            self.last = now
            event = {"type": "progress", "task": self.task, "space": self.space,
                     "fraction": round(float(fraction), 3), "message": str(message)}
            if isinstance(message, Words):
                event["words"] = message.packed()
            send_to_all(event)

    def done(self, **extra) -> None:
        send_to_all({"type": "done", "task": self.task, "space": self.space, **extra})


@app.task(retry=2)
def discover_genes(space_slug: str, samples: int = 1024, held_out: int = 32) -> int:
    """Find and validate the genes of a space for its current weights; idempotent.

    Replaces the space's genes in one transaction, so readers see either the old set or
    the new one.
    """
    from breeding.genes import DISCOVERY_VERSION
    from breeding.genes import discover_genes as discover

    space = Space.objects.get(slug=space_slug)
    reporter = Reporter("genes", space_slug)
    found = discover(images.rendering_space(space.generator()), samples=samples, held_out=held_out, on_progress=reporter)
    with transaction.atomic():
        # (genes made from words stay: they are checked for this version when made)
        Gene.objects.filter(space=space).exclude(source="word", version=space.version).delete()
        Gene.objects.bulk_create(
            Gene(space=space, version=space.version, discovery=DISCOVERY_VERSION, slug=g.slug,
                 label=g.label, source=g.source, direction=g.direction.flatten().tolist(),
                 low=g.low, high=g.high, rho=g.rho, position=i)
            for i, g in enumerate(found)
        )
    reporter.done(genes=len(found))
    log.info("%s: %d genes for version %s", space_slug, len(found), space.version)
    return len(found)


@app.task(retry=2)
def learn_words(space_slug: str) -> int:
    """Make the words of a space for its present weights (``breeding.words``); idempotent."""
    from breeding import words

    space = Space.objects.get(slug=space_slug)
    reporter = Reporter("words", space_slug)
    count = words.learn(space, on_progress=reporter)
    reporter.done(words=count)
    return count


def ensure_words(stdout=None) -> None:
    """Start learning the words of every space that can have words and has none for its
    present weights (the built-in ``emoji`` space on a first start, a space trained from a
    labelled folder, a space whose weights changed)."""
    from procrastinate.exceptions import AlreadyEnqueued

    from breeding import words
    from breeding.spaces import availability

    for space in Space.objects.all():
        if not availability(space).available or Vocabulary.objects.filter(
                space=space, version=space.version).exists() or not words.can_learn(space):
            continue
        try:
            with transaction.atomic():  # a savepoint, as in ensure_genes
                learn_words.configure(queueing_lock=f"learn-words:{space.slug}").defer(space_slug=space.slug)
        except AlreadyEnqueued:
            continue
        if stdout:
            stdout.write(f"Learning the words of the {space.slug} space in the background.")


#: Attempts of a projection that fails with an error (a killed worker's job is put back by
#: ``retry_stalled_jobs`` whatever this says).
PROJECTION_ATTEMPTS = 3
PROJECTION_FAILED = gettext_lazy("Mendel could not project this picture. Try again, or try "
                                 "another picture.")


def attempt(context, kind, pk: int, limit: int, work, sentence):
    """Run the ``work()`` of the job ``pk`` of ``kind`` (a ``breeding.jobs.Job``) in the
    language of the person who asked for it (``Job.language``); on an error, fail the task
    so procrastinate retries it, until the ``limit``-th attempt, where the job fails with
    ``sentence`` (lazy: said in that language) for its owner and the task ends. A worker
    shutting down is not an error: the job runs again from the start."""
    language = kind.objects.filter(pk=pk).values_list("language", flat=True).first()
    with languages.speaking(language):
        try:
            return work()
        except Interrupted:
            raise
        except Exception:
            attempts = (context.job.attempts or 0) + 1
            log.exception("%s %s failed (attempt %d of %d)", kind._meta.model_name, pk,
                          attempts, limit)
            if attempts >= limit:
                if (job := kind.objects.filter(pk=pk).first()) is not None:
                    job.fail(str(sentence))
                return None
            raise


@app.task(pass_context=True, retry=PROJECTION_ATTEMPTS - 1)
def project_upload(context, upload_id: int) -> str | None:
    """Project an upload into its space and make its creation, exactly once (see
    ``breeding.projection``)."""
    from breeding import projection
    from breeding.models import Upload

    return attempt(context, Upload, upload_id, PROJECTION_ATTEMPTS,
                   lambda: projection.run(upload_id, stop_if_stopping), PROJECTION_FAILED)


#: Attempts of a video that fails with an error (a killed worker's job is put back by
#: ``retry_stalled_jobs`` whatever this says).
VIDEO_ATTEMPTS = 3
VIDEO_FAILED = gettext_lazy("Mendel could not render this video. Try again, or with other "
                            "keyframes.")


@app.task(pass_context=True, retry=VIDEO_ATTEMPTS - 1)
def render_video(context, video_id: int) -> str | None:
    """Render a morph video and make its work, exactly once (see ``breeding.videos``)."""
    from breeding import videos
    from breeding.models import Video

    return attempt(context, Video, video_id, VIDEO_ATTEMPTS,
                   lambda: videos.run(video_id, stop_if_stopping), VIDEO_FAILED)


#: Attempts of a transcoding that fails with an error (a file Mendel refuses is not an
#: error: it fails at once with the reason).
MEDIA_ATTEMPTS = 3
MEDIA_FAILED = gettext_lazy("Mendel could not transcode this file. Try again, or export it "
                            "again from the program that made it.")


@app.task(pass_context=True, retry=MEDIA_ATTEMPTS - 1)
def transcode_media(context, media_id: int) -> str | None:
    """Transcode a published video or sound and make its work, exactly once (see
    ``breeding.media``)."""
    from breeding import media
    from breeding.models import MediaWork

    return attempt(context, MediaWork, media_id, MEDIA_ATTEMPTS,
                   lambda: media.run(media_id, stop_if_stopping), MEDIA_FAILED)


#: Attempts of a training that fails with an error (a killed worker's, or one stopped by a
#: shutdown, goes on from its last checkpoint whatever this says).
TRAINING_ATTEMPTS = 3
TRAINING_FAILED = gettext_lazy("Mendel could not train this space. Look at the worker's log, "
                               "then try again.")


@app.task(pass_context=True, retry=TRAINING_ATTEMPTS - 1)
def train_space(context, training_id: int) -> str | None:
    """Train a space from a folder, from its last checkpoint if it has one (see
    ``breeding.training``)."""
    from breeding import training
    from breeding.models import Training

    def work():
        slug = training.run(training_id, STOPPING.is_set)
        stop_if_stopping()  # stopped by a shutdown: the next worker goes on
        return slug

    return attempt(context, Training, training_id, TRAINING_ATTEMPTS, work, TRAINING_FAILED)


@app.periodic(cron="17 * * * *", periodic_id="purge-drafts")
@app.task(queueing_lock="purge-drafts")
def purge_drafts(timestamp: int) -> int:
    """Hourly: delete drafts older than DRAFT_TTL_HOURS that nobody kept."""
    return actions.purge_drafts()


@app.task(retry=2)
def fill_looks(ids: list[int]) -> int:
    """Measure the looks of works just kept (``breeding.looks``)."""
    return looks.fill(ids)


@app.periodic(cron="* * * * *", periodic_id="fill-looks")
@app.task(queueing_lock="fill-looks")
def fill_missing_looks(timestamp: int) -> int:
    """Every minute: measure any kept work still without a look (those from before looks
    existed, or whose job was lost), at most LOOKS_PER_SWEEP at a time."""
    return looks.fill(limit=settings.LOOKS_PER_SWEEP)


@app.periodic(cron="*/5 * * * *", periodic_id="sweep-renders")
@app.task(queueing_lock="sweep-renders")
def sweep_renders(timestamp: int) -> int:
    """Every five minutes: keep the stored pictures within MEDIA_CACHE_MAX_GB, least
    recently used out first (each web process also checks before it writes one)."""
    result = images.sweep()
    return result.evicted if result is not None else 0


def ensure_genes(stdout=None) -> None:
    """Start gene discovery for every space whose current weights have no genes yet, or
    only genes found by an older discovery method."""
    from procrastinate.exceptions import AlreadyEnqueued

    from breeding.genes import DISCOVERY_VERSION
    from breeding.spaces import availability

    for space in Space.objects.all():
        if not availability(space).available:
            continue  # found once its weights are back, or something can render it
        current = Gene.objects.filter(
            space=space, version=space.version, discovery=DISCOVERY_VERSION
        ).exclude(source="word")
        if current.exists():
            continue
        try:
            with transaction.atomic():  # a savepoint: the lock's refusal must not poison a caller's transaction
                # One discovery queued per space, and one running at a time (a shared
                # lock): a worker's other slots stay free for people's uploads and videos.
                discover_genes.configure(queueing_lock=f"discover-genes:{space.slug}",
                                         lock="gene-discovery").defer(space_slug=space.slug)
        except AlreadyEnqueued:
            continue
        if stdout:
            stdout.write(f"Discovering the genes of the {space.slug} space in the background.")
