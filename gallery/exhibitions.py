"""Exhibitions: what curators do to them, written with their event log, and what a visitor
is shown of them.

Every change a visitor would see is one ``ExhibitionEvent``, numbered by the exhibition's
``seq`` under its row lock in the transaction that makes the change, and broadcast to the
exhibition's sockets once that transaction commits (``record``). A visitor who reconnects
with the last seq it saw gets exactly the events after it (``events_since``), or a fresh
snapshot when it is too far behind. Presence and reactions are momentary: broadcast, never
logged.

``check_*`` functions validate and raise ``Refused`` with a sentence; ``do_*`` functions
write and record. The REST API, the pages and the socket all call these.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from procrastinate.contrib.django import app

from breeding import actions as breeding
from breeding import images, languages, media
from breeding.models import Creation, Origin, Video, Visibility
from common.errors import Refused  # a curator action or a vote that cannot be done
from gallery import notices
from gallery.models import (
    BreedingRound,
    Candidate,
    Exhibition,
    ExhibitionEvent,
    ExhibitionItem,
    ExhibitionStatus,
    RoundStatus,
    Vote,
)

#: A visitor this many events behind gets a snapshot instead of the events it missed.
REPLAY_MAX = 500
MAX_ITEMS = 500
ROUND_CHILDREN = (2, 8)
ROUND_SECONDS = (10, 600)
ROUND_CHAOS = 0.35


def group(exhibition_id: int) -> str:
    """The channel-layer group of an exhibition's sockets (ASCII, bounded: built here)."""
    return f"exhibition.{int(exhibition_id)}"


# -- what visitors see ----------------------------------------------------------------


def work_dict(creation: Creation) -> dict:
    video = published = None
    if creation.origin == Origin.VIDEO:  # a query for videos only
        from breeding.videos import files_of

        row = Video.objects.filter(creation=creation).first()
        video = files_of(row) if row else None
    elif creation.origin == Origin.MEDIA:  # ... and for published works only
        published = media.shown_in_exhibitions(creation)
    return {
        "id": creation.public_id,
        "title": creation.title,
        "owner": creation.owner.username,
        "space": creation.space.slug if creation.space_id else None,
        "medium": creation.medium,
        "images": images.of(creation),
        "video": video,
        "media": published,
    }


def item_dict(item: ExhibitionItem) -> dict:
    return {"id": item.pk, "position": item.position, "wall_text": item.wall_text,
            "work": work_dict(item.creation)}


# What an exhibition shows of a work follows the one privacy rule, as seen by anyone (the
# show is open to visitors without an account): the walls, the cover, a round's parent and
# its winner are works listed for anyone (public); a round's candidates are unlisted until
# one wins, so those need only be open to anyone. A work that stops being so leaves every
# snapshot and replay at once, and the sockets are told (``announce_listing``).


def shows(creation: Creation | None) -> bool:
    """May an exhibition show this work on its walls, as its cover, or as a round's parent
    or winner?"""
    return creation is not None and creation.listed_for(None)


def shows_candidate(creation: Creation) -> bool:
    return creation.visible_to(None)


def shown_items(exhibition: Exhibition):
    """The items whose works are public now: a work made private or removed since it was
    hung leaves the walls at once."""
    public = Creation.objects.public()
    return (exhibition.items.filter(creation__in=public)
            .select_related("creation__owner", "creation__space").order_by("position"))


def round_dict(rnd: BreedingRound | None, with_votes: bool = False) -> dict | None:
    """A round as visitors see it: a parent no longer public is ``None``, a candidate no
    longer open to anyone is left out (``votes`` stays indexed by position)."""
    if rnd is None:
        return None
    candidates = list(rnd.candidates.select_related("creation__owner", "creation__space"))
    winner = rnd.winner if rnd.winner_id and shows(rnd.winner) else None
    out = {
        "number": rnd.number,
        "status": rnd.status,
        "parent": work_dict(rnd.parent) if shows(rnd.parent) else None,
        "ends_at": rnd.ends_at.isoformat(),
        "candidates": [{"position": c.position, "work": work_dict(c.creation)}
                       for c in candidates if shows_candidate(c.creation)],
        "winner": winner.public_id if winner else None,
        "tie_rule": str(TIE_RULE),
    }
    if with_votes or rnd.status == RoundStatus.CLOSED:
        counts = dict(rnd.votes.values_list("candidate__position").annotate(n=Count("id")))
        out["votes"] = [counts.get(c.position, 0) for c in candidates]
    if rnd.status == RoundStatus.CLOSED:
        out["tie"] = tied(out["votes"])
    return out


