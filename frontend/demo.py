"""A demo gallery for a fresh site, so the first visit shows pictures, not an empty room."""

from __future__ import annotations

import hashlib

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

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
#: Titles of the demo works in the ``figures`` space, hung after the abstract ones.
FIGURE_TITLES = [
    "Night Moth", "Lantern", "Totem", "Seed Head", "Ward", "Beetle Queen",
    "Snow Rose", "Mask of Salt", "Starfish", "Heron", "Reliquary", "Thistle",
]


def seed_demo(stdout=None) -> int:
    """Publish a small set of works by a demo artist, once, on a site with no public works."""
    if Creation.objects.public().exists():
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
        figures = Space.objects.filter(slug="figures").first()
        if figures is not None:
            more = actions.do_random(user, figures, len(FIGURE_TITLES), seed=DEMO_SEED)
            for work, title in zip(more, FIGURE_TITLES, strict=True):
                actions.do_update(work, title=title, visibility=Visibility.PUBLIC)
            works += more
    if stdout:
        stdout.write(f"Hung {len(works)} demo works in the gallery.")
    return len(works)


DEMO_EXHIBITION = "first-light"
#: The demo exhibition: ten of the demo works, in the order they hang, with their wall texts.
EXHIBITION_TITLE = "First Light"
EXHIBITION_STATEMENT = (
    "The first pictures a fresh Mendel makes, hung as a small show. Each is a point in the "
    "abstract space, drawn by a network that knows nothing of the world: no camera, no brush, "
    "only colour and form folding over themselves.\n\n"
    "Walk through them, then open one in the studio and give it children."
)
EXHIBITION_WALLS = [
    ("Tidepool", "Begin at the shore. The colours settle in layers, the way water sorts sand "
                 "from shell."),
    ("Slow River", "A current that never reaches the sea: look for the one warm thread that "
                   "runs against it."),
    ("Lichen", "Growth without hurry. Step close; the edges are busier than they first appear."),
    ("Salt Flats", "Almost nothing happens here, and that is the point. A rest for the eyes."),
    ("Inkwell", "The darkest picture in the room. Give it a moment and it opens."),
    ("Moth Wing", "Soft symmetry, never quite kept. A child of this one would likely keep the "
                  "dusting and lose the balance."),
    ("Copper Leaf", "Autumn in a single gesture: the warm colours carry this whole family."),
    ("Opaline", "Light taken apart and put back slightly wrong. A favourite for crossing."),
    ("Nocturne", "Night, as a network imagines it: no stars, only depth."),
    ("Afterglow", "The last picture, and the show's title: what remains when the light has "
                  "gone down."),
]


def seed_demo_exhibition(stdout=None) -> bool:
    """Hang the demo works as an open exhibition curated by the demo artist, once: on a
    site that has no exhibition yet but has the demo works."""
    from gallery import exhibitions
    from gallery.models import Exhibition, ExhibitionStatus

    if Exhibition.objects.exists():
        return False
    user = get_user_model().objects.filter(username=DEMO_USER).first()
    if user is None:
        return False
    works = {c.title: c for c in Creation.objects.public().filter(owner=user)}
    hung = [(works[title], wall) for title, wall in EXHIBITION_WALLS if title in works]
    if not hung:
        return False
    with transaction.atomic():
        exhibition = exhibitions.do_create(user, EXHIBITION_TITLE, EXHIBITION_STATEMENT,
                                           opens_at=timezone.now())
        if exhibition.slug != DEMO_EXHIBITION:  # do_create made it from the title
            exhibition.slug = DEMO_EXHIBITION
            exhibition.save(update_fields=["slug"])
        for creation, wall in hung:
            exhibitions.do_add(exhibition, creation.public_id, wall)
        exhibitions.do_update(exhibition, cover=hung[0][0].public_id, status=ExhibitionStatus.OPEN)
    if stdout:
        stdout.write(f"Opened the demo exhibition “{EXHIBITION_TITLE}” with {len(hung)} works.")
    return True
