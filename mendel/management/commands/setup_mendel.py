"""First-start set-up that `make run` performs after migrating; cheap when already done."""

from __future__ import annotations

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Prepare a fresh Mendel: everything that should exist before the first visitor."

    def handle(self, *args, **options) -> None:
        # Each step checks whether it is needed, so a second start costs next to nothing.
        for step in STEPS:
            step(self.stdout)


STEPS: list = []
