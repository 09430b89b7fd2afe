"""``GET /r/<space>/<latent-sha>/<size>.webp``: a picture, rendered once, then a file
(``.png`` the same, for downloads: its own file, its own render, the same rules).

Who may see a picture is the rule of ``Creation.objects.visible_to``, asked of the database
with the picture's sha, a shared row first. Shared pictures may be kept by browsers and
proxies for ``SHARED_MAX_AGE`` only, then revalidated with their ETag (a 304 costs one
query, no file and no render), so a work made private or removed stops being served within
minutes. Rendering a new file is charged to the asker's render budget by what it measured
to cost (budget.py), and rendered in the asker's turn (images.py).
"""

from __future__ import annotations

import asyncio
import os
import re

import numpy as np
import torch
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils.http import parse_etags
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET
from pgvector import Vector

from breeding import actions, budget, images
from breeding.limits import client_address
from breeding.models import Creation, Space
from common.numbers import MAX_DIGITS, whole_number
from common.statements import Statement

SHA = re.compile(r"[0-9a-f]{32}")
#: One canonical URL per picture: ASCII digits without leading zeros (``int()`` would also
#: take ``٢٥٦`` and ``0256``, and ``str.isdigit()`` takes ``²⁵⁶``, which ``int()`` refuses).
SIZE = re.compile(r"[1-9][0-9]{0,3}", re.ASCII)
#: How long browsers and proxies may show a shared picture without asking again: the most
#: a revocation (made private, removed) waits for caches that honour the headers.
SHARED_MAX_AGE = 300
#: ...and how long past that they may still show it while they ask in the background.
SHARED_STALE_S = 60
SHARED_CACHE = f"public, max-age={SHARED_MAX_AGE}, stale-while-revalidate={SHARED_STALE_S}"
PRIVATE_CACHE = f"private, max-age={SHARED_MAX_AGE}"


def refusal(message: str, status: int, retry_after: int | None = None) -> JsonResponse:
    """An error as JSON. It depends on who asks, so no cache may keep it for anyone else."""
    body: dict = {"error": message}
    headers = {"Cache-Control": "no-store"}
    if retry_after is not None:
        body["retry_after"] = retry_after
        headers["Retry-After"] = str(retry_after)
    return JsonResponse(body, status=status, headers=headers)


def revalidated(request, etag: str) -> bool:
    """Does the client hold this picture already (``If-None-Match``, weak comparison)?"""
    held = parse_etags(request.headers.get("If-None-Match", ""))
    return "*" in held or etag in (e.removeprefix("W/") for e in held)


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


def _picture_query(user_id: int, space_slug: str, sha: str, signed_in: bool):
    return (Creation.objects.visible_to(user_id if signed_in else None)
            .filter(space__slug=space_slug, latent_sha=sha)
            .with_shared()
            .order_by("-anyone")
            .values_list("anyone", "latent", "space__layers", "space__dim", "version", "space__version")
            [:1])


#: A picture's work, if the asker may see it, a shared one first: compiled once (every
#: picture of every page asks it).
PICTURE = Statement(_picture_query)


def _find(space_slug: str, sha: str, user, request):
    """(latent, shared?, asker's user id, the earlier version of the space it renders in or
    "") of a picture the asker may see, or None. ``user`` may be lazy (``request.user``):
    reading the session and the account is then part of this trip to the database.

    Gives the request's database connection back to the pool on its way out: the picture
    may then take seconds to render, and a request holds its connection until its
    response is sent, so a few dozen pictures rendering at once would hold every
    connection of the pool and every other request would fail waiting for one.
    """
    try:
        user_id = user.pk if user.is_authenticated else token_user_id(request)
        rows = (PICTURE.rows(user_id, space_slug, sha, signed_in=True) if user_id is not None
                else PICTURE.rows(0, space_slug, sha, signed_in=False))
        if rows:
            shared, latent, layers, dim, version, present = rows[0]
            latent = torch.from_numpy(np.asarray(Vector._from_db(latent), dtype=np.float32)).view(layers, dim)
            return latent, shared, user_id, "" if version in ("", present) else version
        space = Space.objects.filter(slug=space_slug).first()
        if space is None or user_id is None:
            return None
        latent = actions.preview_latent(space, sha, user_id)
        return (latent, False, user_id, "") if latent is not None else None
    finally:
        if not connection.in_atomic_block:  # (a test's transaction: leave it be)
            connection.close()