#: How a round whose most-voted pictures have as many votes each is settled, said to
#: everyone before the end (on the page) and after it (``tie`` in the result, the wall text).
TIE_RULE = gettext_lazy("A tie goes to the earliest of the tied pictures.")


def tied(votes: list[int]) -> list[int]:
    """The positions that share the most votes when more than one does (a tie), else []."""
    top = max(votes, default=0)
    tie = [position for position, n in enumerate(votes) if n == top]
    return tie if top and len(tie) > 1 else []


def pictures_in_words(positions: list[int]) -> str:
    """``pictures 1, 2 and 4`` (positions from 0)."""
    numbers = [str(p + 1) for p in positions]
    return _("pictures %(some)s and %(last)s") % {"some": ", ".join(numbers[:-1]), "last": numbers[-1]}


def current_round(exhibition: Exhibition) -> BreedingRound | None:
    return (exhibition.rounds.select_related("parent__owner", "parent__space", "winner")
            .order_by("-number").first())


def manifest(exhibition: Exhibition) -> dict:
    items = list(shown_items(exhibition))
    tour = exhibition.tour_item_id if any(i.pk == exhibition.tour_item_id for i in items) else None
    return {
        "slug": exhibition.slug,
        "title": exhibition.title,
        "statement": exhibition.statement,
        "status": exhibition.status,
        "opens_at": exhibition.opens_at.isoformat() if exhibition.opens_at else None,
        "closes_at": exhibition.closes_at.isoformat() if exhibition.closes_at else None,
        "cover": work_dict(exhibition.cover) if exhibition.cover_id and shows(exhibition.cover) else None,
        "curators": sorted(exhibition.curators.values_list("username", flat=True)),
        "items": [item_dict(i) for i in items],
        "tour": tour,
        "round": round_dict(current_round(exhibition)),
    }


def snapshot(exhibition: Exhibition) -> dict:
    """The whole exhibition as of its last event, in one read."""
    with transaction.atomic():
        exhibition = Exhibition.objects.select_related("cover__owner", "cover__space").get(pk=exhibition.pk)
        return {"type": "snapshot", "seq": exhibition.seq, "exhibition": manifest(exhibition)}


# What is kept and broadcast (the log, the manifest) is data: the curators' words as they
# wrote them, the demo's in English. ``worded`` makes a payload what one reader is shown:
# the sentences Mendel itself says (``tie_rule``) in the active language, and the demo
# exhibition's words in it too (``breeding.languages.shown``). A curator is shown the words
# as they are kept (``content=False``): what they edit is what is stored.

#: The events whose payload ``worded`` changes; the others are the same for every reader.
WORDED = {"snapshot", "works.changed", "item.added", "item.edited", "edited", "round.started",
          "round.closed"}


def _as_is(text):
    return text


def _worded_work(work: dict | None, shown) -> dict | None:
    if not isinstance(work, dict):
        return work
    worded = {**work, "title": shown(work.get("title"))}
    if isinstance(published := work.get("media"), dict):  # its statement (the demo's: translated)
        worded["media"] = {**published, "statement": shown(published.get("statement"))}
    return worded


def _worded_item(item, shown):
    if not isinstance(item, dict):
        return item  # an item's id
    return {**item, "wall_text": shown(item.get("wall_text")), "work": _worded_work(item.get("work"), shown)}


