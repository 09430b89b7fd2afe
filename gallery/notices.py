"""Notices: someone liked a breeder's work, bred from it, hung it in an exhibition, commented
on it, or followed them. Listed on their notices page and pushed live to their notice
sockets (``/ws/notices/``, ``gallery.consumers.NoticeConsumer``).

Made (``liked``, ``bred``, ``hung``, ``commented``, ``followed``, each called by the action it
tells of, in that action's transaction):

- never to the person who did it, and never of a kind the recipient muted (``set_muted``);
- at most once per kind, actor and subject a day (the constraints of ``Notice``): a
  like-unlike-like loop or a burst of 50 children is one notice; unliking leaves the notice
  (it told of something that happened). "hung" is once per exhibition and work, ever, made
  as soon as the exhibition is one the owner may see: when the work is hung in an open
  show, or when a draft show opens (``exhibition_opened``).

Read (``shown``): at the time they are shown, never from what was true when they were
made. A notice about a work the recipient may no longer see (``Creation.objects.visible_to``:
their own work removed) or in an exhibition they may no longer see (back to a draft) is
left out of the list and the unread count. A notice names only the recipient's own work,
a person, and an exhibition they may see; a child bred from their work is named and linked
only while it is listed for them (``Creation.objects.listed_for``: a draft or private child
never is).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import NamedTuple
from urllib.parse import quote

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case, Exists, OuterRef, Q, Subquery, When
from django.db.models.functions import JSONObject
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from breeding import images, languages
from breeding.models import Creation, Origin, may
from common.errors import Refused
from common.statements import Statement
from gallery.models import Exhibition, ExhibitionItem, Notice, NoticeKind, NoticeSettings

#: The unread count stops at this many (the badge says "99+"): counting a breeder's 100,000
#: unread notices to show "99+" would read them all.
UNREAD_MAX = 100
PAGE_SIZE = 30
#: Origins that breed from their parents (a video's keyframes are not bred from).
BREEDING = (Origin.CHILDREN, Origin.CROSS, Origin.EDIT)

#: What the settings call each kind: "Tell me when someone…".
KIND_LABELS = {
    NoticeKind.LIKED: gettext_lazy("likes my work"),
    NoticeKind.BRED: gettext_lazy("breeds from my work"),
    NoticeKind.HUNG: gettext_lazy("hangs my work in an exhibition"),
    NoticeKind.COMMENTED: gettext_lazy("comments on my work"),
    NoticeKind.FOLLOWED: gettext_lazy("follows me"),
}


def group(user_id: int) -> str:
    """The channel-layer group of one breeder's notice sockets (ASCII, bounded: built here)."""
    return f"notices.user.{int(user_id)}"


# -- making them -----------------------------------------------------------------------


def liked(user, work: Creation) -> Notice | None:
    return notify(NoticeKind.LIKED, work.owner_id, actor=user, work=work)


def bred(works, parents) -> list[Notice]:
    """``works`` (not yet written: ``breeding.signals.works_made``) were bred from
    ``parents``: one notice to each other owner per parent work, once a day per breeder."""
    if not works or not parents or works[0].origin not in BREEDING:
        return []
    breeder = works[0].owner
    made = []
    for parent in {p.pk: p for p in parents}.values():
        notice = notify(NoticeKind.BRED, parent.owner_id, actor=breeder, work=parent)
        if notice is not None:
            made.append(notice)
    return made


def hung(exhibition: Exhibition, work: Creation, curators: set[int] | None = None) -> Notice | None:
    """``work`` hangs in ``exhibition``: its owner hears of it once they may see the show (a
    draft's curators only may; ``exhibition_opened`` tells the others when it opens). Its
    curators put it there themselves: they are not told."""
    if curators is None:
        curators = set(exhibition.curators.values_list("pk", flat=True))
    owner = work.owner
    if owner.pk in curators or not Exhibition.objects.visible_to(owner).filter(pk=exhibition.pk).exists():
        return None
    return notify(NoticeKind.HUNG, owner.pk, work=work, exhibition=exhibition)


def exhibition_opened(exhibition: Exhibition) -> list[Notice]:
    """The owners of the works hanging in ``exhibition``, which has just opened, hear of it
    (those told already are not told again)."""
    curators = set(exhibition.curators.values_list("pk", flat=True))
    items = (ExhibitionItem.objects.filter(exhibition=exhibition, creation__in=Creation.objects.public())
             .select_related("creation__owner"))
    made = [hung(exhibition, item.creation, curators) for item in items]
    return [notice for notice in made if notice is not None]


