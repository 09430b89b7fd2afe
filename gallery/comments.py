"""Comments on public works: who may read, write, edit, hide, remove and report them, and
their text made safe to show.

Only a work listed for everyone (``Creation.objects.public()``, the one rule of
``breeding.models``) takes comments and shows them. Made private, a draft or removed, its
comments vanish for everyone, its owner included, and come back when it is public again:
they are kept, only not shown. Any other work, and any work that does not exist, answers
the same 404 sentence, so comments never tell whether a hidden work exists.

Who sees which comment of a public work:

- a comment its work's owner hid: the owner (greyed, marked "Hidden", with "Show" to undo)
  and its author (marked the same, so they know why nobody answers), and staff;
- a comment staff removed: nobody (it stays, for the reports on it, in the admin);
- the others: everyone who may see the work.

``check_*`` refuse with a sentence (``common.errors.Refused``); ``do_*`` write.
"""

from __future__ import annotations

import math
import re
import unicodedata

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.html import Urlizer
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import now
from django.utils.translation import gettext as _

from breeding.limits import count, in_words, take
from breeding.models import Creation
from common.errors import Refused
from gallery import notices
from gallery.models import COMMENT_MAX_LENGTH, REPORT_REASON_MAX_LENGTH, Comment, CommentReport

HOUR_S = 3600
#: Reports one account may file an hour: enough to flag a flood, too few to flood staff.
REPORTS_PER_HOUR = 20
#: The newest comments a work page shows (the API pages through them all).
PAGE_COMMENTS = 100
#: Shown links longer than this are shortened with an ellipsis (the address stays whole).
LINK_TEXT_LIMIT = 60

#: Characters a plain text may not hold: control characters other than line ends and tabs,
#: and the bidirectional overrides and isolates that make text read otherwise than it is.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: More than one empty line in a row is one empty line.
_BLANK_LINES = re.compile(r"\n{3,}")


# -- text ----------------------------------------------------------------------------------