def _worded_round(rnd: dict | None, shown) -> dict | None:
    if not isinstance(rnd, dict):
        return rnd
    return {**rnd, "tie_rule": str(TIE_RULE), "parent": _worded_work(rnd.get("parent"), shown),
            "candidates": [{**c, "work": _worded_work(c.get("work"), shown)} for c in rnd.get("candidates", [])]}


def _worded_manifest(ex: dict, shown) -> dict:
    return {**ex, "title": shown(ex.get("title")), "statement": shown(ex.get("statement")),
            "cover": _worded_work(ex.get("cover"), shown),
            "items": [_worded_item(i, shown) for i in ex.get("items", [])],
            "round": _worded_round(ex.get("round"), shown)}


def worded(payload: dict, content: bool = True) -> dict:
    """An event, a snapshot (``{"seq", "exhibition"}`` too) or a manifest as a reader of the
    active language is shown it (see above); ``payload`` itself is left as it is."""
    shown = languages.shown if content else _as_is
    if "slug" in payload and "items" in payload:  # a manifest
        return _worded_manifest(payload, shown)
    out = dict(payload)
    if isinstance(out.get("exhibition"), dict):
        out["exhibition"] = _worded_manifest(out["exhibition"], shown)
    if "item" in out:
        out["item"] = _worded_item(out["item"], shown)
    if isinstance(out.get("wall_text"), str):
        out["wall_text"] = shown(out["wall_text"])
    if out.get("type") == "edited":
        for name in ("title", "statement"):
            if isinstance(out.get(name), str):
                out[name] = shown(out[name])
        if "cover" in out:
            out["cover"] = _worded_work(out["cover"], shown)
    if "round" in out:
        out["round"] = _worded_round(out["round"], shown)
    return out


def events_since(exhibition: Exhibition, seq: int) -> list[dict] | None:
    """The events after ``seq``, in order; None when the visitor is too far behind (or
    claims to be ahead) and must start again from a snapshot."""
    head = Exhibition.objects.values_list("seq", flat=True).get(pk=exhibition.pk)
    if seq > head or head - seq > REPLAY_MAX:
        return None
    rows = exhibition.events.filter(seq__gt=seq).order_by("seq").values_list("seq", "kind", "payload")
    events = [{"type": kind, "seq": n, **payload} for n, kind, payload in rows]
    if len(events) != head - seq or (events and events[0]["seq"] != seq + 1):
        return None  # a hole (the log was trimmed): start again
    if not all_shown(exhibition, events):
        return None  # the log names a work since hidden: only a snapshot forgets it
    return events


def works_named(payload) -> set[str]:
    """The public ids of the works an event names (its work records and a round's winner)."""
    named: set[str] = set()
    if isinstance(payload, dict):
        if "images" in payload and isinstance(payload.get("id"), str):
            named.add(payload["id"])
        if isinstance(payload.get("winner"), str):
            named.add(payload["winner"])
        for value in payload.values():
            named |= works_named(value)
    elif isinstance(payload, list):
        for value in payload:
            named |= works_named(value)
    return named


def all_shown(exhibition: Exhibition, events: list[dict]) -> bool:
    """May each work these events name still be shown? A public one may; an unlisted one
    only as a candidate of one of this exhibition's rounds (before it won, it was seen by
    anyone at the show). Two queries, whatever the number of events."""
    named = works_named(events)
    if not named:
        return True
    public = set(Creation.objects.public().filter(public_id__in=named)
                 .values_list("public_id", flat=True))
    rest = named - public
    if rest:
        candidates = Creation.objects.visible_to(None).filter(
            public_id__in=rest, pk__in=Candidate.objects.filter(round__exhibition=exhibition)
            .values("creation_id"))
        rest -= set(candidates.values_list("public_id", flat=True))
    return not rest


