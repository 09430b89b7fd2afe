"""The one job machine: every long piece of work a person asks for (projecting an upload,
rendering a video, and next training a space or building a map) is a row of a model that
inherits :class:`Job`, run by a durable procrastinate task.

How a new kind of job uses it:

1. The model: ``class Training(Job)`` adds its own fields (a ``public_id``, its space,
   its settings, its result) and says ``Status = statuses("TrainingStatus")`` (or names its running state,
   ``statuses("UploadStatus", running=("PROJECTING", "projecting", "Projecting"))``),
   ``status = status_field(Status)``, ``RUNNING = Status.RUNNING``, the settings of its
   per-owner allowance (``WAITING_MAX_SETTING``, ``PER_HOUR_SETTING``), its task's name and
   argument (``TASK``, ``TASK_ARG``), the sentences of its refusals and ``event()``, what
   the owner's sockets hear of it. ``makemigrations`` adds the shared fields.
2. The request: ``with Training.admit(owner):`` before anything costly (the allowance,
   per hour and waiting, checked and a place reserved: :class:`common.errors.Refused`
   with a 429 sentence past it; a request refused inside does not count), then
   ``Training.start(owner, defer, files=..., **fields)`` keeps the row and defers its task
   (``defer(job)``) in one transaction, the waiting count checked again under a per-owner
   lock (so concurrent requests cannot pass it together).
3. The task: ``job = Training.claim(pk)`` (None: nothing to do), then the work, reporting
   through ``progress = job.progress_meter(prior_s)``: ``progress(fraction, **fields)``
   writes a fraction that only grows, over all the work's phases, with the time left
   measured from the rate so far (and raises :class:`Cancelled` once the owner cancelled);
   files in between go in ``job.scratch()``, emptied when the job is claimed again and by
   the stalled-job sweep. Then ``job.finish(make)``: ``make(locked)`` stores the result on
   the locked row and names the fields it set; the job is done exactly once however often
   the task runs. ``job.fail(sentence)`` gives up with words its owner understands.
4. The owner: ``Training.own(user, public_id)`` finds one of theirs, ``job.cancel()``
   stops it (a running task stops at its next progress write).

A job speaks its owner's language: the row keeps the language active when it was made (the
request's, ``language``), and the task runs its work in it (``breeding.tasks.attempt``), so
its progress, its refusals and the sentence it fails with read as the person who asked for
it reads.

A worker killed mid-job leaves its procrastinate job ``doing``; ``retry_stalled`` (run every
minute by ``mendel.tasks``) puts it back, emptying its scratch, and ``claim`` takes the row
again (every step here is idempotent).
"""

from __future__ import annotations

import json
import logging
import shutil
import statistics
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from procrastinate import exceptions as procrastinate_errors
from procrastinate.jobs import Status
from procrastinate.manager import QUEUEING_LOCK_CONSTRAINT

from breeding.events import send_to_user
from breeding.limits import count, in_words, take
from common.errors import Refused
from common.numbers import whole_number

log = logging.getLogger(__name__)

HOUR_S = 3600
#: A reservation of a waiting place, taken before the costly part of a request, lasts at
#: most this long (it is given back as soon as the request is answered).
RESERVATION_S = 300


class JobStatus(models.TextChoices):
    """The states of every job; a kind may spell ``running`` its own way (``statuses``)."""

    QUEUED = "queued", pgettext_lazy("job status", "Waiting for a worker")
    RUNNING = "running", pgettext_lazy("job status", "Running")
    DONE = "done", pgettext_lazy("job status", "Done")
    FAILED = "failed", pgettext_lazy("job status", "Failed")
    CANCELLED = "cancelled", pgettext_lazy("job status", "Cancelled")


def statuses(name: str, running: tuple[str, str, str] | None = None) -> type[models.TextChoices]:
    """A kind's statuses: those of :class:`JobStatus`, with the running one named, stored
    and labelled as ``running`` (member, value, label) says, when the kind's stored rows
    and API answers spell it their own way (an upload is ``projecting``)."""
    members = []
    for status in JobStatus:
        if status == JobStatus.RUNNING and running is not None:
            member, value, label = running
            members.append((member, (value, label)))
        else:
            members.append((status.name, (status.value, status.label)))
    kind = models.TextChoices(name, members)
    if running is not None:
        kind.RUNNING = getattr(kind, running[0])  # not a member: Django's choices are unique
    return kind


