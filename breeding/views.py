"""``GET /r/<space>/<latent-sha>/<size>.webp``: a picture, rendered once, then a file."""

from __future__ import annotations

import asyncio
import re

import numpy as np
import torch
from asgiref.sync import sync_to_async
from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.views.decorators.http import require_GET

from breeding import actions, images
from breeding.models import Creation, Space, Visibility

SHA = re.compile(r"^[0-9a-f]{32}$")
YEAR = 365 * 24 * 3600


def not_found(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=404)


def token_user(request):
    """The user of an ``Authorization: Token <key>`` header (API clients), or None."""
    from rest_framework.authtoken.models import Token

    kind, _, key = request.headers.get("Authorization", "").partition(" ")
    if kind != "Token" or not key:
        return None
    token = Token.objects.select_related("user").filter(key=key.strip()).first()
    return token.user if token is not None and token.user.is_active else None


@sync_to_async
def find(space_slug: str, sha: str, user, request):
    """(space slug, latent, public?) of a picture the user may see, or None."""
    if not user.is_authenticated:
        user = token_user(request) or user
    rows = list(
        Creation.objects.alive()
        .filter(space__slug=space_slug, latent_sha=sha)
        .values_list("visibility", "owner_id", "latent", "space__layers", "space__dim")[:20]
    )
    shared = [r for r in rows if r[0] in (Visibility.PUBLIC, Visibility.UNLISTED)]
    own = [r for r in rows if user.is_authenticated and r[1] == user.pk]
    if shared or own:
        _, _, latent, layers, dim = (shared or own)[0]
        tensor = torch.from_numpy(np.asarray(latent, dtype=np.float32).copy()).view(layers, dim)
        return space_slug, tensor, bool(shared)
    space = Space.objects.filter(slug=space_slug).first()
    latent = actions.preview_latent(space, sha, user) if space is not None else None
    return (space_slug, latent, False) if latent is not None else None


@require_GET
async def image(request, space: str, sha: str, size: str):
    if not size.isdigit() or int(size) not in images.SIZES:
        allowed = ", ".join(map(str, images.SIZES))
        return not_found(f"No picture size {size}: sizes are {allowed}.")
    size = int(size)
    if not SHA.match(sha):
        return not_found("No such picture.")
    found = await find(space, sha, await request.auser(), request)
    if found is None:
        return not_found("No such picture.")
    space_slug, latent, shared = found
    etag = f'"{sha}-{size}"'
    cache = f"{'public' if shared else 'private'}, max-age={YEAR}, immutable"
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        try:
            data = await asyncio.wrap_future(images.request(space_slug, sha, latent, size))
        except Exception:
            return JsonResponse({"error": "The picture could not be rendered. Try again shortly."},
                                status=503, headers={"Retry-After": "5"})
        response = HttpResponse(data, content_type="image/webp")
    response["ETag"] = etag
    response["Cache-Control"] = cache
    return response
