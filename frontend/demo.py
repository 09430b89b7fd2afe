"""A demo gallery for a fresh site, so the first visit shows pictures, not an empty room."""

from __future__ import annotations

import hashlib

from django.contrib.auth import get_user_model
from django.db import transaction

from breeding import actions
from breeding.models import Creation, SeedKey, Space, Visibility

DEMO_USER = "mendel"
DEMO_SEED = 2026
DEMO_KEY = hashlib.sha256(b"mendel demo gallery").hexdigest()
TITLES = [
    "Tidepool", "Agate Dusk", "Slow River", "Ember Study", "Lichen", "Marbled Night",
    "Salt Flats", "Plum Weather", "Inkwell", "Quiet Dune", "Moth Wing", "Glacier Milk",
    "Copper Leaf", "Lagoon", "Heather", "Smoke and Rose", "Riverbed", "Opaline",
    "Nocturne", "Saffron Drift", "Kelp Forest", "First Frost", "Umber", "Afterglow",
]


def seed_demo(stdout=None) -> int:
    """Publish a small set of works by a demo artist, once, on a site with no public works."""
    if Creation.objects.filter(visibility=Visibility.PUBLIC).exists():
        return 0
    space = Space.objects.filter(slug="abstract").first()
    if space is None:
        return 0
    with transaction.atomic():
        user, created = get_user_model().objects.get_or_create(username=DEMO_USER)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            # Everything the demo artist makes is public, so its seed key may be a known one:
            # every fresh Mendel hangs the same demo pictures.
            SeedKey.objects.update_or_create(user=user, defaults={"key": DEMO_KEY})
        works = actions.do_random(user, space, len(TITLES), seed=DEMO_SEED)
        for work, title in zip(works, TITLES, strict=True):
            actions.do_update(work, title=title, visibility=Visibility.PUBLIC)
    if stdout:
        stdout.write(f"Hung {len(works)} demo works in the gallery.")
    return len(works)
