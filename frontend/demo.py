"""A demo gallery for a fresh site, so the first visit shows pictures, not an empty room.

Its words (titles, the exhibition's title, statement and wall texts) are Mendel's own: they
are kept in English, as written here, and marked for the catalogue under the context
``breeding.languages.DEMO``, so a reader sees them in their language wherever they are shown
(``breeding.languages.shown``; ``|shown`` in templates)."""

from __future__ import annotations

import hashlib

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from breeding import actions
from breeding.languages import DEMO
from breeding.models import Creation, SeedKey, Space, Visibility


def pgettext_noop(context: str, message: str) -> str:
    """Mark ``message`` for the catalogue under ``context`` and give it back as it is: the
    demo's words are kept in English and translated where they are shown. (Django has no
    ``pgettext_noop``; ``makemessages`` reads it, see ``mendel/management/commands``. The
    context is written out, ``breeding.languages.DEMO``: xgettext reads only a literal.)"""
    assert context == DEMO, context
    return message

DEMO_USER = "mendel"
DEMO_SEED = 2026
DEMO_KEY = hashlib.sha256(b"mendel demo gallery").hexdigest()
TITLES = [
    pgettext_noop("demo content", "Tidepool"),
    pgettext_noop("demo content", "Agate Dusk"),
    pgettext_noop("demo content", "Slow River"),
    pgettext_noop("demo content", "Ember Study"),
    pgettext_noop("demo content", "Lichen"),
    pgettext_noop("demo content", "Marbled Night"),
    pgettext_noop("demo content", "Salt Flats"),
    pgettext_noop("demo content", "Plum Weather"),
    pgettext_noop("demo content", "Inkwell"),
    pgettext_noop("demo content", "Quiet Dune"),
    pgettext_noop("demo content", "Moth Wing"),
    pgettext_noop("demo content", "Glacier Milk"),
    pgettext_noop("demo content", "Copper Leaf"),
    pgettext_noop("demo content", "Lagoon"),
    pgettext_noop("demo content", "Heather"),
    pgettext_noop("demo content", "Smoke and Rose"),
    pgettext_noop("demo content", "Riverbed"),
    pgettext_noop("demo content", "Opaline"),
    pgettext_noop("demo content", "Nocturne"),
    pgettext_noop("demo content", "Saffron Drift"),
    pgettext_noop("demo content", "Kelp Forest"),
    pgettext_noop("demo content", "First Frost"),
    pgettext_noop("demo content", "Umber"),
    pgettext_noop("demo content", "Afterglow"),
]
#: Titles of the demo works in the ``figures`` space, hung after the abstract ones.
FIGURE_TITLES = [
    pgettext_noop("demo content", "Night Moth"),
    pgettext_noop("demo content", "Lantern"),
    pgettext_noop("demo content", "Totem"),
    pgettext_noop("demo content", "Seed Head"),
    pgettext_noop("demo content", "Ward"),
    pgettext_noop("demo content", "Beetle Queen"),
    pgettext_noop("demo content", "Snow Rose"),
    pgettext_noop("demo content", "Mask of Salt"),
    pgettext_noop("demo content", "Starfish"),
    pgettext_noop("demo content", "Heron"),
    pgettext_noop("demo content", "Reliquary"),
    pgettext_noop("demo content", "Thistle"),
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
EXHIBITION_TITLE = pgettext_noop("demo content", "First Light")
EXHIBITION_STATEMENT = pgettext_noop(
    "demo content",
    "The first pictures a fresh Mendel makes, hung as a small show. Each is a point in the "
    "abstract space, drawn by a network that knows nothing of the world: no camera, no brush, "
    "only colour and form folding over themselves.\n\n"
    "Walk through them, then open one in the studio and give it children."
)
EXHIBITION_WALLS = [
    ("Tidepool", pgettext_noop("demo content", "Begin at the shore. The colours settle in layers, "
                                               "the way water sorts sand from shell.")),
    ("Slow River", pgettext_noop("demo content", "A current that never reaches the sea: look for the "
                                                 "one warm thread that runs against it.")),
    ("Lichen", pgettext_noop("demo content", "Growth without hurry. Step close; the edges are busier "
                                             "than they first appear.")),
    ("Salt Flats", pgettext_noop("demo content", "Almost nothing happens here, and that is the point. "
                                                 "A rest for the eyes.")),
    ("Inkwell", pgettext_noop("demo content", "The darkest picture in the room. Give it a moment and "
                                              "it opens.")),
    ("Moth Wing", pgettext_noop("demo content", "Soft symmetry, never quite kept. A child of this one "
                                                "would likely keep the dusting and lose the balance.")),
    ("Copper Leaf", pgettext_noop("demo content", "Autumn in a single gesture: the warm colours carry "
                                                  "this whole family.")),
    ("Opaline", pgettext_noop("demo content", "Light taken apart and put back slightly wrong. A "
                                              "favourite for crossing.")),
    ("Nocturne", pgettext_noop("demo content", "Night, as a network imagines it: no stars, only depth.")),
    ("Afterglow", pgettext_noop("demo content", "The last picture, and the show's title: what remains "
                                                "when the light has gone down.")),
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