#: ``_find`` for Django's handler: on the request's thread (a test's transaction included).
find = sync_to_async(_find)
#: ``_find`` for ``mendel.pictures``, which serves pictures without Django's threads: on any
#: free thread of the event loop's pool.
find_anywhere = sync_to_async(_find, thread_sensitive=False)


@require_GET
async def image(request, space: str, sha: str, size: str, fmt: str = "webp", lookup=find):
    """The picture, to those who may see it. ``lookup``: ``find`` or ``find_anywhere``."""
    if not SIZE.fullmatch(size) or int(size) not in images.SIZES:
        allowed = ", ".join(map(str, images.SIZES))
        return refusal(_("No picture size %(size)s: sizes are %(sizes)s.")
                       % {"size": size, "sizes": allowed}, 404)
    size = int(size)
    if not SHA.fullmatch(sha):
        return refusal(_("No such picture."), 404)
    found = await lookup(space, sha, request.user, request)
    if found is None:
        return refusal(_("No such picture."), 404)
    latent, shared, user_id, version = found
    etag = f'"{sha}-{size}"' if fmt == "webp" else f'"{sha}-{size}-{fmt}"'
    headers = {"ETag": etag, "Cache-Control": SHARED_CACHE if shared else PRIVATE_CACHE}
    if revalidated(request, etag):
        response = HttpResponseNotModified()
    else:
        address = client_address(request)
        who, on_cost = budget.payer(user_id, address), None
        if images.needs_render(space, sha, size, fmt):
            if images.pending(who) >= settings.RENDER_WAITING_PER_PERSON:
                waiting = images.pending(who)
                return refusal(ngettext("You have %(n)d picture being rendered already. Wait for "
                                        "it before asking for more.",
                                        "You have %(n)d pictures being rendered already. Wait for "
                                        "them before asking for more.", waiting) % {"n": waiting},
                               429, retry_after=1)
            estimate = budget.picture(size, space)
            wait, message = await sync_to_async(budget.spend)(user_id, address, estimate)
            if wait:
                return refusal(message, 429, retry_after=wait)
            on_cost = budget.settler(user_id, address, estimate)
        try:
            # Shielded: the render is shared by everyone asking for this picture, so a
            # visitor who leaves (this request cancelled) must not cancel it for the rest.
            data = await asyncio.shield(asyncio.wrap_future(
                images.request(space, sha, latent, size, fmt, who=who, on_cost=on_cost,
                               version=version)))
        except images.CannotRender as e:
            return refusal(str(e), 503, retry_after=60)
        except Exception:
            return refusal(_("The picture could not be rendered. Try again shortly."), 503,
                           retry_after=5)
        response = HttpResponse(data, content_type=images.CONTENT_TYPES[fmt])
    for name, value in headers.items():
        response[name] = value
    return response


def _upload_file(public_id: str, which: str, user, request) -> tuple[bytes, str] | None:
    """An upload's stored file (``original`` or ``thumb``) and its type, for its owner only
    (anyone else: None)."""
    from breeding.models import Upload

    user_id = user.pk if user.is_authenticated else token_user_id(request)
    if user_id is None:
        return None
    upload = Upload.objects.filter(public_id=public_id, owner_id=user_id).first()
    if upload is None:
        return None
    stored = getattr(upload, which)
    kind = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}[stored.name.rsplit(".", 1)[-1]]
    try:
        with stored.open("rb") as f:
            return f.read(), kind
    except FileNotFoundError:
        return None


@require_GET
async def upload_file(request, public_id: str, which: str):
    """``GET /uploads/<id>/original`` and ``/uploads/<id>/thumb``: an uploaded picture as
    Mendel keeps it (re-encoded, without metadata), and the thumbnail pages show. Its
    owner's alone, whatever becomes of the work projected from it; never kept by shared
    caches."""
    found = await sync_to_async(_upload_file)(public_id, which, await request.auser(), request)
    if found is None:
        return refusal(_("No such picture."), 404)
    data, kind = found
    headers = {"Cache-Control": "private, max-age=3600"}
    if which == "original":
        headers["Content-Disposition"] = f'inline; filename="{public_id}-original.{kind.split("/")[1]}"'
    return HttpResponse(data, content_type=kind, headers=headers)


VIDEO_FILES = {"video.mp4": ("mp4", "video/mp4"), "video.webm": ("webm", "video/webm"),
               "poster.webp": ("poster", "image/webp")}
RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)")
#: Stands for a byte offset longer than ``whole_number`` reads: beyond any file.
BEYOND = 10**MAX_DIGITS
CHUNK = 256 * 1024