def commented(comment) -> Notice | None:
    """``comment`` (a ``gallery.models.Comment``) was written on someone's work."""
    work = comment.creation
    return notify(NoticeKind.COMMENTED, work.owner_id, actor=comment.author, work=work)


def followed(follower, artist) -> Notice | None:
    return notify(NoticeKind.FOLLOWED, artist.pk, actor=follower)


def notify(kind: str, recipient_id: int, actor=None, work: Creation | None = None,
           exhibition: Exhibition | None = None) -> Notice | None:
    """The notice, if this call made it: none to oneself, of a muted kind, or twice (see the
    module's docstring). Pushed to the recipient's sockets once the transaction commits."""
    if actor is not None and actor.pk == recipient_id:
        return None
    if is_muted(recipient_id, kind):
        return None
    today = timezone.now().date()
    same = {"recipient_id": recipient_id, "kind": kind, "actor": actor, "work": work,
            "exhibition": exhibition}
    if exhibition is None:
        notice, made = Notice.objects.get_or_create(**same, day=today)
    else:
        notice, made = Notice.objects.get_or_create(**same, defaults={"day": today})
    if not made:
        return None
    announce(recipient_id, notice.pk)
    return notice


# -- reading them ----------------------------------------------------------------------


def shown(recipient):
    """The notices ``recipient`` may be shown now: none about a work they may no longer see
    (``Creation.objects.visible_to``) or in an exhibition they may no longer see
    (``Exhibition.objects.visible_to``).

    The work a notice is about is always the recipient's own (what was liked, bred from,
    hung, commented on), and the test asks for that too: a notice that named anyone else's
    work would be left out. It is asked the other way round, as "there is no such work that
    they may not see" (NOT EXISTS, the rule negated): PostgreSQL plans that as an anti-join,
    looking each notice's work up by its key, so a page or the capped count reads only the
    notices it needs. Asked as "its work is one they may see" it must sit under an OR (a
    notice of a follow is about no work), where PostgreSQL may hash every work the rule lets
    them see instead: 6-9 ms a query for a breeder with 20,000 works (bench/notices.py).
    """
    unseen = Creation.objects.filter(pk=OuterRef("work_id")).exclude(
        Q(owner=recipient) & may("visible", recipient))
    shows = Exhibition.objects.visible_to(recipient).filter(pk=OuterRef("exhibition_id"))
    return Notice.objects.filter(
        ~Exists(unseen),
        Q(exhibition__isnull=True) | Exists(shows),
        recipient=recipient,
    )


def _reader(recipient_id: int, staff: bool):
    """The recipient as the rules read a viewer: their id, and whether they are staff."""
    return get_user_model()(pk=recipient_id, is_staff=staff)


def _unread_query(recipient_id: int, *, staff: bool):
    return shown(_reader(recipient_id, staff)).filter(read=False).values_list("pk")[:UNREAD_MAX]


#: ``unread_count``'s query, compiled once (``common.statements``): every page asks it.
UNREAD = Statement(_unread_query, template="SELECT count(*) FROM ({}) counted")


def unread_count(recipient) -> int:
    """How many of ``shown(recipient)`` are unread, up to ``UNREAD_MAX``."""
    if recipient is None or not recipient.is_authenticated:
        return 0
    return UNREAD.rows(recipient.pk, staff=recipient.is_staff)[0][0]


def unread_label(count: int) -> str:
    """The badge: the count, or "99+"."""
    return f"{UNREAD_MAX - 1}+" if count >= UNREAD_MAX else str(count)


class Row(NamedTuple):
    """A notice with what ``describe`` reads of it (``listing``'s columns, in order)."""

    id: int
    kind: str
    read: bool
    created: datetime
    actor_id: int | None
    actor: str | None
    work_id: int | None
    work_public_id: str | None
    work_title: str | None
    work_sha: str | None
    work_space: str | None
    exhibition_id: int | None
    exhibition_slug: str | None
    exhibition_title: str | None
    child: str | None