def showing(creation_ids, listed: bool = True, visible: bool = True) -> list[int]:
    """The exhibitions that show, or showed, any of these works: where a work must be
    listed for anyone (``listed``: on the walls, as the cover, a round's parent or winner),
    and where it need only be open to anyone (``visible``: a round's candidate)."""
    ids = list(creation_ids)
    rows: set[int] = set()
    if listed:
        rows |= set(ExhibitionItem.objects.filter(creation_id__in=ids).values_list("exhibition_id", flat=True))
        rows |= set(Exhibition.objects.filter(cover_id__in=ids).values_list("pk", flat=True))
        rows |= set(BreedingRound.objects.filter(parent_id__in=ids).values_list("exhibition_id", flat=True))
        rows |= set(BreedingRound.objects.filter(winner_id__in=ids).values_list("exhibition_id", flat=True))
    if visible:
        rows |= set(Candidate.objects.filter(creation_id__in=ids).values_list("round__exhibition_id", flat=True))
    return sorted(rows)


def announce_listing(creation_ids, listed: bool = True, visible: bool = True) -> None:
    """Works entered or left what exhibitions show (``listed``, ``visible``: which of the
    rule's answers changed for a visitor): once the change commits, each exhibition where
    that matters records a ``works.changed`` event carrying its whole manifest as it is
    now, so a socket following it drops (or gets back) exactly what the rule says, and a
    replay across the change starts from a snapshot (``all_shown``)."""
    exhibition_ids = showing(creation_ids, listed=listed, visible=visible)
    if not exhibition_ids:
        return

    def announce() -> None:
        for pk in exhibition_ids:
            with transaction.atomic():
                row = Exhibition.objects.select_for_update().filter(pk=pk).first()
                if row is not None:
                    record(row, "works.changed", {"exhibition": manifest(row)})

    transaction.on_commit(announce)


# -- the log --------------------------------------------------------------------------


def record(exhibition: Exhibition, kind: str, payload: dict) -> dict:
    """Append an event to the exhibition's log and broadcast it once the transaction
    commits. Must run inside the transaction that makes the change."""
    assert transaction.get_connection().in_atomic_block, "record() belongs in the change's transaction"
    Exhibition.objects.filter(pk=exhibition.pk).update(seq=F("seq") + 1)
    seq = Exhibition.objects.values_list("seq", flat=True).get(pk=exhibition.pk)
    exhibition.seq = seq
    ExhibitionEvent.objects.create(exhibition=exhibition, seq=seq, kind=kind, payload=payload)
    event = {"type": kind, "seq": seq, **payload}
    broadcast(exhibition.pk, event)
    return event


def broadcast(exhibition_id: int, event: dict, kind: str = "exhibition.event") -> None:
    """Send to every socket of the exhibition after commit (at once outside a transaction)."""
    def send() -> None:
        async_to_sync(get_channel_layer().group_send)(group(exhibition_id), {"type": kind, "event": event})

    transaction.on_commit(send)


def locked(exhibition: Exhibition) -> Exhibition:
    """The exhibition's row, locked until the transaction ends: changes to one exhibition
    happen one at a time, so positions and seqs never interleave."""
    return Exhibition.objects.select_for_update().get(pk=exhibition.pk)


# -- who may do what ------------------------------------------------------------------


def can_create(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_staff or user.has_perm("gallery.curate")))


def can_curate(user, exhibition: Exhibition) -> bool:
    if not (user and user.is_authenticated):
        return False
    if user.is_staff:
        return True
    return user.has_perm("gallery.curate") and exhibition.curators.filter(pk=user.pk).exists()


# -- curators' actions ----------------------------------------------------------------


#: Slugs the pages use for themselves (/exhibitions/new/).
RESERVED_SLUGS = {"new"}


def unique_slug(title: str) -> str:
    base = slugify(title)[:60] or "exhibition"
    slug = base
    while slug in RESERVED_SLUGS or Exhibition.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(2)}"
    return slug


def do_create(user, title: str, statement: str = "", **fields) -> Exhibition:
    with transaction.atomic():
        exhibition = Exhibition.objects.create(slug=unique_slug(title), title=title,
                                               statement=statement, **fields)
        exhibition.curators.add(user)
    return exhibition


