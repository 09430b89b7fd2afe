"""The notices page: a breeder's notices, newest first (readable without JavaScript), "mark
all read" and which kinds they are told of (forms that work without JavaScript too; with
it, notices.js sends them to the API and adds new notices as they come)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from common.numbers import whole_number
from gallery import notices
from gallery.models import NoticeKind


@login_required
def notices_page(request):
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "read-all":
            notices.mark_read(request.user)
        elif action == "settings":
            chosen = set(request.POST.getlist("kinds"))
            notices.set_wanted(request.user, {kind: kind in chosen for kind in NoticeKind.values})
            messages.success(request, _("Saved: you will be told of what is ticked."))
        else:
            raise BadRequest(_("Unknown action."))
        return redirect("frontend:notices")
    raw = request.GET.get("before")
    before = whole_number(raw, max_digits=18) if raw is not None else None
    if raw is not None and before is None:
        raise BadRequest(_("before must be a notice's number."))
    items, older = notices.page(request.user, before)
    now = timezone.now()
    for item in items:
        when = parse_datetime(item["created"])
        item["ago"] = (_("just now") if now - when < timedelta(minutes=1)
                       else _("%(since)s ago") % {"since": timesince(when, now, depth=1)})
    wanted = notices.wanted(request.user)
    unread = notices.unread_count(request.user)
    return render(request, "frontend/notices.html", {
        "notices": items,
        "older": older,
        "newest_page": before is None,
        "notices_unread": unread,
        "notices_unread_label": notices.unread_label(unread),
        "kinds": [{"kind": kind, "label": notices.KIND_LABELS[kind], "on": wanted[kind]}
                  for kind in NoticeKind.values],
    })
