"""Collections: named, ordered lists of works a breeder keeps, public or private, with a
cover; and what a viewer is shown of one.

Who sees what follows the one privacy rule (``breeding.models.RULES``), asked afresh on
every read, so a work its owner makes private or removes leaves every collection at once,
for everyone who may no longer see it, and comes back if it is shared again:

- A collection is opened by its owner, and by anyone once it is public
  (``Collection.objects.readable_by``); a private one answers as one that does not exist.
- Its works are those **listed** for the viewer (``Creation.objects.listed_for``), never
  merely visible: a collection is a list, and ``RULES`` lists only public works and the
  viewer's own. An unlisted work is for those who have its link; if Bob could put Alice's
  unlisted work in his public collection and strangers saw it there, Bob would have
  published what Alice chose not to. So nobody adds a work that is not listed for them
  (the sentence says why), and a work made unlisted later stays shown to its owner alone.
- The cover is the chosen work while it is in the collection and listed for the viewer,
  else the first work shown: never a work the viewer may not see.

``check_*`` functions validate and raise ``Refused`` with a sentence; ``do_*`` functions
write, with the collection's row locked so that positions never interleave. The REST API
(``gallery.collection_api``) and the pages both call these.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from breeding.limits import in_words, take
from breeding.models import Creation
from common.errors import Refused
from gallery import exhibitions
from gallery.listings import work
from gallery.models import Collection, CollectionItem

#: Collections per breeder, and works per collection (as many as an exhibition hangs, so a
#: whole collection can become one).
MAX_COLLECTIONS = 500
MAX_ITEMS = exhibitions.MAX_ITEMS
HOUR_S = 3600


# -- reading ----------------------------------------------------------------------------


def not_found(public_id: str) -> Refused:
    """The one answer for a collection that does not exist and for a private one of
    someone else's: the same sentence, the same status."""
    return Refused(_("No collection with id “%(id)s”.") % {"id": public_id[:20]}, 404)


def readable(user, public_id: str) -> Collection:
    """The collection, if ``user`` may open it; else a 404 as for one that does not exist."""
    found = (Collection.objects.readable_by(user).select_related("owner", "cover__space", "cover__owner")
             .filter(public_id=public_id).first())
    if found is None:
        raise not_found(public_id)
    return found


def owned(user, public_id: str) -> Collection:
    """The collection, if ``user`` owns it: a 404 where they may not even open it, a 403
    where it is someone else's public one."""
    found = readable(user, public_id)
    if not is_owner(user, found):
        raise Refused(_("Only its owner can change this collection."), 403)
    return found


def is_owner(user, collection: Collection) -> bool:
    return bool(user is not None and user.is_authenticated and collection.owner_id == user.pk)


def shown_items(collection: Collection, viewer):
    """The collection's items whose works are listed for ``viewer``, in order."""
    listed = Creation.objects.listed_for(viewer)
    return (collection.items.filter(creation__in=listed)
            .select_related("creation__owner", "creation__space").order_by("position", "id"))


def cover_of(collection: Collection, viewer) -> Creation | None:
    """The picture that stands for the collection, for ``viewer``: the chosen cover while it
    is in the collection and listed for them, else the first work they are shown."""
    shown = shown_items(collection, viewer)
    if collection.cover_id:
        chosen = shown.filter(creation_id=collection.cover_id).first()
        if chosen is not None:
            return chosen.creation
    first = shown.first()
    return first.creation if first else None


def summary(collection: Collection, viewer, count: int | None = None,
            cover: Creation | None | bool = False) -> dict:
    """A collection as lists and pages show it to ``viewer`` (``count`` and ``cover``, when
    the caller has them: ``summaries`` reads them for many collections at once)."""
    if count is None:
        count = shown_items(collection, viewer).count()
    if cover is False:
        cover = cover_of(collection, viewer)
    return {
        "id": collection.public_id,
        "title": collection.title,
        "description": collection.description,
        "public": collection.public,
        "owner": collection.owner.username,
        "count": count,
        "cover": work(cover) if cover else None,
        "created": collection.created.isoformat().replace("+00:00", "Z"),
        "updated": collection.updated.isoformat().replace("+00:00", "Z"),
    }