def public_work(public_id: str) -> Creation:
    """A work that may hang: public and not removed (drafts, private and unlisted works
    never enter an exhibition)."""
    creation = (Creation.objects.public().select_related("owner", "space")
                .filter(public_id=public_id).first())
    if creation is None:
        raise Refused(_("No public work with id %(id)s: only public works can hang in an "
                        "exhibition.") % {"id": repr(public_id[:20])})
    return creation


def do_update(exhibition: Exhibition, **fields) -> dict | None:
    """Change the title, statement, cover, dates or status; one ``edited`` event (and an
    ``opened`` or ``closed`` one when the status changes)."""
    changes = {}
    with transaction.atomic():
        row = locked(exhibition)
        for name, value in fields.items():
            if name == "cover":
                value = public_work(value) if value else None
                current = row.cover.public_id if row.cover_id else None
                if (value.public_id if value else None) == current:
                    continue
                row.cover = value
                changes["cover"] = work_dict(value) if value else None
            elif getattr(row, name) != value:
                setattr(row, name, value)
                changes[name] = value.isoformat() if hasattr(value, "isoformat") else value
        if not changes:
            return None
        status = changes.pop("status", None)
        row.save()
        event = record(row, "edited", changes) if changes else None
        if status is not None:
            event = record(row, status if status != ExhibitionStatus.DRAFT else "unpublished",
                           {"status": status})
            if status == ExhibitionStatus.OPEN:
                notices.exhibition_opened(row)
    exhibition.refresh_from_db()
    return event


def item_of(exhibition: Exhibition, item_id) -> ExhibitionItem:
    if isinstance(item_id, bool) or not isinstance(item_id, int):
        raise Refused(_("An item is named by its number."))
    item = (exhibition.items.select_related("creation__owner", "creation__space")
            .filter(pk=item_id).first())
    if item is None:
        raise Refused(_("No item %(item)s in this exhibition.") % {"item": item_id})
    return item


def _renumber(exhibition: Exhibition, order: list[int]) -> None:
    items = {i.pk: i for i in exhibition.items.all()}
    for position, pk in enumerate(order):
        if items[pk].position != position:
            items[pk].position = position
    ExhibitionItem.objects.bulk_update(items.values(), ["position"])


def do_add(exhibition: Exhibition, public_id: str, wall_text: str = "",
           position: int | None = None) -> dict:
    creation = public_work(public_id)
    with transaction.atomic():
        row = locked(exhibition)
        order = list(row.items.order_by("position").values_list("pk", flat=True))
        if len(order) >= MAX_ITEMS:
            raise Refused(_("An exhibition holds at most %(most)s works.") % {"most": MAX_ITEMS})
        if row.items.filter(creation=creation).exists():
            raise Refused(_("%(title)s hangs here already.")
                          % {"title": languages.shown(creation.title) or _("This work")})
        position = len(order) if position is None else max(0, min(position, len(order)))
        item = ExhibitionItem.objects.create(exhibition=row, creation=creation,
                                             position=len(order), wall_text=wall_text)
        order.insert(position, item.pk)
        _renumber(row, order)
        item.refresh_from_db()
        notices.hung(row, creation)  # its owner hears of it once the show is theirs to see
        return record(row, "item.added", {"item": item_dict(item)})


def do_hang(exhibition: Exhibition, public_ids: list[str]) -> int:
    """Hang many works at the end of the walls at once, in the order given (a collection
    made into an exhibition: ``gallery.collections.do_to_exhibition``): those that may hang
    (``public_work``'s rule) and do not hang here yet, up to ``MAX_ITEMS`` in all. One
    ``works.changed`` event with the whole manifest, rather than an event and a renumbering
    for each. How many were hung."""
    may_hang = {c.public_id: c for c in Creation.objects.public().select_related("owner")
                .filter(public_id__in=public_ids)}
    with transaction.atomic():
        row = locked(exhibition)
        there = set(row.items.values_list("creation_id", flat=True))
        hung: list[Creation] = []
        for public_id in dict.fromkeys(public_ids):
            creation = may_hang.get(public_id)
            if creation is not None and creation.pk not in there:
                hung.append(creation)
        hung = hung[:max(0, MAX_ITEMS - len(there))]
        ExhibitionItem.objects.bulk_create(
            ExhibitionItem(exhibition=row, creation=creation, position=len(there) + i)
            for i, creation in enumerate(hung))
        curators = set(row.curators.values_list("pk", flat=True))
        for creation in hung:
            notices.hung(row, creation, curators)
        if hung:
            record(row, "works.changed", {"exhibition": manifest(row)})
    return len(hung)


