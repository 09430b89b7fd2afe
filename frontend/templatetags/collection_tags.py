"""Collections on pages other views render: the "Collections" section of a profile, and
whether a work page offers "Add to collection" (``gallery.collections`` decides both)."""

from __future__ import annotations

from django import template

from gallery import collections as kept

register = template.Library()

#: Collections a profile shows, most recently changed first.
PROFILE_COLLECTIONS = 60


@register.inclusion_tag("frontend/_profile_collections.html", takes_context=True)
def profile_collections(context, person):
    """The collections of ``person`` the viewer may open: public ones, and the private ones
    too for the person themselves."""
    viewer = context["user"]
    # one more than are shown: whether there are more, without counting them
    shown = kept.summaries(kept.of_person(person, viewer), viewer, limit=PROFILE_COLLECTIONS + 1)
    return {
        "collections": shown[:PROFILE_COLLECTIONS],
        "more": len(shown) > PROFILE_COLLECTIONS,
        "mine": viewer.is_authenticated and viewer.pk == person.pk,
        "person": person,
    }


@register.filter
def collectable_by(creation, user) -> bool:
    """May ``user`` put this work in a collection (``gallery.collections.collectable``)?"""
    return kept.may_collect(creation, user)