def summaries(collections, viewer, holding: str | None = None, limit: int | None = None) -> list[dict]:
    """``summary`` of each collection (the first ``limit`` of them), in a fixed number of
    queries whatever their number; with ``holding`` (a work's public id), each says whether
    it holds that work (``holds``) as the viewer is shown it."""
    listed = Creation.objects.listed_for(viewer)
    shown = CollectionItem.objects.filter(collection=OuterRef("pk"), creation__in=listed)
    rows = collections.select_related("owner").annotate(
        shown_count=Count("items", filter=Q(items__creation__in=listed)),
        shown_cover=Coalesce(
            Subquery(shown.filter(creation=OuterRef("cover_id")).values("creation_id")[:1]),
            Subquery(shown.order_by("position", "id").values("creation_id")[:1])),
    )
    rows = list(rows[:limit] if limit is not None else rows)
    wanted = [r.shown_cover for r in rows if r.shown_cover]
    covers = listed.select_related("owner", "space").in_bulk(wanted) if wanted else {}
    holders: set[int] = set()
    if holding:
        holders = set(CollectionItem.objects.filter(
            collection__in=[r.pk for r in rows], creation__in=listed,
            creation__public_id=holding).values_list("collection_id", flat=True))
    out = []
    for row in rows:
        entry = summary(row, viewer, count=row.shown_count, cover=covers.get(row.shown_cover))
        if holding:
            entry["holds"] = row.pk in holders
        out.append(entry)
    return out


def of_person(person, viewer):
    """The collections of ``person`` that ``viewer`` may open (all of them for themselves),
    most recently changed first."""
    return Collection.objects.readable_by(viewer).filter(owner=person).order_by("-updated", "-id")


# -- changing -----------------------------------------------------------------------------


def check_rate(user, kind: str, per_hour: int) -> None:
    """At most ``per_hour`` of this kind of change an hour per breeder (``breeding.limits``)."""
    wait = take(f"collections:{kind}:{user.pk}", 1, per_hour, HOUR_S)
    if wait:
        raise Refused(_("You are collecting very fast. Try again in %(wait)s.")
                      % {"wait": in_words(wait)}, 429, wait=wait)


def check_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise Refused(_("A collection needs a name."), field="title")
    if len(title) > 120:
        raise Refused(_("A collection's name is at most 120 characters."), field="title")
    return title


def touch(collection: Collection) -> None:
    """Its works changed: it moves up its owner's lists (``updated``)."""
    collection.updated = timezone.now()
    Collection.objects.filter(pk=collection.pk).update(updated=collection.updated)


def locked(collection: Collection) -> Collection:
    """The collection's row, locked until the transaction ends."""
    return Collection.objects.select_for_update().get(pk=collection.pk)


def do_create(user, title: str, description: str = "", public: bool = False) -> Collection:
    title = check_title(title)
    if Collection.objects.filter(owner=user).count() >= MAX_COLLECTIONS:
        raise Refused(_("You have %(most)d collections, as many as one person may keep: delete "
                        "one first.") % {"most": MAX_COLLECTIONS})
    check_rate(user, "create", settings.COLLECTIONS_PER_HOUR)
    return Collection.objects.create(owner=user, title=title, description=description.strip(),
                                     public=public)


#: ``do_update``'s "not given" (``None`` is a cover taken away).
UNCHANGED = object()


def do_update(collection: Collection, title: str | None = None, description: str | None = None,
              public: bool | None = None, cover=UNCHANGED) -> Collection:
    """Rename, describe, make public or private, choose the cover (a work in it that its
    owner is shown, by public id; ``None`` or "" for the first work)."""
    with transaction.atomic():
        row = locked(collection)
        if title is not None:
            row.title = check_title(title)
        if description is not None:
            row.description = description.strip()
        if public is not None:
            row.public = public
        if cover is not UNCHANGED:
            row.cover = item_of(row, row.owner, cover).creation if cover else None
        row.updated = timezone.now()
        row.save()
    collection.refresh_from_db()
    return collection


def do_delete(collection: Collection) -> None:
    collection.delete()


def item_of(collection: Collection, viewer, public_id: str) -> CollectionItem:
    """The item of this work, if ``viewer`` is shown it in the collection; a work hidden from
    them since it was added answers as one that was never there."""
    item = shown_items(collection, viewer).filter(creation__public_id=public_id).first()
    if item is None:
        raise Refused(_("No work with id “%(id)s” in this collection.") % {"id": public_id[:20]}, 404)
    return item


def collectable(user, public_id: str) -> Creation:
    """The work ``user`` asks to collect, if they may: a work they may not open answers as
    one that does not exist; one they may open but not list (someone else's unlisted work)
    or a draft is refused with the reason."""
    found = (Creation.objects.visible_to(user).select_related("owner", "space")
             .filter(public_id=public_id).first())
    if found is None:
        raise Refused(_("No work with id “%(id)s”.") % {"id": public_id[:20]}, 404)
    if found.is_draft:
        raise Refused(_("Keep this draft first: drafts nobody keeps are cleared after a while."))
    if not found.listed_for(user):
        raise Refused(_("This work is unlisted, for those who have its link: only public works, "
                        "and your own, can go in a collection."))
    return found