def do_move(exhibition: Exhibition, item_id: int, position: int) -> dict:
    with transaction.atomic():
        row = locked(exhibition)
        item = item_of(row, item_id)
        order = list(row.items.order_by("position").values_list("pk", flat=True))
        order.remove(item.pk)
        position = max(0, min(position, len(order)))
        order.insert(position, item.pk)
        _renumber(row, order)
        return record(row, "item.moved", {"item": item.pk, "position": position})


def do_remove(exhibition: Exhibition, item_id: int) -> dict:
    with transaction.atomic():
        row = locked(exhibition)
        item = item_of(row, item_id)
        item.delete()
        _renumber(row, list(row.items.order_by("position").values_list("pk", flat=True)))
        return record(row, "item.removed", {"item": item_id})


def do_edit_item(exhibition: Exhibition, item_id: int, wall_text: str) -> dict:
    with transaction.atomic():
        row = locked(exhibition)
        item = item_of(row, item_id)
        item.wall_text = wall_text
        item.save(update_fields=["wall_text"])
        return record(row, "item.edited", {"item": item.pk, "wall_text": wall_text})


def do_tour(exhibition: Exhibition, item_id: int | None) -> dict:
    """Move the guided tour to an item (None ends the tour)."""
    with transaction.atomic():
        row = locked(exhibition)
        item = item_of(row, item_id) if item_id is not None else None
        if item is not None and not shows(item.creation):
            raise Refused(_("That work is no longer shown: the tour cannot go there."))
        row.tour_item = item
        row.save(update_fields=["tour_item"])
        return record(row, "tour", {"item": item.pk if item else None})


# -- live breeding shows --------------------------------------------------------------


def check_round_parent(parent_id: str | None) -> Creation | None:
    """The work a round would breed from (None: the last winner), refused with a sentence
    before anything is spent on it when it cannot be: not public, or a video."""
    if not parent_id:
        return None
    parent = public_work(parent_id)
    try:
        breeding.check_breedable(parent)
    except breeding.NotBreedable:
        title = languages.shown(parent.title) or _("Untitled")
        if parent.is_media:
            raise Refused(_("“%(title)s” is a published work, and a round breeds children of a "
                            "work bred in Mendel: choose one of those instead.") % {"title": title}) from None
        raise Refused(_("“%(title)s” is a video, and a round breeds children of a picture: choose "
                        "one of the pictures instead.") % {"title": title}) from None
    return parent


