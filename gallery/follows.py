"""Following artists: who follows whom, and the counts a profile shows.

What a follower sees of those they follow is ``gallery.listings.following_works``.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from common.errors import Refused
from gallery import notices
from gallery.models import Follow


def person(username: str):
    """The active account called ``username``, or a 404 refusal that says so."""
    found = get_user_model().objects.filter(username=username, is_active=True).first()
    if found is None:
        raise Refused(_("No one called '%(name)s' here.") % {"name": username}, 404)
    return found


def do_follow(user, artist) -> bool:
    """Follow ``artist``; True if this call began it (following twice is following once:
    the unique constraint decides, under concurrent requests too)."""
    if artist.pk == user.pk:
        raise Refused(_("You cannot follow yourself: your own works are in your library."))
    with transaction.atomic():
        _follow, made = Follow.objects.get_or_create(follower=user, artist=artist)
        if made:
            notices.followed(user, artist)
    return made


def do_unfollow(user, artist) -> bool:
    """Stop following ``artist``; True if this call ended it."""
    deleted, _deleted = Follow.objects.filter(follower=user, artist=artist).delete()
    return bool(deleted)


def counts(artist, viewer=None) -> dict:
    """How many follow ``artist`` (``followers``), how many they follow (``following``), and
    whether ``viewer`` (anyone, logged in or not) is among their followers (``followed``):
    one query, over the two indexes of ``Follow``."""
    viewer_id = viewer.pk if viewer is not None and viewer.is_authenticated else None
    found = Follow.objects.filter(Q(artist=artist) | Q(follower=artist)).aggregate(
        followers=Count("pk", filter=Q(artist=artist)),
        following=Count("pk", filter=Q(follower=artist)),
        followed=Count("pk", filter=Q(artist=artist, follower_id=viewer_id)),
    )
    return {"followers": found["followers"], "following": found["following"],
            "followed": found["followed"] > 0}