def may_collect(creation: Creation, user) -> bool:
    """Would ``collectable`` let ``user`` collect this work (which they may open)?"""
    return bool(user is not None and user.is_authenticated and not creation.is_draft
                and creation.listed_for(user))


def _order(row: Collection) -> list[int]:
    return list(row.items.order_by("position", "id").values_list("pk", flat=True))


def _renumber(row: Collection, order: list[int]) -> None:
    items = {i.pk: i for i in row.items.all()}
    changed = []
    for position, pk in enumerate(order):
        if items[pk].position != position:
            items[pk].position = position
            changed.append(items[pk])
    CollectionItem.objects.bulk_update(changed, ["position"])


def _placed(row: Collection, viewer, moving: int, position: int) -> list[int]:
    """The whole order with item ``moving`` put at ``position`` among the items ``viewer``
    is shown; the items hidden from them keep their places among the others."""
    order = _order(row)
    shown = list(shown_items(row, viewer).values_list("pk", flat=True))
    seen = set(shown)
    slots = [i for i, pk in enumerate(order) if pk in seen]
    shown.remove(moving)
    shown.insert(max(0, min(position, len(shown))), moving)
    for slot, pk in zip(slots, shown, strict=True):
        order[slot] = pk
    return order


def do_add(collection: Collection, user, public_id: str, position: int | None = None) -> bool:
    """Put a work in the collection (at the end, or at ``position`` among the works its
    owner is shown); True if it was added, False if it was there already (nothing moves)."""
    creation = collectable(user, public_id)
    with transaction.atomic():
        row = locked(collection)
        if row.items.filter(creation=creation).exists():
            return False
        if row.items.count() >= MAX_ITEMS:
            raise Refused(_("A collection holds at most %(most)d works.") % {"most": MAX_ITEMS})
        check_rate(user, "add", settings.COLLECTION_ADDS_PER_HOUR)
        last = row.items.order_by("-position").values_list("position", flat=True).first()
        item = CollectionItem.objects.create(collection=row, creation=creation,
                                             position=0 if last is None else last + 1)
        if position is not None:
            _renumber(row, _placed(row, row.owner, item.pk, position))
        touch(collection)
    return True


def do_remove(collection: Collection, public_id: str) -> None:
    """Take a work its owner is shown out of the collection (and off its cover)."""
    with transaction.atomic():
        row = locked(collection)
        item = item_of(row, row.owner, public_id)
        item.delete()
        if row.cover_id == item.creation_id:
            row.cover = None
        row.save(update_fields=["cover"])
        _renumber(row, _order(row))
        touch(collection)
    collection.refresh_from_db()


def do_move(collection: Collection, public_id: str, position: int) -> None:
    """Move a work to ``position`` (from 0) among the works its owner is shown."""
    with transaction.atomic():
        row = locked(collection)
        item = item_of(row, row.owner, public_id)
        _renumber(row, _placed(row, row.owner, item.pk, position))
        touch(collection)


# -- an exhibition from a collection --------------------------------------------------------


def do_to_exhibition(collection: Collection, curator) -> dict:
    """A draft exhibition of ``curator``'s, in one step: titled and described as the
    collection, hung with its works that the curator is shown and that may hang (public
    ones: ``exhibitions.shows``), in order, under the collection's cover where that may
    hang too. Refused for anyone who is not a curator, and for a collection with nothing
    that may hang."""
    if not exhibitions.can_create(curator):
        raise Refused(_("Only curators can make exhibitions."), 403)
    shown = [item.creation for item in shown_items(collection, curator)]
    hung = [creation for creation in shown if exhibitions.shows(creation)]
    if not hung:
        raise Refused(_("Nothing in this collection can hang in an exhibition: only public works "
                        "can."))
    cover = cover_of(collection, curator)
    with transaction.atomic():
        made = exhibitions.do_create(curator, collection.title, collection.description[:4000])
        exhibitions.do_hang(made, [creation.public_id for creation in hung])
        if cover is not None and exhibitions.shows(cover):
            exhibitions.do_update(made, cover=cover.public_id)
    return {"exhibition": made.slug, "title": made.title, "hung": len(hung),
            "left_out": len(shown) - len(hung)}
