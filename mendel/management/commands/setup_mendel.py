"""First-start set-up that `make run` performs after migrating; cheap when already done."""

from __future__ import annotations

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Prepare a fresh Mendel: everything that should exist before the first visitor."

    def handle(self, *args, **options) -> None:
        # Each step checks whether it is needed, so a second start costs next to nothing.
        for step in STEPS:
            step(self.stdout)


def sync_spaces(stdout) -> None:
    from breeding.actions import sync_spaces as sync

    sync()


def ensure_genes(stdout) -> None:
    from breeding.tasks import ensure_genes as ensure

    ensure(stdout)


def ensure_words(stdout) -> None:
    from breeding.tasks import ensure_words as ensure

    ensure(stdout)


def neighbour_indexes(stdout) -> None:
    from gallery.neighbours import ensure_indexes

    ensure_indexes(stdout)


def look_indexes(stdout) -> None:
    from breeding.looks import ensure_indexes

    ensure_indexes(stdout)


def demo_gallery(stdout) -> None:
    from frontend.demo import seed_demo

    seed_demo(stdout)


def demo_exhibition(stdout) -> None:
    from frontend.demo import seed_demo_exhibition

    seed_demo_exhibition(stdout)


def demo_media(stdout) -> None:
    # After the first demo exhibition, which hangs only where there is no exhibition yet.
    from frontend.demo_media import seed_demo_media

    seed_demo_media(stdout)


def first_looks(stdout) -> None:
    # The first few works' looks at once (a fresh site's demo: its pages show look-alikes
    # from the start); any others are measured by the minutely job, not at start-up.
    from breeding.looks import fill

    fill(limit=200)


STEPS: list = [sync_spaces, neighbour_indexes, look_indexes, ensure_genes, ensure_words, demo_gallery, demo_exhibition,
               demo_media, first_looks]
