"""Pictures as a cache: rendered on first request, stored, served as immutable files.

A picture's address is its space, latent sha and size. The first request renders it
through the space's batcher (so a grid of children is one forward pass), encodes WebP off
the request path and stores it through Django's storage; concurrent requests for the same
picture wait on the same render. A lost file is simply rendered again.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import torch
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from inference import get_space
from inference.batcher import RenderBatcher
from inference.encode import encode

log = logging.getLogger(__name__)

SIZES = (64, 128, 256, 512, 1024, 2048)
#: The sizes a client gets links to with every creation.
LISTED_SIZES = (64, 256, 1024)
#: Rendered as soon as a creation is made, so they are ready when the client asks.
EAGER_SIZES = (256,)

_lock = threading.Lock()
_batchers: dict[str, RenderBatcher] = {}
_inflight: dict[tuple[str, str, int], Future] = {}
_encoder = ThreadPoolExecutor(max_workers=2, thread_name_prefix="encode")


def path(space: str, sha: str, size: int) -> str:
    return f"renders/{space}/{sha[:2]}/{sha}/{size}.webp"


def url(space: str, sha: str, size: int) -> str:
    return f"/r/{space}/{sha}/{size}.webp"


def urls(space: str, sha: str) -> dict[str, str]:
    return {str(size): url(space, sha, size) for size in LISTED_SIZES}


def batcher(space: str) -> RenderBatcher:
    with _lock:
        if space not in _batchers:
            _batchers[space] = RenderBatcher(
                get_space(space),
                max_batch=settings.RENDER_MAX_BATCH,
                max_wait_ms=settings.RENDER_MAX_WAIT_MS,
            )
        return _batchers[space]


def stored(space: str, sha: str, size: int) -> bool:
    return default_storage.exists(path(space, sha, size))


def needs_render(space: str, sha: str, size: int) -> bool:
    """Would asking for this picture start a render (neither stored nor being rendered)?"""
    with _lock:
        if (space, sha, size) in _inflight:
            return False
    return not stored(space, sha, size)


def request(space: str, sha: str, latent: torch.Tensor, size: int) -> Future:
    """A future of the WebP bytes of one picture: stored, being rendered, or started now."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(map(str, SIZES))}, got {size}")
    key = (space, sha, size)
    with _lock:
        if key in _inflight:
            return _inflight[key]
    name = path(space, sha, size)
    if default_storage.exists(name):
        done: Future = Future()
        with default_storage.open(name, "rb") as f:
            done.set_result(f.read())
        return done
    with _lock:
        if key in _inflight:  # started meanwhile
            return _inflight[key]
        result: Future = Future()
        _inflight[key] = result
    rendering = batcher(space).submit(latent, size)
    rendering.add_done_callback(lambda r: _after_render(key, name, r, result))
    return result


def _after_render(key, name: str, rendering: Future, result: Future) -> None:
    try:
        _encoder.submit(_store, key, name, rendering, result)
    except RuntimeError as exc:  # the process is exiting: nobody is waiting any more
        with _lock:
            _inflight.pop(key, None)
        result.set_exception(exc)


def _store(key, name: str, rendering: Future, result: Future) -> None:
    try:
        data = encode(rendering.result()[0], "webp")
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(data))
        result.set_result(data)
    except Exception as exc:
        log.exception("could not render or store %s", name)
        result.set_exception(exc)
    finally:
        with _lock:
            _inflight.pop(key, None)


def prefetch(space: str, sha: str, latent: torch.Tensor, sizes=EAGER_SIZES) -> None:
    """Start rendering a new creation's pictures without waiting for them."""
    for size in sizes:
        request(space, sha, latent, size)
