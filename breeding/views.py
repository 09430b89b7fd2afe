"""``GET /r/<space>/<latent-sha>/<size>.webp``: a picture, rendered once, then a file."""

from __future__ import annotations

import asyncio
import re

from asgiref.sync import sync_to_async
from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.views.decorators.http import require_GET

from breeding import actions, images
from breeding.models import Creation, Space, Visibility

SHA = re.compile(r"^[0-9a-f]{32}$")
YEAR = 365 * 24 * 3600


def not_found(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=404)


@sync_to_async
def find(space_slug: str, sha: str, user):
    """(space, latent, public?) of a picture the user may see, or None."""
    space = Space.objects.filter(slug=space_slug).first()
    if space is None:
        return None
    creations = Creation.objects.alive().filter(space=space, latent_sha=sha).select_related("space")
    shared = creations.filter(visibility__in=[Visibility.PUBLIC, Visibility.UNLISTED]).first()
    if shared is not None:
        return space, shared.tensor(), True
    if user.is_authenticated:
        own = creations.filter(owner=user).first()
        if own is not None:
            return space, own.tensor(), False
    latent = actions.preview_latent(space, sha, user)
    return (space, latent, False) if latent is not None else None


@require_GET
async def image(request, space: str, sha: str, size: str):
    if not size.isdigit() or int(size) not in images.SIZES:
        allowed = ", ".join(map(str, images.SIZES))
        return not_found(f"No picture size {size}: sizes are {allowed}.")
    size = int(size)
    if not SHA.match(sha):
        return not_found("No such picture.")
    found = await find(space, sha, await request.auser())
    if found is None:
        return not_found("No such picture.")
    space_row, latent, shared = found
    etag = f'"{sha}-{size}"'
    cache = f"{'public' if shared else 'private'}, max-age={YEAR}, immutable"
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        try:
            data = await asyncio.wrap_future(images.request(space_row.slug, sha, latent, size))
        except Exception:
            return JsonResponse({"error": "The picture could not be rendered. Try again shortly."},
                                status=503, headers={"Retry-After": "5"})
        response = HttpResponse(data, content_type="image/webp")
    response["ETag"] = etag
    response["Cache-Control"] = cache
    return response
