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
            Creation.objects.filter(pk=creation.pk).update(like_count=F("like_count") + 1)
            Creation.objects.filter(pk=creation.pk).update(hot=hot_expression())
    except IntegrityError:
        return False
    return True


def do_unlike(user, creation: Creation) -> bool:
    with transaction.atomic():
        deleted, _ = Like.objects.filter(user=user, creation=creation).delete()
        if deleted:
            Creation.objects.filter(pk=creation.pk).update(like_count=F("like_count") - 1)
            Creation.objects.filter(pk=creation.pk).update(hot=hot_expression())
    return bool(deleted)