def status_field(choices) -> models.CharField:
    return models.CharField(max_length=12, choices=choices.choices, default=JobStatus.QUEUED.value)


class Cancelled(Exception):
    """The owner cancelled the job while it ran: raised by a progress write."""


def active_language() -> str:
    """The language active now (a request's: its reader's), which a job made now speaks."""
    return translation.get_language() or settings.LANGUAGE_CODE


#: Every concrete kind of job, by the name of its task.
KINDS: dict[str, type[Job]] = {}


class Job(models.Model):
    """What every long job has: its owner, status, attempts, a sentence when it failed, a
    progress that only grows, the time left, and when it was asked for, started and ended."""

    Status: ClassVar = JobStatus
    RUNNING: ClassVar[str] = JobStatus.RUNNING
    #: The procrastinate task that runs this kind, and the argument naming the row.
    TASK: ClassVar[str] = ""
    TASK_ARG: ClassVar[str] = ""
    #: The names of the settings of the per-owner allowance.
    WAITING_MAX_SETTING: ClassVar[str] = ""
    PER_HOUR_SETTING: ClassVar[str] = ""
    #: What a run takes, in seconds per unit of ``work_units()``, before any was measured.
    PRIOR_S_PER_UNIT: ClassVar[float] = 10.0
    #: The row is written (and cancellation checked) at most this often, the owner's
    #: sockets hear of progress at most this often.
    SAVE_EVERY_S: ClassVar[float] = 1.0
    EVENT_EVERY_S: ClassVar[float] = 0.25

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="%(class)ss")
    status = status_field(JobStatus)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    # How far the whole job is, 0 to 1: it only grows, and is 1 only once the job is done.
    progress = models.FloatField(default=0.0)
    eta_s = models.FloatField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    # The language of the person who asked for it (the request's): its progress and the
    # sentence it fails with are written in it.
    language = models.CharField(max_length=16, default=active_language)

    class Meta:
        abstract = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.TASK:
            KINDS[cls.TASK] = cls

    # -- what a kind says --------------------------------------------------------------

    def event(self, **extra) -> dict:
        """What the owner's sockets hear of this job."""
        raise NotImplementedError

    @classmethod
    def waiting_refusal(cls, waiting: int) -> str:
        return _("You already have %(count)d jobs waiting. Wait for one to finish, or cancel "
                 "one.") % {"count": waiting}

    @classmethod
    def hourly_refusal(cls, limit: int, wait: int) -> str:
        return _("You have started %(limit)d jobs this hour, as many as Mendel runs for one "
                 "person. Try again in %(wait)s.") % {"limit": limit, "wait": in_words(wait)}

    def work_units(self) -> float:
        """How much work this job is, in the units of ``PRIOR_S_PER_UNIT`` (1 unless a kind
        says: a video counts its frames times their area)."""
        return 1.0

    # -- the row -----------------------------------------------------------------------

    @classmethod
    def unfinished(cls) -> tuple[str, str]:
        """The states of a job still on its way: a task will (or does) run it."""
        return (cls.Status.QUEUED, cls.RUNNING)

    @property
    def fraction(self) -> float:
        if self.status == self.Status.DONE:
            return 1.0
        return round(min(self.progress, 1.0), 3)

    @classmethod
    def own(cls, user, public_id: str, *related: str):
        """The job of ``user`` with that public id, or None (anyone else's is not there)."""
        return cls.objects.select_related(*related).filter(public_id=public_id, owner=user).first()

    def announce(self, **extra) -> None:
        send_to_user(self.owner_id, self.event(**extra))

    # -- the allowance -----------------------------------------------------------------

    @classmethod
    def _lock_key(cls, owner_id: int) -> str:
        return f"{cls._meta.db_table}:{owner_id}"

    @classmethod
    def waiting(cls, owner) -> int:
        return cls.objects.filter(owner=owner, status__in=cls.unfinished()).count()

    @classmethod
    def admit(cls, owner) -> Ticket:
        """Check the owner's allowance before anything costly is done for a request, and
        hold a waiting place while it is: refused (429, with a sentence) when the owner has
        ``WAITING_MAX`` jobs waiting or on their way in, or ``PER_HOUR`` this hour."""
        limit = getattr(settings, cls.WAITING_MAX_SETTING)
        waiting = cls.waiting(owner)
        reservation = f"job-reserve:{cls._lock_key(owner.pk)}"
        if waiting >= limit or take(reservation, 1, limit - waiting, RESERVATION_S):
            raise Refused(cls.waiting_refusal(max(waiting, limit)), 429, wait=10)
        ticket = Ticket(reservation)
        per_hour = getattr(settings, cls.PER_HOUR_SETTING)
        hourly = f"{cls._meta.model_name}:user:{owner.pk}"
        wait = take(hourly, 1, per_hour, HOUR_S)
        if wait:
            ticket.release()
            raise Refused(cls.hourly_refusal(per_hour, wait), 429, wait=wait)
        ticket.hourly = hourly
        return ticket

    @classmethod
    def start(cls, owner, defer: Callable[[Job], object], files: dict | None = None,
              **fields) -> Job:
        """Keep a new job and defer its task, in one transaction (the task exists if and
        only if the row does), the owner's waiting jobs counted under a lock of their own so
        that concurrent requests cannot all pass the limit. ``files``: field name ->
        (file name, content), saved before the row is."""
        limit = getattr(settings, cls.WAITING_MAX_SETTING)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                               [cls._lock_key(owner.pk)])
            waiting = cls.waiting(owner)
            if waiting >= limit:
                raise Refused(cls.waiting_refusal(waiting), 429, wait=10)
            job = cls(owner=owner, **fields)
            for name, (filename, content) in (files or {}).items():
                getattr(job, name).save(filename, content, save=False)
            job.save()
            defer(job)
        return job

    # -- running -----------------------------------------------------------------------

    @classmethod
    def claim(cls, pk: int, *related: str, **reset) -> Job | None:
        """Mark the job running if it still needs running (a retried task, after its worker
        died, claims it again), emptying what an earlier run left in its scratch; None for
        a job done, failed or cancelled."""
        claimed = cls.objects.filter(pk=pk, status__in=cls.unfinished()).update(
            status=cls.RUNNING, started=timezone.now(), attempts=F("attempts") + 1, error="",
            **reset)
        if not claimed:
            return None
        job = cls.objects.select_related("owner", *related).get(pk=pk)
        job.clean_scratch()
        return job

    def progress_meter(self, prior_s: float | None = None) -> Progress:
        """The progress of this run (see :class:`Progress`); ``prior_s``: the seconds it is
        expected to take before anything is measured (by default, from the jobs of this
        kind that finished lately)."""
        return Progress(self, self.expected_s() if prior_s is None else prior_s)

    def expected_s(self) -> float:
        """The seconds this job is expected to take: its work times the seconds per unit
        the last jobs of its kind took (the kind's prior before any finished)."""
        recent = (type(self).objects.filter(status=self.Status.DONE, started__isnull=False,
                                            finished__isnull=False)
                  .order_by("-finished")[:20])
        rates = [(j.finished - j.started).total_seconds() / max(j.work_units(), 1e-9)
                 for j in recent]
        rate = statistics.median(rates) if rates else self.PRIOR_S_PER_UNIT
        return rate * self.work_units()

    def finish(self, make: Callable[[Job], list[str] | None]) -> Job | None:
        """Finish the job exactly once: in one transaction, the row locked, ``make(locked)``
        stores the result on the locked row and returns the names of the fields it set (or
        None to leave it unfinished); the job is marked done and its owner told after
        commit. None when this run may not finish it (cancelled meanwhile, or finished by
        another run)."""
        with transaction.atomic():
            locked = type(self).objects.select_for_update().get(pk=self.pk)
            if locked.status != self.RUNNING:
                return None
            fields = make(locked)
            if fields is None:
                return None
            locked.status = self.Status.DONE
            locked.progress = 1.0
            locked.eta_s = 0.0
            locked.finished = timezone.now()
            locked.save(update_fields=[*fields, "status", "progress", "eta_s", "finished"])
            locked.announce()
        self.clean_scratch()
        return locked

    def _end(self, status: str, **fields) -> bool:
        with transaction.atomic():
            ended = type(self).objects.filter(pk=self.pk, status__in=self.unfinished()).update(
                status=status, finished=timezone.now(), eta_s=None, **fields)
            self.refresh_from_db()
            if ended:
                self.announce()
        return bool(ended)

    def fail(self, message: str) -> None:
        """Give up on the job for good, saying why in words its owner understands (called
        by the run itself: its scratch goes too)."""
        self._end(self.Status.FAILED, error=str(message)[:300])
        self.clean_scratch()

    def cancel(self) -> bool:
        """Stop the job (a running task stops at its next progress write and empties its
        scratch; a dead one's is swept); False if it had already ended."""
        return self._end(self.Status.CANCELLED)

    # -- scratch -----------------------------------------------------------------------

    def scratch(self) -> Path:
        """A folder of this job's own for files in between, made empty."""
        self.clean_scratch()
        folder = scratch_of(type(self), self.pk)
        folder.mkdir(parents=True)
        return folder

    def clean_scratch(self) -> None:
        shutil.rmtree(scratch_of(type(self), self.pk), ignore_errors=True)