def clean_text(text: str, limit: int = COMMENT_MAX_LENGTH, field: str = "text") -> str:
    """``text`` as it is kept: line ends as ``\\n``, no more than one empty line in a row,
    no space around it; or a refusal naming ``field`` when it is empty, too long or holds a
    control character (NUL included)."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    if _FORBIDDEN.search(text):
        raise Refused(_("Write plain text: it holds control characters, which cannot be "
                        "shown. Remove them and try again."), field=field)
    text = _BLANK_LINES.sub("\n\n", text).strip()
    if not text:
        raise Refused(_("Write something first."), field=field)
    if len(text) > limit:
        raise Refused(_("That is %(length)d characters long; at most %(limit)d fit.")
                      % {"length": len(text), "limit": limit}, field=field)
    return text


class _Links(Urlizer):
    """Django's ``urlize`` as comments use it: only web addresses (``http://``,
    ``https://``, ``www.``) become links, never a bare domain or an e-mail address, and
    every link opens apart from the page and passes nothing on."""

    simple_url_2_re = re.compile(r"^www\.", re.IGNORECASE)
    url_template = '<a href="{href}" rel="nofollow ugc noopener noreferrer" target="_blank">{url}</a>'

    def is_email_simple(self, value) -> bool:
        return False

    def trim_punctuation(self, word):
        # Django 5.2.19 loses punctuation between a closing bracket and the end of a
        # sentence ("(see https://a.org/x)." shows without its full stop): the trail is
        # whatever follows the link, always.
        lead, middle, _trail = super().trim_punctuation(word)
        return lead, middle, word[len(lead) + len(middle):]


_links = _Links()


def as_html(text: str) -> SafeString:
    """A comment's text as HTML: every character escaped, web addresses made links (see
    ``_Links``). Nothing the author wrote becomes markup: ``urlize`` escapes each word and
    each link's address and text itself (``autoescape``). Line ends stay line ends (the page
    keeps them with ``white-space: pre-line``)."""
    # Safe: urlize escaped every word and each link's parts (autoescape, on a str that is
    # not SafeData), and built each <a> from the template above.
    return mark_safe(_links(str(text), trim_url_limit=LINK_TEXT_LIMIT, nofollow=True, autoescape=True))


# -- reading -------------------------------------------------------------------------------


def open_work(public_id: str) -> Creation:
    """The work called ``public_id`` if it takes comments (listed for everyone); otherwise
    the same 404 whether it is private, a draft, unlisted, removed or was never made."""
    work = Creation.objects.public().select_related("owner").filter(public_id=public_id).first()
    if work is None:
        raise Refused(_("There is no public work '%(id)s' to comment on.") % {"id": public_id}, 404)
    return work


def shown(work: Creation, viewer) -> QuerySet[Comment]:
    """The comments of ``work`` that ``viewer`` (a user, anonymous or None) may read, oldest
    first: none unless the work is listed for everyone (asked of the database, so a work
    hidden meanwhile shows none)."""
    comments = Comment.objects.filter(
        creation=work, creation__in=Creation.objects.public(), staff_removed_at__isnull=True,
    ).select_related("author")
    if viewer is None or not viewer.is_authenticated:
        return comments.filter(hidden_at__isnull=True)
    if viewer.is_staff or viewer.pk == work.owner_id:
        return comments
    return comments.filter(Q(hidden_at__isnull=True) | Q(author=viewer))


def find(work: Creation, viewer, comment_id: str) -> Comment:
    """One comment of ``shown(work, viewer)``, or a 404 that is the same for a comment that
    does not exist, is on another work, was removed or is hidden from ``viewer``."""
    comment = shown(work, viewer).filter(public_id=comment_id).first()
    if comment is None:
        raise Refused(_("There is no comment '%(id)s' on this work.") % {"id": comment_id}, 404)
    comment.creation = work  # the same row: its owner is at hand
    return comment


def as_dict(comment: Comment, viewer) -> dict:
    """A comment as the API and the work page show it to ``viewer``."""
    uid = viewer.pk if viewer is not None and viewer.is_authenticated else None
    return {
        "id": comment.public_id,
        "author": comment.author.username,
        "text": comment.text,
        "html": as_html(comment.text),
        "created": comment.created,
        "edited": comment.edited_at,
        "hidden": comment.hidden_at is not None,
        "yours": uid is not None and comment.author_id == uid,
    }


def page_comments(work: Creation, viewer) -> dict:
    """What the work page shows of the comments: whether the work takes them (``open``),
    the newest ``PAGE_COMMENTS`` of those ``viewer`` may read, oldest first, how many
    there are, whether ``viewer`` may hide them (the work's owner), and why ``viewer`` may
    not write one yet (``wait``: a sentence, or "")."""
    if not work.listed_for(None):
        return {"open": False}
    comments = shown(work, viewer)
    newest = list(comments.order_by("-created", "-id")[:PAGE_COMMENTS])[::-1]
    total = len(newest) if len(newest) < PAGE_COMMENTS else comments.count()
    wait = ""
    if viewer is not None and viewer.is_authenticated:
        try:
            check_account_age(viewer)
        except Refused as refused:
            wait = refused.message
    return {
        "open": True,
        "items": [as_dict(c, viewer) for c in newest],
        "count": total,
        "more": total - len(newest),
        "may_hide": viewer is not None and viewer.is_authenticated and viewer.pk == work.owner_id,
        "wait": wait,
    }


# -- checks --------------------------------------------------------------------------------


def check_account_age(user) -> None:
    """A refusal for an account younger than ``COMMENT_MIN_ACCOUNT_AGE_S``: accounts made
    by the hundred to flood comments wait before each can say anything."""
    young_for = settings.COMMENT_MIN_ACCOUNT_AGE_S - (now() - user.date_joined).total_seconds()
    if young_for > 0:
        raise Refused(_("New accounts may comment a few minutes after they are made. "
                        "Try again in %(wait)s.") % {"wait": in_words(math.ceil(young_for))}, 403)


def take_turn(user, address: str | None) -> None:
    """Count one comment written or edited against the account's and the address's hourly
    allowance, or refuse (429) and count nothing."""
    mine = f"comment:user:{user.pk}"
    wait = take(mine, 1, settings.COMMENTS_PER_HOUR, HOUR_S)
    if wait:
        raise Refused(_("You have written %(limit)d comments this hour, as many as one "
                        "account may. Try again in %(wait)s.")
                      % {"limit": settings.COMMENTS_PER_HOUR, "wait": in_words(wait)}, 429, wait=wait)
    if address is None:
        return
    wait = take(f"comment:address:{address}", 1, settings.COMMENTS_PER_HOUR_PER_ADDRESS, HOUR_S)
    if wait:
        count(mine, -1, HOUR_S)  # not written after all
        raise Refused(_("Many comments have come from your address this hour. Try again in "
                        "%(wait)s.") % {"wait": in_words(wait)}, 429, wait=wait)


def check_author(user, comment: Comment) -> None:
    if comment.author_id != user.pk:
        raise Refused(_("Only its author can change a comment."), 403)


# -- writing -------------------------------------------------------------------------------


def do_comment(user, work: Creation, text: str, address: str | None) -> Comment:
    """A new comment by ``user`` on ``work`` (one of ``open_work``)."""
    check_account_age(user)
    text = clean_text(text)
    take_turn(user, address)
    with transaction.atomic():
        comment = Comment.objects.create(creation=work, author=user, text=text)
        notices.commented(comment)  # (not to oneself; once a day per commenter and work)
    return comment


def do_edit(user, comment: Comment, text: str, address: str | None) -> Comment:
    """The author's new words for their comment; an edit counts as a comment written (a
    flood by editing is a flood). A hidden comment stays hidden."""
    check_author(user, comment)
    text = clean_text(text)
    if text == comment.text:
        return comment
    take_turn(user, address)
    comment.text, comment.edited_at = text, now()
    comment.save(update_fields=["text", "edited_at"])
    return comment


def do_delete(user, comment: Comment) -> str:
    """Its author deletes a comment for good ("deleted"); staff remove someone else's
    ("removed": nobody sees it, it stays for the reports on it, which are then dealt
    with). Anyone else is refused: a work's owner hides comments instead."""
    if comment.author_id == user.pk:
        comment.delete()
        return "deleted"
    if user.is_staff:
        do_remove(user, [comment.pk])
        return "removed"
    if comment.creation.owner_id == user.pk:
        raise Refused(_("Only its author can delete a comment; as the work's owner, you can "
                        "hide it."), 403)
    raise Refused(_("Only its author can delete a comment."), 403)


