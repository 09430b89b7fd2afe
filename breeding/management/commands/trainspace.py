"""``manage.py trainspace``: train a space from a folder of pictures, as a durable job."""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = ("Train a space from a folder of pictures on this server (JPEG, PNG, WebP or GIF, read "
            "with the upload rules). The job runs on a worker, checkpoints every few minutes and "
            "goes on from the last checkpoint if its worker dies; when it ends the space is added "
            "like any other. Follows the job's progress until it ends (Ctrl-C stops following, "
            "not the job).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("folder", nargs="?", help="the folder of pictures")
        parser.add_argument("--slug", help="the new space's name in URLs, e.g. birds")
        parser.add_argument("--title", default="", help='the name breeders see, e.g. "Birds"')
        parser.add_argument("--resolution", type=int, default=64, help="64 or 128 pixels")
        parser.add_argument("--pictures", type=int, default=2_000_000,
                            help="how many pictures to show (the length of the training)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--user", help="the staff account it runs for (default: a superuser)")
        parser.add_argument("--no-follow", dest="follow", action="store_false",
                            help="start it and return")
        parser.add_argument("--cancel", metavar="ID", help="cancel the training with this id")
        parser.add_argument("--small", action="store_true", help="allow 16 and 32 px and short runs (trials)")

    def handle(self, *args, folder, slug, title, resolution, pictures, seed, user, follow, cancel,
               small, **options) -> None:
        from breeding import training
        from breeding.models import Training
        from common.errors import Refused

        if cancel:
            job = Training.objects.filter(public_id=cancel).first()
            if job is None:
                raise CommandError(f"There is no training {cancel}.")
            self.stdout.write(f"Cancelled training {cancel}." if job.cancel()
                              else f"Training {cancel} had already ended ({job.status}).")
            return
        if not folder or not slug:
            raise CommandError("Give the folder of pictures and --slug for the new space.")
        owner = self.owner(user)
        try:
            job = training.ask(owner, folder, slug, title, resolution, pictures, seed, allow_small=small)
        except Refused as e:
            raise CommandError(str(e)) from None
        self.stdout.write(f"Training {job.public_id} asked for: {slug}, {resolution} px, "
                          f"{pictures:,} pictures, seed {seed}.")
        if follow:
            self.follow(job)

    def owner(self, username: str | None):
        users = get_user_model().objects
        if username:
            found = users.filter(username=username, is_staff=True).first()
            if found is None:
                raise CommandError(f"There is no staff account {username!r}.")
            return found
        found = users.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if found is None:
            raise CommandError("There is no superuser: make one (manage.py createsuperuser) or "
                               "name a staff account with --user.")
        return found

    def follow(self, job) -> None:
        said, started = None, time.monotonic()
        try:
            while True:
                job.refresh_from_db()
                if job.status == job.Status.QUEUED and time.monotonic() - started > 30 and said is None:
                    self.stdout.write("Still waiting for a worker: is one running "
                                      "(make run, or manage.py procrastinate worker)?")
                    said = "waiting"
                line = self.line(job)
                if line != said:
                    self.stdout.write(line)
                    said = line
                if job.status not in job.unfinished():
                    break
                time.sleep(5)
        except KeyboardInterrupt:
            self.stdout.write(f"\nStopped following; the training goes on (manage.py trainspace "
                              f"--cancel {job.public_id} stops it).")
            return
        if job.status == job.Status.DONE:
            self.stdout.write(f"Done: the space {job.slug} is ready.")
        elif job.status == job.Status.FAILED:
            raise CommandError(job.error or "The training failed.")

    @staticmethod
    def line(job) -> str:
        if job.status != job.RUNNING:
            return f"{job.public_id}: {job.get_status_display().lower()}"
        skipped = f", {len(job.skipped)} files skipped" if job.skipped else ""
        losses = job.losses or {}
        left = f", {round(job.eta_s / 60)} min left" if job.eta_s is not None else ""
        return (f"{job.public_id}: {job.pictures_shown:,} of {job.pictures_total:,} pictures shown"
                f" ({job.fraction:.0%}{left}); G {losses.get('g', 0):.2f}, D {losses.get('d', 0):.2f}"
                f"{skipped}")
