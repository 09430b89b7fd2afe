"""New works answered together with their pictures, each picture sent as soon as it is painted.

A breeder who asks for eight children wants to see eight pictures. Asked the plain way, that
is nine requests: the works, then each picture by its address, each picture request paying
for its own trip through the middleware, the sign-in and the visibility query, and none of
them able to start before the works have come back. Asked with ``?pictures=256``, the
answer is newline-delimited JSON (``application/x-ndjson``), one object a line:

- first ``{"works": [...]}``: what the plain answer holds;
- then one line a picture, in the order they are painted (the renderer paints a pass picture
  by picture): ``{"id": <work>, "size": 256, "webp": <base64>}``, or, for a picture not ready
  within ``PICTURE_WAIT_S``, ``{"id", "size", "error": <a sentence>}`` (its address still
  serves it once painted);
- last ``{"done": true}``: an answer without it was cut off.

The pictures are the works' own, just made by the asker, so no other rule applies to them;
they are stored as every picture is and their addresses serve them afterwards.
"""

from __future__ import annotations

import asyncio
import base64
import json

import numpy as np
import torch
from django.http import StreamingHttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer

from breeding import budget, images
from breeding.models import Creation

#: The sizes that may come with new works: those every new work starts rendering at once.
SIZES = images.EAGER_SIZES
#: How long the answer waits for one picture before naming it as not ready.
PICTURE_WAIT_S = 60
CONTENT_TYPE = "application/x-ndjson"


def wanted_size(request) -> int | None:
    """The picture size ``?pictures=`` asks for, None without it; a sentence for any other."""
    asked = request.query_params.get("pictures")
    if asked is None:
        return None
    if asked not in {str(size) for size in SIZES}:
        sizes = ", ".join(map(str, SIZES))
        raise ValidationError({"pictures": [_("Pictures can come with new works at %(sizes)s px "
                                              "only.") % {"sizes": sizes}]})
    return int(asked)


def answer(body, made: list[Creation], size: int, status_code: int, owner_id: int,
           extra: dict | None = None) -> StreamingHttpResponse:
    """The streamed answer (see the module): ``body`` is the works' JSON, ``made`` the works,
    ``extra`` more members of the first line (what a phrase was read as)."""
    who = budget.payer(owner_id, None)
    pending = []
    for work in made:
        latent = torch.from_numpy(np.asarray(work.latent, dtype=np.float32)).view(
            work.space.layers, work.space.dim)
        # Already being painted since the works were made (actions._create): this joins it,
        # or, should the picture be gone, paints it again on the owner's budget as that did.
        slug = work.space.slug
        pending.append((work.public_id, images.request(
            slug, work.latent_sha, latent, size, who=who,
            on_cost=budget.settler(owner_id, None, budget.picture(size, slug)))))
    first = JSONRenderer().render({"works": body, **(extra or {})}) + b"\n"
    # The lines are written after the view has returned: in the asker's language, said now.
    language = translation.get_language()
    return StreamingHttpResponse(_lines(first, pending, size, language), status=status_code,
                                 content_type=CONTENT_TYPE,
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _picture(public_id: str, future, size: int, language: str | None = None) -> bytes:
    line = {"id": public_id, "size": size}
    try:
        # Shielded: the render is shared with anyone else asking for this picture.
        data = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), PICTURE_WAIT_S)
        line["webp"] = base64.b64encode(data).decode("ascii")
    except TimeoutError:
        with translation.override(language):
            line["error"] = _("This picture is taking long to paint: it will appear at its "
                              "address.")
    except Exception:
        with translation.override(language):
            line["error"] = _("This picture failed to render.")
    return json.dumps(line).encode() + b"\n"


async def _lines(first: bytes, pending, size: int, language: str | None = None):
    yield first
    tasks = [asyncio.ensure_future(_picture(public_id, future, size, language))
             for public_id, future in pending]
    try:
        for next_line in asyncio.as_completed(tasks):
            yield await next_line
        yield b'{"done":true}\n'
    finally:  # the asker left: stop waiting (the renders go on, shielded)
        for task in tasks:
            task.cancel()


#: ``?pictures=256`` on the views that make works.
PICTURES_PARAMETER = OpenApiParameter(
    "pictures", int, enum=list(SIZES), required=False,
    description="Answer with the new works' pictures of this size too, each as soon as it is "
                "painted: newline-delimited JSON (application/x-ndjson), first {\"works\": [...]}, "
                "then one {\"id\", \"size\", \"webp\" (base64)} or {\"id\", \"size\", \"error\"} "
                "a picture, last {\"done\": true}.")