def do_start_round(exhibition: Exhibition, curator, parent_id: str | None = None,
                   n: int = 4, seconds: int = 60) -> dict:
    """Breed ``n`` children of ``parent_id`` (by default, the last round's winner) for the
    audience to vote on for ``seconds``; a job closes the round when the time is up."""
    if not ROUND_CHILDREN[0] <= n <= ROUND_CHILDREN[1]:
        raise Refused(_("A round breeds %(low)s to %(high)s children.")
                      % {"low": ROUND_CHILDREN[0], "high": ROUND_CHILDREN[1]})
    if not ROUND_SECONDS[0] <= seconds <= ROUND_SECONDS[1]:
        raise Refused(_("A round lasts %(low)s to %(high)s seconds.")
                      % {"low": ROUND_SECONDS[0], "high": ROUND_SECONDS[1]})
    with transaction.atomic():
        row = locked(exhibition)
        if row.status != ExhibitionStatus.OPEN:
            raise Refused(_("Open the exhibition before starting a breeding round."))
        last = row.rounds.order_by("-number").first()
        if last is not None and last.status == RoundStatus.VOTING and last.ends_at <= timezone.now():
            do_close_round(last.pk)  # its time is up, and its job has not run yet
            last.refresh_from_db()
        if last is not None and last.status == RoundStatus.VOTING:
            raise Refused(_("Round %(number)s is still being voted on.") % {"number": last.number})
        if parent_id:
            parent = check_round_parent(parent_id)
        elif last is not None and last.winner_id and shows(last.winner):
            parent = last.winner
        else:
            raise Refused(_("Choose the work the first round breeds from."))
        try:
            children = breeding.do_children(curator, parent, n, ROUND_CHAOS)
        except breeding.NotBreedable as refused:
            raise Refused(str(refused)) from None
        for child in children:  # seen by anyone at the show, listed nowhere until it wins
            breeding.do_update(child, visibility=Visibility.UNLISTED)
        rnd = BreedingRound.objects.create(
            exhibition=row, number=(last.number + 1) if last else 1, parent=parent,
            ends_at=timezone.now() + timedelta(seconds=seconds))
        Candidate.objects.bulk_create(Candidate(round=rnd, creation=c, position=i)
                                      for i, c in enumerate(children))
        # By name: the job module imports this one, never the other way round.
        app.configure_task("gallery.tasks.close_round", allow_unknown=False,
                           schedule_at=rnd.ends_at).defer(round_id=rnd.pk)
        return record(row, "round.started", {"round": round_dict(rnd)})


def address_digest(address: str | None) -> str:
    """What a vote keeps of an anonymous voter's address (``breeding.limits.client_address``):
    a keyed digest, enough to count votes from one address and useless for finding it."""
    if not address:
        return ""
    return salted_hmac("gallery.vote.address", address).hexdigest()[:32]


def do_vote(exhibition: Exhibition, number: int, position: int, user=None,
            session_key: str | None = None, address: str | None = None) -> bool:
    """One vote per account (or per anonymous session) per round, while it is open; a second
    vote changes the first (counted once). Visitors without an account cast at most
    ``EXHIBITION_ANONYMOUS_VOTES_PER_ADDRESS`` votes per round from one ``address``. True
    when the vote is new, False when it changed (or repeated) an earlier one."""
    if user is None and not session_key:
        raise Refused(_("Your browser must keep cookies to vote."))
    rnd = exhibition.rounds.filter(number=number).first()
    if rnd is None:
        raise Refused(_("There is no round %(number)s.") % {"number": number})
    candidate = rnd.candidates.filter(position=position).first()
    with transaction.atomic():
        # The round's row, locked: its votes are counted and changed one at a time.
        rnd = BreedingRound.objects.select_for_update().get(pk=rnd.pk)
        if rnd.status != RoundStatus.VOTING or rnd.ends_at <= timezone.now():
            raise Refused(_("Voting in round %(number)s has closed.") % {"number": number})
        if candidate is None:
            raise Refused(_("Round %(number)s has no picture %(position)s.")
                          % {"number": number, "position": position + 1})
        mine = rnd.votes.filter(user=user) if user is not None else rnd.votes.filter(
            user__isnull=True, session_key=session_key)
        if mine.update(candidate=candidate):
            return False
        digest = address_digest(address) if user is None else ""
        most = settings.EXHIBITION_ANONYMOUS_VOTES_PER_ADDRESS
        if user is None and most == 0:
            raise Refused(_("Log in to vote in this round."))
        if digest and rnd.votes.filter(user__isnull=True, address=digest).count() >= most:
            raise Refused(_("%(most)s votes have come from your address in this round already: "
                            "log in to vote too.") % {"most": most})
        Vote.objects.create(round=rnd, candidate=candidate, user=user, address=digest,
                            session_key="" if user is not None else session_key)
    return True