def _video_file(public_id: str, name: str, user, request):
    """A rendered video's file (a FieldFile), its type and whether it is shared, for those
    who may see the work the video became (``visible_to``); anyone else: None."""
    from breeding.models import Video

    video = Video.objects.filter(public_id=public_id, creation__isnull=False).first()
    if video is None or name not in VIDEO_FILES:
        return None
    user_id = user.pk if user.is_authenticated else token_user_id(request)
    work = Creation.objects.visible_to(user_id).filter(pk=video.creation_id).first()
    field, kind = VIDEO_FILES[name]
    stored = getattr(video, field)
    if work is None or not stored:
        return None
    return stored, kind, work.is_shared


def byte_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """The (first, last) bytes a ``Range`` header asks for; None to send the whole file (no
    header, several ranges, another unit), False when it cannot be satisfied."""
    match = RANGE.fullmatch(header.strip())
    if not match or match.group(1) == match.group(2) == "":
        return None

    def offset(digits: str) -> int:  # thousands of digits are simply beyond the file
        found = whole_number(digits.lstrip("0") or "0")
        return BEYOND if found is None else found

    first, last = match.group(1), match.group(2)
    if first == "":  # the last N bytes
        n = offset(last)
        return (max(size - n, 0), size - 1) if n > 0 and size else False
    first = offset(first)
    last = min(offset(last), size - 1) if last else size - 1
    return (first, last) if first <= last else False


async def _chunks(stored, first: int, length: int):
    f = await sync_to_async(stored.open)("rb")
    try:
        await sync_to_async(f.seek)(first)
        while length > 0:
            data = await sync_to_async(f.read)(min(CHUNK, length))
            if not data:
                break
            length -= len(data)
            yield data
    finally:
        await sync_to_async(f.close)()


async def _serve(request, stored, kind: str, shared: bool, etag: str):
    """A stored file, with byte ranges so players can seek, and the cache rules of
    pictures (shared or private, revalidated by its ETag)."""
    from django.http import StreamingHttpResponse

    size = await sync_to_async(lambda: stored.size)()
    etag = f'"{etag}-{size}"'
    headers = {"ETag": etag, "Cache-Control": SHARED_CACHE if shared else PRIVATE_CACHE,
               "Accept-Ranges": "bytes", "X-Content-Type-Options": "nosniff"}
    if revalidated(request, etag):
        response = HttpResponseNotModified()
        for key, value in headers.items():
            response[key] = value
        return response
    wanted = byte_range(request.headers.get("Range", ""), size)
    if wanted is False:
        return HttpResponse(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    first, last = wanted if wanted else (0, size - 1)
    response = StreamingHttpResponse(_chunks(stored, first, last - first + 1), content_type=kind,
                                     status=206 if wanted else 200, headers=headers)
    response["Content-Length"] = str(last - first + 1)
    if wanted:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    return response


@require_GET
async def video_file(request, public_id: str, name: str):
    """``GET /videos/<id>/video.mp4`` (``video.webm``, ``poster.webp``): a rendered video,
    to whoever may see its work, with byte ranges so players can seek, and the same cache
    rules as pictures."""
    found = await sync_to_async(_video_file)(public_id, name, await request.auser(), request)
    if found is None:
        return refusal(_("No such video."), 404)
    stored, kind, shared = found
    return await _serve(request, stored, kind, shared, f"{public_id}-{name}")


def _media_file(public_id: str, name: str, user, request):
    from breeding.media import CONTENT_TYPES, NAMES
    from breeding.models import MediaWork

    field = NAMES.get(name)
    if field is None or len(public_id) > 16:
        return None
    media = MediaWork.objects.filter(public_id=public_id, creation__isnull=False).first()
    if media is None:
        return None
    user_id = user.pk if user.is_authenticated else token_user_id(request)
    work = Creation.objects.visible_to(user_id).filter(pk=media.creation_id).first()
    stored = getattr(media, field)
    if work is None or not stored or os.path.basename(stored.name) != name:
        return None
    return stored, CONTENT_TYPES[name.rpartition(".")[2]], work.is_shared


@require_GET
async def media_file(request, public_id: str, name: str):
    """``GET /m/<id>/<name>``: a published work's file (its cover, large picture, film,
    sound or picture), to whoever may see its work, with byte ranges and the cache rules of
    pictures."""
    found = await sync_to_async(_media_file)(public_id, name, await request.auser(), request)
    if found is None:
        return refusal(_("No such file."), 404)
    stored, kind, shared = found
    return await _serve(request, stored, kind, shared, f"{public_id}-{name}")
