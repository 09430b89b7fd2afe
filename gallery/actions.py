"""Likes and the trending order."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from breeding.models import Creation, hot_expression
from gallery.models import Like


def do_like(user, creation: Creation) -> bool:
    """Like once; True if this call added the like. Safe under concurrent likes: the unique
    constraint decides, and the count moves in the same transaction, in the database."""
    try:
        with transaction.atomic():
            Like.objects.create(user=user, creation=creation)
            _add_likes(creation, 1)
    except IntegrityError:
        return False
    return True


def do_unlike(user, creation: Creation) -> bool:
    with transaction.atomic():
        deleted, _ = Like.objects.filter(user=user, creation=creation).delete()
        if deleted:
            _add_likes(creation, -1)
    return bool(deleted)


def _add_likes(creation: Creation, delta: int) -> None:
    """Move the count and the trending score together, in one UPDATE."""
    likes = F("like_count") + delta
    Creation.objects.filter(pk=creation.pk).update(like_count=likes, hot=hot_expression(likes))
