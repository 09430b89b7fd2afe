"""Exhibition pages: the list, the exhibition (readable without JavaScript, live with it),
the full-screen walk and the curator's page.

What a page shows comes from ``gallery.exhibitions.snapshot``, the very state the socket
starts from; the page hands it to its script with ``json_script`` along with its ``seq``,
so the script opens the socket with ``?since=<seq>`` and misses nothing in between.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from breeding import images, languages
from breeding.limits import client_address
from breeding.models import Creation
from common.numbers import whole_number
from gallery import exhibitions
from gallery.consumers import REACTIONS
from gallery.models import Exhibition, ExhibitionStatus

HOME_EXHIBITIONS = 3


def _cards(rows) -> list[dict]:
    """Exhibitions as the list shows them: title, dates, count and a cover picture (the
    chosen cover, or the first work on the walls)."""
    rows = list(rows)
    public = Creation.objects.public()
    firsts: dict[int, Creation] = {}
    for ex in rows:
        if ex.cover_id and ex.cover.listed_for(None):
            firsts[ex.pk] = ex.cover
            continue
        item = exhibitions.shown_items(ex).first()
        if item is not None:
            firsts[ex.pk] = item.creation
    counts = dict(Exhibition.objects.filter(pk__in=[e.pk for e in rows])
                  .annotate(n=Count("items", filter=Q(items__creation__in=public)))
                  .values_list("pk", "n"))
    cards = []
    for ex in rows:
        cover = firsts.get(ex.pk)
        cards.append({
            "slug": ex.slug, "title": languages.shown(ex.title), "status": ex.status,
            "statement": languages.shown(ex.statement),
            "opens_at": ex.opens_at, "closes_at": ex.closes_at, "count": counts.get(ex.pk, 0),
            "cover": images.of(cover) if cover else None,
        })
    return cards


def open_exhibitions(limit: int | None = None) -> list[dict]:
    rows = (Exhibition.objects.filter(status=ExhibitionStatus.OPEN)
            .select_related("cover__space").order_by("-opens_at", "-created"))
    return _cards(rows[:limit] if limit else rows)


def exhibition_list(request):
    shown = Exhibition.objects.visible_to(request.user).select_related("cover__space")
    context = {
        "open": _cards(shown.filter(status=ExhibitionStatus.OPEN).order_by("-opens_at", "-created")),
        "past": _cards(shown.filter(status=ExhibitionStatus.CLOSED).order_by("-closes_at", "-opens_at")[:60]),
        "drafts": [],
        "can_create": exhibitions.can_create(request.user),
    }
    if request.user.is_authenticated:
        drafts = shown.filter(status=ExhibitionStatus.DRAFT)
        if not request.user.is_staff:
            drafts = drafts.filter(curators=request.user)
        context["drafts"] = _cards(drafts.order_by("-created"))
    return render(request, "frontend/exhibitions.html", context)


def _visible(request, slug: str) -> Exhibition:
    exhibition = Exhibition.objects.visible_to(request.user).filter(slug=slug).first()
    if exhibition is None:
        raise Http404(_("There is no exhibition here by that name."))
    return exhibition


def _state(request, exhibition: Exhibition) -> dict:
    """The exhibition as the socket would start it for this reader: in their language, the
    words of a curator as they are kept (``exhibitions.worded``)."""
    snap = exhibitions.snapshot(exhibition)
    curator = exhibitions.can_curate(request.user, exhibition)
    return {
        "seq": snap["seq"],
        "exhibition": exhibitions.worded(snap["exhibition"], content=not curator),
        "curator": curator,
        "reactions": list(REACTIONS),
    }


def _context(request, exhibition: Exhibition) -> dict:
    state = _state(request, exhibition)
    ex = state["exhibition"]
    return {
        "ex": ex,
        "items": ex["items"],
        "state": state,
        "curator": state["curator"],
        "opens_at": parse_datetime(ex["opens_at"]) if ex["opens_at"] else None,
        "closes_at": parse_datetime(ex["closes_at"]) if ex["closes_at"] else None,
    }


def exhibition_page(request, slug):
    exhibition = _visible(request, slug)
    return render(request, "frontend/exhibition.html", _context(request, exhibition))


def exhibition_walk(request, slug):
    """One work at a time; ``?i=`` (from 1) says which, so it reads without JavaScript too."""
    exhibition = _visible(request, slug)
    context = _context(request, exhibition)
    items = context["items"]
    index = (whole_number(request.GET.get("i", "1"), max_digits=6) or 1) - 1
    index = max(0, min(index, len(items) - 1)) if items else 0
    context.update(index=index, number=index + 1, item=items[index] if items else None,
                   prev=index if index > 0 else None,
                   next=index + 2 if index + 1 < len(items) else None)
    return render(request, "frontend/walk.html", context)


@require_POST
def exhibition_vote(request, slug):
    """A vote in the live round from the page: form fields ``round`` and ``candidate`` (the
    picture's position); answers ``{"vote": position, "changed": bool}`` or ``{"error":
    sentence}``. A visitor without an account votes by their session, which starts here, at
    their first vote: reading an exhibition starts none."""
    exhibition = Exhibition.objects.visible_to(request.user).filter(slug=slug).first()
    if exhibition is None:
        return JsonResponse({"error": _("There is no exhibition here by that name.")}, status=404)
    number = whole_number(request.POST.get("round", ""), max_digits=9)
    position = whole_number(request.POST.get("candidate", ""), max_digits=3)
    if number is None or position is None:
        return JsonResponse({"error": _("A vote names its round and its picture by their numbers.")},
                            status=400)
    user = request.user if request.user.is_authenticated else None
    started = False
    if user is None and not request.session.get("voter"):
        request.session["voter"] = True
        request.session.save()
        started = True
    try:
        new = exhibitions.do_vote(exhibition, number, position, user,
                                  None if user else request.session.session_key, client_address(request))
    except exhibitions.Refused as refused:
        if started:
            request.session.flush()  # no vote, no session
        return JsonResponse({"error": refused.message}, status=400)
    return JsonResponse({"vote": position, "changed": not new})


# -- curators ---------------------------------------------------------------------------


class ExhibitionForm(forms.Form):
    title = forms.CharField(max_length=120, label=gettext_lazy("Title"))
    statement = forms.CharField(max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 5}),
                                label=gettext_lazy("Statement"))
    cover = forms.ChoiceField(required=False, label=gettext_lazy("Cover"))
    status = forms.ChoiceField(choices=ExhibitionStatus.choices, required=False, label=gettext_lazy("Status"))
    opens_at = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                                format="%Y-%m-%dT%H:%M"),
                                   label=gettext_lazy("Opens at"))
    closes_at = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                                 format="%Y-%m-%dT%H:%M"),
                                    label=gettext_lazy("Closes at"))

    def __init__(self, *args, works=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cover"].choices = [("", _("The first work on the walls")),
                                        *((w["id"], w["title"] or _("Untitled (%(id)s)") % {"id": w["id"]})
                                          for w in works)]

    def clean(self):
        data = super().clean()
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("An exhibition closes after it opens."))
        return data


class NewExhibitionForm(ExhibitionForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["cover"], self.fields["status"]


def _curated(request, slug: str) -> Exhibition:
    """Curators and staff only; for anyone else the page does not exist."""
    exhibition = Exhibition.objects.filter(slug=slug).first()
    if exhibition is None or not exhibitions.can_curate(request.user, exhibition):
        raise Http404(_("There is no exhibition here by that name."))
    return exhibition


def exhibition_new(request):
    if not exhibitions.can_create(request.user):
        raise Http404(_("Only curators can make exhibitions."))
    form = NewExhibitionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        exhibition = exhibitions.do_create(request.user, data["title"], data["statement"],
                                           opens_at=data["opens_at"], closes_at=data["closes_at"])
        messages.success(request, _("“%(title)s” is made, as a draft: hang some works, then open it.")
                         % {"title": exhibition.title})
        return redirect("frontend:exhibition-curate", slug=exhibition.slug)
    return render(request, "frontend/exhibition_new.html", {"form": form})


def exhibition_curate(request, slug):
    exhibition = _curated(request, slug)
    initial = {
        "title": exhibition.title, "statement": exhibition.statement, "status": exhibition.status,
        "cover": exhibition.cover.public_id if exhibition.cover_id else "",
        "opens_at": timezone.localtime(exhibition.opens_at) if exhibition.opens_at else None,
        "closes_at": timezone.localtime(exhibition.closes_at) if exhibition.closes_at else None,
    }
    context = _context(request, exhibition)
    form = ExhibitionForm(request.POST or None, initial=initial, works=[i["work"] for i in context["items"]])
    status = 200
    if request.method == "POST":
        if form.is_valid():
            fields = {k: v for k, v in form.cleaned_data.items() if k != "status" or v}
            try:
                exhibitions.do_update(exhibition, **fields)
            except exhibitions.Refused as refused:
                form.add_error("cover", refused.message)
            else:
                messages.success(request, _("Saved."))
                return redirect("frontend:exhibition-curate", slug=exhibition.slug)
        status = 400
    context.update(form=form, limits={"children": exhibitions.ROUND_CHILDREN,
                                      "seconds": exhibitions.ROUND_SECONDS})
    return render(request, "frontend/curate.html", context, status=status)