def _child(reader):
    """For a bred notice: the newest work its breeder bred from its work that is listed for
    the reader (a draft or private child never is), as JSON."""
    children = (Creation.objects.listed_for(reader)
                .filter(owner_id=OuterRef("actor_id"), parent_links__parent_id=OuterRef("work_id"))
                .order_by("-created", "-id")
                .values(json=JSONObject(id="public_id", title="title", sha="latent_sha", space="space__slug")))
    return Case(When(kind=NoticeKind.BRED, then=Subquery(children[:1])), default=None)


def listing(recipient):
    """``shown(recipient)``, newest first, as ``Row`` values."""
    return (shown(recipient).annotate(child=_child(recipient))
            .values_list("id", "kind", "read", "created", "actor_id", "actor__username", "work_id",
                         "work__public_id", "work__title", "work__latent_sha", "work__space__slug",
                         "exhibition_id", "exhibition__slug", "exhibition__title", "child")
            .order_by("-id"))


def _page_query(recipient_id: int, position: int, *, staff: bool, newer: bool, size: int):
    rows = listing(_reader(recipient_id, staff))
    rows = rows.filter(pk__gt=position).order_by("id") if newer else rows.filter(pk__lt=position)
    return rows[:size + 1]


#: A page of ``listing``, compiled once per page size and direction.
PAGE = Statement(_page_query)
#: Past every notice's id: the first page is the one before it.
END = 2**63 - 1


def rows_page(recipient, position: int | None = None, size: int = PAGE_SIZE, newer: bool = False
              ) -> tuple[list[Row], bool]:
    """Up to ``size`` of ``recipient``'s notices, newest first: those older than notice
    ``position`` (or the newest), or with ``newer`` those just newer than it; and whether
    there are more beyond them in that direction."""
    start = (0 if newer else END) if position is None else position
    rows = [Row(*row) for row in PAGE.rows(recipient.pk, start, staff=recipient.is_staff, newer=newer, size=size)]
    more = len(rows) > size
    rows = rows[:size]
    return (rows[::-1] if newer else rows), more


def page(recipient, before: int | None = None, size: int = PAGE_SIZE) -> tuple[list[dict], int | None]:
    """A page of ``recipient``'s notices, newest first, older than notice ``before``; and
    the id to ask for the next page with (None at the end)."""
    rows, more = rows_page(recipient, before, size)
    return describe(rows), (rows[-1].id if more else None)


def _work(public_id: str, title: str, sha: str, space: str) -> dict:
    return {"id": public_id, "title": languages.shown(title), "images": images.urls(space, sha)}


def _quoted(title: str) -> str:
    return _("“%(title)s”") % {"title": title or _("Untitled")}


def describe(notices: list[Row]) -> list[dict]:
    """Each notice as the API, the page and the socket show it: a sentence, a link and what
    they name (``work``: the recipient's own; ``child``: only one listed for them)."""
    described = []
    for n in notices:
        actor = n.actor if n.actor_id else None
        work = _work(n.work_public_id, n.work_title, n.work_sha, n.work_space) if n.work_id else None
        child = None
        if n.kind == NoticeKind.BRED and n.child:
            found = json.loads(n.child) if isinstance(n.child, str) else n.child
            child = _work(found["id"], found["title"], found["sha"], found["space"])
        exhibition = ({"slug": n.exhibition_slug, "title": languages.shown(n.exhibition_title)}
                      if n.exhibition_id else None)
        named = {"actor": actor, "work": _quoted(work["title"]) if work else "",
                 "child": _quoted(child["title"]) if child else "",
                 "exhibition": _quoted(exhibition["title"]) if exhibition else ""}
        if n.kind == NoticeKind.LIKED:
            text, link = _("%(actor)s liked your work %(work)s") % named, f"/w/{work['id']}/"
        elif n.kind == NoticeKind.BRED and child:
            text = _("%(actor)s bred %(child)s from your work %(work)s") % named
            link = f"/w/{child['id']}/"
        elif n.kind == NoticeKind.BRED:
            text, link = _("%(actor)s bred from your work %(work)s") % named, f"/w/{work['id']}/"
        elif n.kind == NoticeKind.HUNG:
            text = _("Your work %(work)s hangs in the exhibition %(exhibition)s") % named
            link = f"/exhibitions/{exhibition['slug']}/"
        elif n.kind == NoticeKind.COMMENTED:
            text = _("%(actor)s commented on your work %(work)s") % named
            link = f"/w/{work['id']}/#comments"
        else:
            text, link = _("%(actor)s started following you") % named, f"/u/{quote(actor)}/"
        described.append({
            "id": n.id, "kind": n.kind, "read": n.read,
            "created": n.created.isoformat().replace("+00:00", "Z"),
            "text": text, "link": link, "actor": actor, "work": work, "child": child,
            "exhibition": exhibition,
        })
    return described