class Ticket:
    """A waiting place held while a request is checked (``Job.admit``): ``release()`` it
    once the job is kept; ``refund()`` also gives back the hourly count, for a request
    refused after all. As a context manager: released on success, refunded on an error."""

    def __init__(self, reservation: str) -> None:
        self.reservation, self.hourly = reservation, None

    def __enter__(self) -> Ticket:
        return self

    def __exit__(self, kind, error, trace) -> None:
        if kind is None:
            self.release()
        else:
            self.refund()

    def release(self) -> None:
        _give_back(self.reservation)
        self.reservation = None

    def refund(self) -> None:
        self.release()
        _give_back(self.hourly, HOUR_S)
        self.hourly = None


def _give_back(key: str | None, window_s: int = RESERVATION_S) -> None:
    """Undo a ``take`` of 1 for ``key`` (in its current window: once that has ended,
    nothing is left to give back)."""
    if key is not None:
        count(key, -1, window_s)


class Progress:
    """One run's progress: ``progress(fraction, **fields)`` with the fraction of the whole
    job done (over all its phases). What is written and sent only grows and stays below 1
    (a job reaches 1 when it is finished); the time left is measured: the rate so far,
    weighed against the expected time (``prior_s``) while little has been done."""

    #: How much the expected time weighs, as a fraction of the work: after a tenth of the
    #: job, the rate measured so far and the prior count equally.
    PRIOR_WEIGHT = 0.1
    HIGHEST = 0.999

    def __init__(self, job: Job, prior_s: float) -> None:
        self.job, self.prior_s = job, max(float(prior_s), 0.0)
        self.started = time.monotonic()
        self.saved = self.sent = float("-inf")
        self.fraction = min(job.progress, self.HIGHEST)  # never below an earlier run's
        self.done_at_start = self.fraction

    def eta_s(self, now: float) -> float:
        elapsed = now - self.started
        done = self.fraction - self.done_at_start
        left = 1.0 - self.fraction
        remaining_share = 1.0 - self.done_at_start
        prior_rate = self.prior_s / remaining_share if remaining_share > 0 else 0.0  # s per unit
        k = self.PRIOR_WEIGHT
        rate = (elapsed + prior_rate * k) / (done + k)
        return max(0.0, rate * left)

    def __call__(self, fraction: float, *, force: bool = False, extra: dict | None = None,
                 **fields) -> None:
        job = self.job
        self.fraction = max(self.fraction, min(float(fraction), self.HIGHEST))
        now = time.monotonic()
        job.progress, job.eta_s = self.fraction, self.eta_s(now)
        for name, value in fields.items():
            setattr(job, name, value)
        if force or now - self.saved >= job.SAVE_EVERY_S:
            self.saved = now
            still = type(job).objects.filter(pk=job.pk, status=job.RUNNING).update(
                progress=Greatest(F("progress"), self.fraction), eta_s=job.eta_s, **fields)
            if not still:
                raise Cancelled
        if force or extra or now - self.sent >= job.EVENT_EVERY_S:
            self.sent = now
            job.announce(**(extra or {}))