def do_remove(staff, comment_ids) -> int:
    """Staff remove comments (the API's DELETE, the admin's action): nobody sees them any
    more, and the reports on them are dealt with. How many were removed by this call."""
    when = now()
    with transaction.atomic():
        removed = Comment.objects.filter(pk__in=comment_ids, staff_removed_at__isnull=True).update(
            staff_removed_at=when, staff_removed_by=staff)
        CommentReport.objects.filter(comment_id__in=comment_ids, resolved_at__isnull=True).update(
            resolved_at=when, resolved_by=staff)
    return removed


def do_restore(comment_ids) -> int:
    """Undo staff removals (the admin's action)."""
    return Comment.objects.filter(pk__in=comment_ids).update(staff_removed_at=None, staff_removed_by=None)


def do_hide(user, comment: Comment, hidden: bool) -> Comment:
    """The work's owner hides a comment on it (only they and its author see it then), or
    shows it again."""
    if comment.creation.owner_id != user.pk:
        raise Refused(_("Only the work's owner can hide comments on it."), 403)
    if hidden != (comment.hidden_at is not None):
        comment.hidden_at = now() if hidden else None
        comment.save(update_fields=["hidden_at"])
    return comment


def do_report(user, comment: Comment, reason: str) -> CommentReport:
    """``user`` tells staff why ``comment`` should not be there. Reporting again changes the
    reason (and asks staff again); one's own comment is deleted, not reported."""
    if comment.author_id == user.pk:
        raise Refused(_("This is your own comment: edit or delete it instead."))
    check_account_age(user)
    reason = clean_text(reason, REPORT_REASON_MAX_LENGTH, "reason")
    wait = take(f"comment-report:user:{user.pk}", 1, REPORTS_PER_HOUR, HOUR_S)
    if wait:
        raise Refused(_("You have sent %(limit)d reports this hour. Try again in %(wait)s.")
                      % {"limit": REPORTS_PER_HOUR, "wait": in_words(wait)}, 429, wait=wait)
    fields = {"reason": reason, "created": now(), "resolved_at": None, "resolved_by": None}
    try:
        with transaction.atomic():
            report, _made = CommentReport.objects.update_or_create(
                comment=comment, reporter=user, defaults=fields)
    except IntegrityError:  # made meanwhile by the same reporter's other request
        report = CommentReport.objects.get(comment=comment, reporter=user)
    return report


def do_resolve(staff, report_ids) -> int:
    """Staff dealt with these reports and keep the comments (the admin's "dismiss")."""
    return CommentReport.objects.filter(pk__in=report_ids, resolved_at__isnull=True).update(
        resolved_at=now(), resolved_by=staff)