# -- read and unread -------------------------------------------------------------------


def mark_read(recipient, ids: list[int] | None = None) -> int:
    """Mark ``recipient``'s notices read: those of ``ids`` (others' ids are passed over), or
    all of them. Their other tabs hear the new count."""
    rows = Notice.objects.filter(recipient=recipient, read=False)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    changed = rows.update(read=True)
    if changed:
        announce_count(recipient.pk)
    return changed


# -- settings --------------------------------------------------------------------------


def is_muted(user_id: int, kind: str) -> bool:
    return NoticeSettings.objects.filter(user_id=user_id, muted__contains=[kind]).exists()


def muted(user) -> set[str]:
    row = NoticeSettings.objects.filter(user=user).first()
    return set(row.muted) if row else set()


def wanted(user) -> dict[str, bool]:
    """Each kind, and whether ``user`` is told of it."""
    off = muted(user)
    return {kind: kind not in off for kind in NoticeKind.values}


def set_wanted(user, choices: dict) -> dict[str, bool]:
    """Turn kinds on (true) or off (false); kinds not named stay as they are."""
    for kind, on in choices.items():
        if kind not in NoticeKind.values:
            raise Refused(_("There is no kind of notice called “%(kind)s”: the kinds are %(kinds)s.")
                          % {"kind": str(kind)[:40], "kinds": ", ".join(NoticeKind.values)}, field=str(kind)[:40])
        if not isinstance(on, bool):
            raise Refused(_("Say true or false for “%(kind)s”.") % {"kind": kind}, field=kind)
    with transaction.atomic():
        row, _made = NoticeSettings.objects.select_for_update().get_or_create(user=user)
        off = set(row.muted)
        off |= {kind for kind, on in choices.items() if not on}
        off -= {kind for kind, on in choices.items() if on}
        row.muted = sorted(off)
        row.save(update_fields=["muted"])
    return wanted(user)


# -- live ------------------------------------------------------------------------------


def announce(recipient_id: int, notice_id: int) -> None:
    """Once the transaction commits: ``{"type": "notice", "unread": n, "notice": {...}}`` to
    the recipient's sockets, the notice as their list would show it (nothing when it would
    not be listed). Their sockets may speak different languages (one per page), and the
    action that made the notice spoke the actor's: the notice is worded in each language,
    and each socket sends its own (``NoticeConsumer.notices_event``)."""
    def send() -> None:
        recipient = get_user_model().objects.filter(pk=recipient_id).first()
        notice = listing(recipient).filter(pk=notice_id).first() if recipient else None
        if notice is None:
            return
        worded = {}
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                worded[code] = describe([Row(*notice)])[0]
        _send(recipient_id, {"type": "notice", "unread": unread_count(recipient),
                             "notice": worded[settings.LANGUAGE_CODE]}, worded=worded)

    transaction.on_commit(send, robust=True)


def announce_count(recipient_id: int) -> None:
    """Once the transaction commits: ``{"type": "unread", "unread": n}`` to their sockets."""
    def send() -> None:
        recipient = get_user_model().objects.filter(pk=recipient_id).first()
        if recipient is not None:
            _send(recipient_id, {"type": "unread", "unread": unread_count(recipient)})

    transaction.on_commit(send, robust=True)


def _send(recipient_id: int, payload: dict, kind: str = "notices.event", worded: dict | None = None) -> None:
    message = {"type": kind, "payload": payload} if kind == "notices.event" else {"type": kind, **payload}
    if worded:
        message["worded"] = worded
    async_to_sync(get_channel_layer().group_send)(group(recipient_id), message)


def logged_out(sender, request, user, **kwargs) -> None:
    """``user_logged_out``: the notice sockets of the session that ended close."""
    session = getattr(request, "session", None)
    if user is not None and session is not None and session.session_key:
        key = session.session_key
        transaction.on_commit(lambda: _send(user.pk, {"session": key}, kind="notices.logout"),
                              robust=True)