def winner_wall(number: int, votes: int, total: int, tie: list[int]) -> str:
    """The wall text of a round's winner, in the active language."""
    if tie:
        return ngettext(
            "Winner of round %(number)s: %(pictures)s tied with %(votes)s vote each, and as "
            "the rule goes the earliest of them goes on.",
            "Winner of round %(number)s: %(pictures)s tied with %(votes)s votes each, and as "
            "the rule goes the earliest of them goes on.", votes,
        ) % {"number": number, "pictures": pictures_in_words(tie), "votes": votes}
    if total:
        return ngettext("Winner of round %(number)s, chosen by the audience with %(votes)s of "
                        "%(total)s vote.",
                        "Winner of round %(number)s, chosen by the audience with %(votes)s of "
                        "%(total)s votes.", total) % {"number": number, "votes": votes, "total": total}
    return _("Round %(number)s: nobody voted, so the first picture goes on.") % {"number": number}


def do_close_round(round_id: int) -> dict | None:
    """Count the votes, hang the winner and announce it; once, however often it is asked
    (the scheduled job, a curator ending the round early)."""
    with transaction.atomic():
        rnd = BreedingRound.objects.select_for_update().filter(pk=round_id).first()
        if rnd is None or rnd.status != RoundStatus.VOTING:
            return None
        row = locked(rnd.exhibition)
        counts = dict(rnd.votes.values_list("candidate_id").annotate(n=Count("id")))
        candidates = list(rnd.candidates.select_related("creation"))
        # Most votes wins; a tie, or no votes at all, goes to the earliest candidate.
        winner = max(candidates, key=lambda c: (counts.get(c.pk, 0), -c.position))
        # Public first, as the candidate it still is (it was open to anyone already, so
        # nothing is announced), then the winner: the events below tell the rest.
        breeding.do_update(winner.creation, visibility=Visibility.PUBLIC)
        rnd.winner = winner.creation
        rnd.status = RoundStatus.CLOSED
        rnd.save(update_fields=["winner", "status"])
        votes = counts.get(winner.pk, 0)
        total = sum(counts.values())
        tie = tied([counts.get(c.pk, 0) for c in candidates])
        # The winner's title and wall text are words of the show, kept as they are written:
        # in the language of the curator whose round it was (the candidates are theirs).
        with languages.speaking(languages.chosen_by(winner.creation.owner) or translation.get_language()):
            if not winner.creation.title:
                title = _("%(exhibition)s, round %(number)s") % {
                    "exhibition": languages.shown(row.title), "number": rnd.number}
                breeding.do_update(winner.creation, title=title[:120])
            wall = winner_wall(rnd.number, votes, total, tie)
        event = record(row, "round.closed", {"round": round_dict(rnd)})
        if not row.items.filter(creation=winner.creation).exists():
            order = list(row.items.order_by("position").values_list("pk", flat=True))
            item = ExhibitionItem.objects.create(exhibition=row, creation=winner.creation,
                                                 position=len(order), wall_text=wall)
            record(row, "item.added", {"item": item_dict(item)})
    return event


def do_end_round(exhibition: Exhibition) -> dict:
    """End the voting round now (the curator's call)."""
    rnd = exhibition.rounds.filter(status=RoundStatus.VOTING).first()
    if rnd is None:
        raise Refused(_("No round is being voted on."))
    return do_close_round(rnd.pk)



def do_scheduled(now=None) -> list[str]:
    """Open the drafts whose opening time has come, and close the open exhibitions whose
    closing time has passed; each with its event. The slugs changed."""
    now = now or timezone.now()
    changed = []
    due_open = Exhibition.objects.filter(status=ExhibitionStatus.DRAFT, opens_at__lte=now).exclude(
        closes_at__lte=now)
    due_close = Exhibition.objects.filter(status=ExhibitionStatus.OPEN, closes_at__lte=now)
    for exhibition, status in [*((e, ExhibitionStatus.OPEN) for e in due_open),
                               *((e, ExhibitionStatus.CLOSED) for e in due_close)]:
        if do_update(exhibition, status=status) is not None:
            changed.append(exhibition.slug)
    return changed
