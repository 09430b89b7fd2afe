"""Collection pages: a collection's works as tiles (readable without JavaScript; its owner's
controls call the REST API from ``collection.js``), and a curator's "make an exhibition
draft" from it. What a viewer is shown of a collection is ``gallery.collections``'s to say.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from rest_framework.exceptions import NotFound as ApiNotFound
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.request import Request

from common.errors import Refused
from gallery import collections as kept
from gallery import exhibitions
from gallery.listings import GalleryPage, work

ORDER = ("position", "id")


def readable(request, collection_id: str):
    try:
        return kept.readable(request.user, collection_id)
    except Refused as refused:
        raise Http404(refused.message) from None


def relative(link: str | None) -> str | None:
    """A next-page link as a path, without the fragment switch."""
    if not link:
        return None
    parts = urlsplit(link)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "fragment"]
    return f"{parts.path}?{urlencode(query)}"


def collection_page(request, collection_id):
    """One cursor page of the works the viewer is shown, in the collection's order; with
    ``?fragment=1`` only its tiles (infinite scroll)."""
    collection = readable(request, collection_id)
    paginator = GalleryPage(ORDER)
    try:
        page = paginator.paginate_queryset(kept.shown_items(collection, request.user), Request(request))
    except (ApiNotFound, ValueError, DjangoValidationError):  # a cursor that was tampered with
        raise Http404(_("That page of the collection does not exist.")) from None
    except ApiValidationError:  # a ``limit`` that is not a page size
        raise BadRequest(_("The page size (limit) must be a whole number from 1 to 96.")) from None
    about = kept.summary(collection, request.user)
    context = {
        "c": about,
        "works": [work(item.creation) for item in page],
        "more": relative(paginator.get_next_link()),
        "mine": kept.is_owner(request.user, collection),
        "cover_id": about["cover"]["id"] if about["cover"] else "",
        "can_exhibit": exhibitions.can_create(request.user),
    }
    if request.GET.get("fragment") == "1":
        return render(request, "frontend/_collection_tiles.html", context)
    return render(request, "frontend/collection.html", context)


@require_POST
def collection_exhibition(request, collection_id):
    """A curator's draft exhibition of the collection, in one step: then its curator's page."""
    collection = readable(request, collection_id)
    try:
        made = kept.do_to_exhibition(collection, request.user)
    except Refused as refused:
        messages.error(request, refused.message)
        return redirect("frontend:collection", collection_id=collection.public_id)
    said = ngettext("“%(title)s” is made, as a draft, with %(count)d work: write its wall texts, "
                    "then open it.",
                    "“%(title)s” is made, as a draft, with %(count)d works: write their wall texts, "
                    "then open it.", made["hung"]) % {"title": made["title"], "count": made["hung"]}
    if made["left_out"]:
        said += " " + ngettext("%(count)d work was left out: only public works can hang.",
                               "%(count)d works were left out: only public works can hang.",
                               made["left_out"]) % {"count": made["left_out"]}
    messages.success(request, said)
    return redirect("frontend:exhibition-curate", slug=made["exhibition"])