def scratch_root() -> Path:
    return Path(settings.JOB_SCRATCH_DIR)


def scratch_of(kind: type[Job], pk: int) -> Path:
    """The scratch folder of one job: ``<JOB_SCRATCH_DIR>/<kind>-<pk>``."""
    return scratch_root() / f"{kind._meta.model_name}-{pk}"


def sweep_scratch() -> int:
    """Empty the scratch folders of jobs that are not running (a killed worker's, or one
    whose row is gone); how many were removed."""
    root = scratch_root()
    if not root.is_dir():
        return 0
    models_by_name = {kind._meta.model_name: kind for kind in KINDS.values()}
    removed = 0
    for folder in root.iterdir():
        name, _dash, digits = folder.name.rpartition("-")
        kind, pk = models_by_name.get(name), whole_number(digits)
        if kind is None or pk is None:
            continue
        if not kind.objects.filter(pk=pk, status=kind.RUNNING).exists():
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


async def retry_stalled(manager, seconds_since_heartbeat: float) -> int:
    """Put back the procrastinate jobs whose worker died mid-job (no heartbeat for that
    long), emptying the scratch of the job rows they run; how many were put back.

    A stalled job whose queueing lock another job already waits with (a periodic task the
    dead worker was running when the next one was queued) is not put back, since the waiting
    one does the same work: it is marked failed, and the other jobs are still put back."""
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=seconds_since_heartbeat)
    put_back = 0
    for job in stalled:
        kind = KINDS.get(job.task_name)
        arguments = job.task_kwargs or {}
        if isinstance(arguments, str | bytes):  # as some queries return them: JSON text
            arguments = json.loads(arguments)
        pk = arguments.get(kind.TASK_ARG) if kind is not None else None
        if isinstance(pk, int):
            shutil.rmtree(scratch_of(kind, pk), ignore_errors=True)
        try:
            await manager.retry_job(job)
        except procrastinate_errors.UniqueViolation as error:
            if error.constraint_name != QUEUEING_LOCK_CONSTRAINT:
                raise
            log.warning("stalled job %s (%s) is already queued again: marked failed",
                        job.id, job.task_name)
            await manager.finish_job(job, status=Status.FAILED, delete_job=False)
            continue
        log.warning("retried stalled job %s (%s)", job.id, job.task_name)
        put_back += 1
    return put_back


