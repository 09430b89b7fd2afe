"""``GET /r/<space>/<latent-sha>/<size>.webp``: a picture, rendered once, then a file."""

from __future__ import annotations

import asyncio
import json
import re

import torch
from asgiref.sync import sync_to_async
from django.db import connection
from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.views.decorators.http import require_GET

from breeding import actions, images
from breeding.models import Space, Visibility

SHA = re.compile(r"^[0-9a-f]{32}$")
YEAR = 365 * 24 * 3600


def not_found(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=404)


def token_user_id(request) -> int | None:
    """The user id of an ``Authorization: Token <key>`` header (API clients), or None."""
    kind, _, key = request.headers.get("Authorization", "").partition(" ")
    if kind != "Token" or not key:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.id FROM authtoken_token t JOIN auth_user u ON u.id = t.user_id "
            "WHERE t.key = %s AND u.is_active",
            [key.strip()],
        )
        row = cursor.fetchone()
    return row[0] if row else None


# One round trip: the picture's creations with their space's shape. This is the hot path
# of every gallery page (dozens of pictures), so it skips the ORM.
LOOKUP = """
    SELECT c.visibility, c.owner_id, c.latent::text, s.layers, s.dim
    FROM breeding_creation c JOIN breeding_space s ON s.id = c.space_id
    WHERE s.slug = %s AND c.latent_sha = %s AND c.removed_at IS NULL
    LIMIT 20
"""


@sync_to_async
def find(space_slug: str, sha: str, user, request):
    """(space slug, latent, public?) of a picture the user may see, or None.

    Gives the request's database connection back to the pool on its way out: the picture
    may then take seconds to render, and a request holds its connection until its
    response is sent, so a few dozen pictures rendering at once would hold every
    connection of the pool and every other request would fail waiting for one.
    """
    try:
        user_id = user.pk if user.is_authenticated else token_user_id(request)
        with connection.cursor() as cursor:
            cursor.execute(LOOKUP, [space_slug, sha])
            rows = cursor.fetchall()
        shared = [r for r in rows if r[0] in (Visibility.PUBLIC, Visibility.UNLISTED)]
        own = [r for r in rows if user_id is not None and r[1] == user_id]
        if shared or own:
            _, _, text, layers, dim = (shared or own)[0]
            latent = torch.tensor(json.loads(text), dtype=torch.float32).view(layers, dim)
            return space_slug, latent, bool(shared)
        space = Space.objects.filter(slug=space_slug).first()
        if space is None or user_id is None:
            return None
        latent = actions.preview_latent(space, sha, user_id)
        return (space_slug, latent, False) if latent is not None else None
    finally:
        if not connection.in_atomic_block:  # (a test's transaction: leave it be)
            connection.close()


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
