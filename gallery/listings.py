"""The lists of works: which works (``public_works``, ``following_works``, ``of_kind``), in
which order (``ORDERS``), a page at a time (``GalleryPage``), each work as a list shows it
(``work``). The gallery API answers them and the pages show them."""

from __future__ import annotations

import math

from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

from breeding import images, languages, words
from breeding.models import Creation, Medium, Origin
from common.params import int_param
from gallery.models import Follow
from gallery.neighbours import near_place_ids

#: "following" is newest first too, of the works of the artists the viewer follows
#: (``following_works``): a list of its own for each viewer.
ORDERS = {"newest": ("-created", "-id"), "trending": ("-hot", "-id"), "following": ("-created", "-id")}


#: What ``work`` reads of a work (and a list's order, ``hot``).
WORK_FIELDS = ("public_id", "title", "like_count", "created", "hot", "latent_sha", "origin",
               "medium", "owner__username", "space__slug")


def public_works():
    return Creation.objects.public().select_related("owner", "space").only(*WORK_FIELDS)


def following_works(viewer):
    """The works of the artists ``viewer`` follows that are listed for them: their
    "following" view of the gallery, newest first like ``newest``.

    What is listed for anyone (``public_works``) is listed for every viewer, and it is all a
    follower may list of these artists: nobody follows themselves (the ``Follow``
    constraint), and ``listed_for(viewer)`` adds to the public works only the viewer's own.
    So this is exactly ``listed_for(viewer)`` of the artists followed, in the condition of
    the gallery's partial index on (created, id): the planner walks that index newest first
    and looks each work's owner up in the breeder's follows (the (follower, artist) index),
    stopping at a full page. A page costs about its size divided by the followed artists'
    share of recent public works: 142 rows and 1.4 ms for a breeder who follows 10,000 of
    50,000 artists over 200,000 works (``bench/feed.py``). For a breeder who follows only a
    few, the planner takes their works by owner and sorts them instead. The slow case is many
    follows of artists who have published nothing for a long while: the walk reads far back
    (0.3 s for 2,000 artists silent for 200 days over those 200,000 works).
    """
    followed = Follow.objects.filter(follower=viewer).values("artist_id")
    return public_works().filter(owner__in=followed)


def listed_works(viewer, ids: list[int]) -> list[dict]:
    """The works of ``ids`` that ``viewer`` may list, in that order, as ``work`` says them."""
    found = {c.pk: c for c in Creation.objects.listed_for(viewer).select_related("owner", "space")
             .only(*WORK_FIELDS).filter(pk__in=ids)}
    return [work(found[i]) for i in ids if i in found]


def near_phrase(space, phrase: str, limit: int) -> tuple[dict, list[dict]]:
    """The public works of ``space`` nearest the point of ``phrase`` (``breeding.words``):
    what the phrase was read as, and the works, nearest first. Through the space's place
    index (``gallery.neighbours.near_place_ids``): public works only, as the gallery's
    other lists."""
    reading = words.understand(space, phrase)
    point = words.phrase_point(reading)
    return reading.as_dict(), listed_works(None, near_place_ids(space, point, limit))


def work(creation: Creation) -> dict:
    """What WorkSerializer would say, built directly: lists are the hottest read path and
    a serializer costs several times the query."""
    return {
        "id": creation.public_id,
        "title": languages.shown(creation.title),  # the demo's titles in the reader's language
        "owner": creation.owner.username,
        "space": creation.space.slug if creation.space_id else None,
        "like_count": creation.like_count,
        "created": creation.created.isoformat().replace("+00:00", "Z"),
        "images": images.of(creation),
        "kind": creation.medium,
        "published": creation.origin == Origin.MEDIA,
    }


class LimitedPage(CursorPagination):
    """Cursor paging whose page size is asked for as ``limit``, within bounds the schema
    states; a bad ``limit`` is a 400 naming it, never a silent fallback."""

    page_size_query_param = "limit"

    def get_page_size(self, request):
        return int_param(request, self.page_size_query_param, self.page_size, 1, self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size, default=self.page_size)
        return parameters


class GalleryPage(LimitedPage):
    page_size = 24
    max_page_size = 96
    page_size_query_param = "limit"
    invalid_cursor_message = gettext_lazy("No such page: the cursor was not made by this gallery.")
    page_size_query_description = f"Works per page (default {page_size}, at most {max_page_size})."

    def __init__(self, ordering=ORDERS["newest"]):
        self.ordering = ordering

    def decode_cursor(self, request):
        """The cursor, with its position checked against the order's field: a cursor is
        opaque, but one made by hand (``p=nan``, ``p=2026-99-99``) is a 404, not a 500."""
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        field = self.ordering[0].lstrip("-")
        if field == "created":
            try:
                valid = parse_datetime(cursor.position) is not None
            except ValueError:  # well-formed but impossible: month 99
                valid = False
        else:
            try:
                valid = math.isfinite(float(cursor.position))
            except ValueError:
                valid = False
        if not valid:
            raise NotFound(self.invalid_cursor_message)
        return cursor



#: What the gallery can show of one kind: pictures, videos, sounds or texts, bred or
#: published alike (a medium: ``Creation.medium``).
KINDS = {"pictures": Medium.PICTURE, "videos": Medium.VIDEO, "sounds": Medium.SOUND,
         "texts": Medium.TEXT}
#: ...and of one way of being made: bred in Mendel, or published as it is.
MADE = {"bred": ~Q(origin=Origin.MEDIA), "published": Q(origin=Origin.MEDIA)}


def of_kind(works, kind: str | None):
    """``works`` of one kind ("pictures", "videos", "sounds", "texts"), or all of them."""
    if kind and kind not in KINDS:
        raise ValidationError({"kind": [_("must be one of %(choices)s.") % {"choices": ", ".join(KINDS)}]})
    return works.filter(medium=KINDS[kind]) if kind else works


def made(works, how: str | None):
    """``works`` bred in Mendel ("bred") or published as they are ("published")."""
    if how and how not in MADE:
        raise ValidationError({"made": [_("must be one of %(choices)s.") % {"choices": ", ".join(MADE)}]})
    return works.filter(MADE[how]) if how else works


def with_technique(works, technique: str | None):
    """``works`` published with a technique (by its slug)."""
    if not technique:
        return works
    return works.filter(media__techniques__slug=technique[:48])
