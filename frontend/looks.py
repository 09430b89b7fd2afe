"""Find works that look like a picture of yours: a form that sends one picture (it is
measured as it is, by ``breeding.looks``, and not kept), and the works the reader may list
that look most like it. Works without JavaScript; with it, the chosen picture is shown
beside the answer."""

from __future__ import annotations

import base64
import io

from django.shortcuts import render
from PIL import Image

from breeding import looks
from breeding.limits import client_address
from breeding.models import Space
from common.errors import Refused
from gallery.listings import listed_works

#: Works shown for a picture.
FOUND = 24


def _inline(picture) -> str:
    """The picture sent, small, as a data: address: shown beside its look-alikes, and kept
    nowhere."""
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="WEBP", quality=80)
    return "data:image/webp;base64," + base64.b64encode(buffer.getvalue()).decode()


def looks_page(request):
    error, status, found, sent, sent_picture = "", 200, None, False, ""
    chosen = request.POST.get("space", "")[:40] if request.method == "POST" else request.GET.get("space", "")[:40]
    if request.method == "POST":
        sent = True
        try:
            ids, picture = looks.like_upload(request.user, client_address(request),
                                             request.FILES.getlist("file"), chosen or None, FOUND)
        except Refused as refused:
            error, status = refused.message, refused.status_code
        else:
            found = listed_works(request.user, ids)
            sent_picture = _inline(picture)
    return render(request, "frontend/looks.html", {
        "spaces": list(Space.objects.order_by("pk").values_list("slug", flat=True)),
        "chosen_space": chosen,
        "found": found,
        "sent": sent,
        "sent_picture": sent_picture,
        "error": error,
    }, status=status)