def release_connection() -> None:
    """Give this thread's database connection back to the pool before long work that needs
    none (decoding a picture, rendering a preview), unless a transaction holds it: the next
    query takes one again. A request never holds one of the pool's few connections while
    it computes."""
    if not connection.in_atomic_block:
        connection.close()


class Gate:
    """At most ``slots`` holders at once (decoding a picture, say); a caller waits at most
    ``wait_s`` for a slot. ``waiting`` and ``busy`` say how many wait and hold."""

    def __init__(self, slots: int) -> None:
        self.slots, self.busy, self.waiting = max(1, slots), 0, 0
        self.changed = threading.Condition()

    @contextmanager
    def slot(self, wait_s: float, refusal: Callable[[], Refused]):
        with self.changed:
            self.waiting += 1
            self.changed.notify_all()
            try:
                if not self.changed.wait_for(lambda: self.busy < self.slots, timeout=wait_s):
                    raise refusal()
                self.busy += 1
            finally:
                self.waiting -= 1
                self.changed.notify_all()
        try:
            yield
        finally:
            with self.changed:
                self.busy -= 1
                self.changed.notify_all()


#: Pictures decoded at once in this process, for uploads and published pictures alike
#: (decoding a large one takes a core and up to 150 MB for a while): one a core, and
#: another waits its turn for a while.
DECODING = Gate(settings.UPLOAD_DECODES)


def busy() -> Refused:
    return Refused(_("Mendel is busy reading other pictures just now. Try again in a "
                     "moment."), 503, wait=5)


def store(field, name: str, content) -> None:
    """Save a job's file under its fixed name, replacing what an interrupted run left there."""
    target = field.field.generate_filename(field.instance, name)
    if field.storage.exists(target):
        field.storage.delete(target)
    field.save(name, content, save=False)
