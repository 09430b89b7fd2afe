"""Likes and the trending order.

A work's trending score (``Creation.hot``) is log2(2^(created/h) + sum of 2^(liked/h)) with
h = ``HOT_HALF_LIFE``: each like is worth as much as the work's own making, weighed by when
it happened, so a like today lifts a work above everything made in the same hour and a day's
likes fade against the next day's. A like adds its term in the database (one UPDATE); an
unlike recomputes the score from the likes that remain, since subtracting in log space
loses everything to rounding once one like outweighs the rest by about 2^50. A breeder's
like of their own work counts in its likes but not in the trending score: nobody lifts
their own work up the gallery.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.timezone import now

from breeding.models import Creation
from gallery import notices
from gallery.models import Like
from gallery.trending import hot_add_expression, hot_score, hot_term


def do_like(user, creation: Creation) -> bool:
    """Like once; True if this call added the like. Safe under concurrent likes: the unique
    constraint decides, and the count and score move in the same transaction, in the
    database (the row lock orders concurrent additions)."""
    when = now()
    lifts = user.pk != creation.owner_id  # (one's own like does not lift a work: see above)
    try:
        with transaction.atomic():
            Like.objects.create(user=user, creation=creation, created=when)
            Creation.objects.filter(pk=creation.pk).update(
                like_count=F("like_count") + 1,
                **({"hot": hot_add_expression(hot_term(when))} if lifts else {}))
            notices.liked(user, creation)  # (not to oneself; once a day per liker and work)
    except IntegrityError:
        return False
    return True


def do_unlike(user, creation: Creation) -> bool:
    with transaction.atomic():
        deleted, _ = Like.objects.filter(user=user, creation=creation).delete()
        if deleted:
            recompute_hot(creation.pk, like_delta=-1)
    return bool(deleted)


def recompute_hot(creation_pk: int, like_delta: int = 0) -> float:
    """The score from the work's making and the likes it has now. Locks the row first, so
    that a like committed meanwhile is either read here or added after this write."""
    row = Creation.objects.select_for_update().only("created", "owner_id").get(pk=creation_pk)
    liked = (Like.objects.filter(creation_id=creation_pk).exclude(user_id=row.owner_id)
             .values_list("created", flat=True))
    score = hot_score(row.created, liked)
    Creation.objects.filter(pk=creation_pk).update(
        like_count=F("like_count") + like_delta, hot=score)
    return score
