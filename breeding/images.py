"""Pictures as a cache: rendered on first request, stored, served from the file after.

A picture's address is its space, latent sha and size. The first request renders it
through the space's batcher (so a grid of children is one forward pass), encodes WebP off
the request path and stores it through Django's storage; concurrent requests for the same
picture wait on the same render. A lost file is simply rendered again.

The stored files (``renders/`` under MEDIA_ROOT) are kept within ``MEDIA_CACHE_MAX_GB``:
a file's modification time is its last use (reading it touches it, at most every
``TOUCH_AFTER_S``), and when the files would outgrow the budget the least recently used
are deleted until they fill ``LOW_WATER`` of it. Each process checks before it writes,
from a running count it takes from the disk at its first write and again at each sweep;
a periodic job (``breeding.tasks.sweep_renders``) sweeps too, and so catches what other
processes wrote. This needs files on a local disk; other storages (S3) keep their own
expiry rules.

Each render is made for someone (``who``: a breeder or a visitor's address), and the
batcher serves people in turn. What a picture costs is measured (process CPU seconds of its
share of the render, plus its encoding) and handed to the caller's ``on_cost``; the
measurements of each space and size make the estimate a budget lets a request in on
(``estimate``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from inference import get_space
from inference.batcher import RenderBatcher
from inference.client import RemoteRenderer, RemoteSpace, Replicas
from inference.encode import encode
from inference.projection import ProjectionResult
from inference.projection import project as local_project
from inference.space import Space

log = logging.getLogger(__name__)

SIZES = (64, 128, 256, 512, 1024, 2048)
#: The sizes a client gets links to with every creation.
LISTED_SIZES = (64, 256, 1024)
#: Rendered as soon as a creation is made, so they are ready when the client asks.
EAGER_SIZES = (256,)

_lock = threading.Lock()
_batchers: dict[str, RenderBatcher | RemoteRenderer] = {}
_missing_versions: set[str] = set()  # earlier versions not at hand: rendered in the present one
_remote: Replicas | None = None
_inflight: dict[tuple[str, str, int], Future] = {}
_encoder = ThreadPoolExecutor(max_workers=2, thread_name_prefix="encode")
_pending: Counter[Hashable] = Counter()  # renders started and not yet stored, per person

#: Before a space's pictures of a size have been measured, one is estimated at this many CPU
#: seconds per megapixel, plus ``OVERHEAD_S`` (the abstract space on a 2-core Intel Xeon,
#: rendered and encoded: 0.28 s at 1024 px, 0.022 s at 256 px).
DEFAULT_S_PER_MPX = 0.3
OVERHEAD_S = 0.005
#: How much each new measurement moves the estimate (an exponential moving average).
LEARN_RATE = 0.2
_costs: dict[tuple[str, int], float] = {}  # (space, size) -> measured CPU seconds of a picture

#: A read marks a file as used (its modification time) when that is older than this.
TOUCH_AFTER_S = 600
#: A sweep deletes down to this fraction of the budget, so it need not run at every write.
LOW_WATER = 0.8
_disk_lock = threading.Lock()
_sweep_lock = threading.Lock()  # one sweep at a time in a process
#: This process's count of the stored files, and of the bytes being written now.
_disk: dict = {"root": None, "bytes": None, "pending": 0}


#: The formats a picture is served in: WebP for pages, PNG for downloads (lossless).
FORMATS = ("webp", "png")
CONTENT_TYPES = {"webp": "image/webp", "png": "image/png"}


def path(space: str, sha: str, size: int, fmt: str = "webp") -> str:
    return f"renders/{space}/{sha[:2]}/{sha}/{size}.{fmt}"


def url(space: str, sha: str, size: int, fmt: str = "webp") -> str:
    return f"/r/{space}/{sha}/{size}.{fmt}"


def urls(space: str | None, sha: str) -> dict[str, str]:
    """A work's pictures by size. A published work (no space) has a square cover for the
    small sizes and its large picture for the rest, named by its media's id (``sha``)."""
    if space is None:
        return {str(size): f"/m/{sha}/{'cover' if size <= 512 else 'large'}.webp"
                for size in LISTED_SIZES}
    return {str(size): url(space, sha, size) for size in LISTED_SIZES}


def of(creation) -> dict[str, str]:
    """``urls`` of a work (a ``Creation``)."""
    return urls(creation.space.slug if creation.space_id else None, creation.latent_sha)


class CannotRender(Exception):
    """This process may not render the space (see ``can_render``); the message says why."""


def can_render(space) -> bool:
    """Whether this process may render ``space`` (a Space row or its slug) itself: its
    generator is fast enough for the CPU (``needs_gpu`` unset), or this machine has a GPU.
    Elsewhere its pictures need the inference service: with ``INFERENCE_URL`` set, every
    render goes there, so any space may be asked for."""
    from inference.space import space_options

    if settings.INFERENCE_URLS:
        return True
    needs = space_options(space).get("needs_gpu") if isinstance(space, str) else space.settings.get("needs_gpu")
    return not needs or torch.cuda.is_available()


def in_version(space: str, version: str = "") -> str:
    """The name this process renders ``space`` at ``version`` under: the space's own slug
    for its present version (``version`` empty), ``slug@version`` for an earlier one whose
    weights are still at hand (a built-in space's earlier weights ship beside its present
    ones; an added space keeps the files of the versions it replaced), and the present
    version's slug where they are not: a picture then renders in the present version, as
    every picture did before versions were kept."""
    if not version or settings.INFERENCE_URLS:
        # (The inference service serves the spaces it was started with, in their present
        # versions: with it, every picture renders in the present version.)
        return space
    name = f"{space}@{version}"
    with _lock:
        if name in _batchers:
            return name
        if name in _missing_versions:  # looked for once: not on every picture of its works
            return space
    try:
        get_space(name)
    except (KeyError, ValueError, OSError) as e:  # unknown version, or its file is gone
        with _lock:
            _missing_versions.add(name)
        log.warning("%s is rendered in its present version: %s", name, e)
        return space
    return name


def batcher(space: str) -> RenderBatcher | RemoteRenderer:
    """The one way this process renders a space's pictures: ``submit(latents, size)`` gives
    a future of (n, size, size, 3) uint8. In-process (a ``RenderBatcher``), or on the
    inference service when ``INFERENCE_URL`` is set (a ``RemoteRenderer``, which also has
    ``frames(latents, size, views)`` for videos and ``project``). ``space`` may name an
    earlier version (``in_version``)."""
    with _lock:
        if space not in _batchers:
            if settings.INFERENCE_URLS:
                _batchers[space] = RemoteRenderer(_replicas(), get_space(space))
            else:
                _batchers[space] = RenderBatcher(
                    get_space(space),
                    max_batch=settings.RENDER_MAX_BATCH,
                    max_wait_ms=settings.RENDER_MAX_WAIT_MS,
                    max_pixels=settings.RENDER_MAX_PASS_PIXELS,
                )
        return _batchers[space]


def forget(space: str) -> None:
    """Drop the space's batcher (its weights changed): the next render builds a new one,
    and its earlier versions found missing are looked for again."""
    with _lock:
        old = _batchers.pop(space, None)
        _missing_versions.difference_update({n for n in _missing_versions if n.startswith(f"{space}@")})
    if old is not None:
        old.close()


def _replicas() -> Replicas:
    """This process's connections to the inference replicas (``_lock`` held)."""
    global _remote
    if _remote is None:
        _remote = Replicas(
            settings.INFERENCE_URLS, timeout_s=settings.INFERENCE_TIMEOUT_S,
            connect_timeout_s=settings.INFERENCE_CONNECT_TIMEOUT_S,
            failures_to_open=settings.INFERENCE_FAILURES_TO_OPEN, open_s=settings.INFERENCE_OPEN_S,
            token=settings.INFERENCE_TOKEN,
        )
    return _remote


def replicas() -> Replicas | None:
    """The inference replicas, when rendering is remote (for /healthz)."""
    if not settings.INFERENCE_URLS:
        return None
    with _lock:
        return _replicas()


def rendering_space(space: Space) -> Space:
    """``space`` as jobs should render with it: itself, or a ``RemoteSpace`` whose
    ``render`` and ``render_view`` go to the inference service when ``INFERENCE_URL`` is set."""
    renderer = batcher(space.slug)
    return RemoteSpace(space, renderer) if isinstance(renderer, RemoteRenderer) else space


def render_frames(space: Space, latents: torch.Tensor, size: int,
                  views: list[tuple[float, float, float]] | None = None) -> torch.Tensor:
    """A batch of video frames (n, size, size, 3) uint8, each through its camera (zoom, cx,
    cy) when ``views`` is given: one request to the inference service when ``INFERENCE_URL``
    is set, else rendered here. The pixels are the same either way."""
    from inference.video import render_here

    renderer = batcher(space.slug)
    if isinstance(renderer, RemoteRenderer):
        return renderer.frames(latents, size, views)
    if views is None:
        return renderer.render(latents, size, urgent=False)  # nobody watches a frame appear
    return render_here(space, latents, size, views)


def project(space: Space, target, **options) -> ProjectionResult:
    """``inference.projection.project``, on the inference service for a ``RemoteSpace``."""
    if isinstance(space, RemoteSpace):
        return space.renderer.project(space.local, target, **options)
    return local_project(space, target, **options)


def warm_up() -> dict[str, float]:
    """Load every space and render one small picture through its batcher, so that loading
    weights and compiling the fused kernels (see inference/fused.py) happen at start-up
    rather than on the first request. Returns the seconds each space took; a space that
    fails is logged and left to fail again, with its message, on its first request. With
    ``INFERENCE_URL`` set this process renders nothing itself (the replicas warm up before
    they report ready), so there is nothing to warm."""
    from inference import fused, space_slugs

    took = {}
    if settings.INFERENCE_URLS:
        return took
    for slug in space_slugs():
        started = time.perf_counter()
        try:
            space = batcher(slug).space
            batcher(slug).render(space.sample(1, 0), 64)
        except Exception:
            log.exception("warming up the %s space failed", slug)
            continue
        took[slug] = time.perf_counter() - started
    compiled = fused.compile_seconds
    log.info("renderers warmed up: %s; fused kernels %s",
             ", ".join(f"{slug} {s:.2f} s" for slug, s in took.items()),
             "not used" if compiled is None else f"ready in {compiled:.2f} s")
    return took


def stored(space: str, sha: str, size: int, fmt: str = "webp") -> bool:
    return default_storage.exists(path(space, sha, size, fmt))


def needs_render(space: str, sha: str, size: int, fmt: str = "webp") -> bool:
    """Would asking for this picture start a render (neither stored nor being rendered)?"""
    with _lock:
        if (space, sha, size, fmt) in _inflight:
            return False
    return not stored(space, sha, size, fmt)


def estimate(space: str, size: int) -> float:
    """The CPU seconds a new picture of ``space`` at ``size`` px is expected to cost: what
    the last ones measured, or ``DEFAULT_S_PER_MPX`` until one has been."""
    with _lock:
        known = _costs.get((space, size))
    return known if known is not None else OVERHEAD_S + DEFAULT_S_PER_MPX * size * size / 1e6


def _learn(space: str, size: int, seconds: float) -> None:
    with _lock:
        known = _costs.get((space, size))
        _costs[(space, size)] = seconds if known is None else known + LEARN_RATE * (seconds - known)


def pending(who: Hashable) -> int:
    """How many pictures this process is rendering for ``who`` (started, not yet stored)."""
    with _lock:
        return _pending[who]


def request(space: str, sha: str, latent: torch.Tensor, size: int, fmt: str = "webp",
            who: Hashable = None, on_cost: Callable[[float], None] | None = None,
            version: str = "") -> Future:
    """A future of the bytes of one picture (WebP or PNG): stored, being rendered, or
    started now, for ``who`` (their turn in the render queue), in ``version`` of the space
    (empty: its present one; see ``in_version``). When this call starts a render,
    ``on_cost`` is called with what it measured to cost, in CPU seconds."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(map(str, SIZES))}, got {size}")
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    key = (space, sha, size, fmt)
    with _lock:
        if key in _inflight:
            return _inflight[key]
    name = path(space, sha, size, fmt)
    data = _read(name)
    if data is not None:
        done: Future = Future()
        done.set_result(data)
        return done
    if not can_render(space):  # a stored picture is served; a new one would never come
        raise CannotRender(_("The %(space)s space needs a GPU inference service, and none is "
                             "configured.") % {"space": space})
    with _lock:
        if key in _inflight:  # started meanwhile
            return _inflight[key]
        result: Future = Future()
        _inflight[key] = result
        _pending[who] += 1
    try:
        renderer = batcher(in_version(space, version))
        if isinstance(renderer, RenderBatcher):
            rendering = renderer.submit(latent, size, who)
        else:  # the inference service measures its own work: the estimate stands
            rendering = renderer.submit(latent, size)
    except Exception:
        _done(key, who)
        raise
    rendering.add_done_callback(lambda r: _after_render(key, name, r, result, who, on_cost))
    return result


def _done(key, who: Hashable) -> None:
    with _lock:
        _inflight.pop(key, None)
        _pending[who] -= 1
        if _pending[who] <= 0:
            del _pending[who]


def _read(name: str) -> bytes | None:
    """A stored picture's bytes, marking it as used; None if it is not stored (or was just
    evicted)."""
    if not default_storage.exists(name):
        return None
    try:
        with default_storage.open(name, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    local = _local_path(name)
    if local is not None:
        try:
            if os.stat(local).st_mtime < time.time() - TOUCH_AFTER_S:
                os.utime(local)
        except FileNotFoundError:
            pass
    return data


def _after_render(key, name: str, rendering: Future, result: Future, who: Hashable = None,
                  on_cost: Callable[[float], None] | None = None) -> None:
    try:
        _encoder.submit(_store, key, name, rendering, result, who, on_cost)
    except RuntimeError as exc:  # the process is exiting: nobody is waiting any more
        _done(key, who)
        result.set_exception(exc)


def _store(key, name: str, rendering: Future, result: Future, who: Hashable = None,
           on_cost: Callable[[float], None] | None = None) -> None:
    try:
        started = time.thread_time()  # Pillow encodes on this thread
        data = encode(rendering.result()[0], key[3])
        cpu_s = getattr(rendering, "cpu_s", None)
        if cpu_s is not None:
            cpu_s += time.thread_time() - started
            _learn(key[0], key[2], cpu_s)
            if on_cost is not None:
                try:
                    on_cost(cpu_s)
                except Exception:
                    log.exception("could not charge the render of %s", name)
        if not default_storage.exists(name):
            with room_for(len(data)):
                try:
                    default_storage.save(name, ContentFile(data))
                except FileNotFoundError:  # a sweep removed the emptied folder meanwhile
                    default_storage.save(name, ContentFile(data))
        result.set_result(data)
    except Exception as exc:
        log.exception("could not render or store %s", name)
        result.set_exception(exc)
    finally:
        _done(key, who)


def settle(timeout: float | None = None) -> bool:
    """Wait until every picture being rendered now is stored (or has failed): True if they
    all were within ``timeout``. For a process that stops, and for tests: a picture still
    on its way would otherwise be written under whatever storage settings hold then."""
    with _lock:
        pending = list(_inflight.values())
    done, not_done = futures_wait(pending, timeout=timeout)
    return not not_done


def prefetch(space: str, sha: str, latent: torch.Tensor, sizes=EAGER_SIZES, who: Hashable = None) -> None:
    """Start rendering a new creation's pictures for ``who`` without waiting for them."""
    for size in sizes:
        request(space, sha, latent, size, who=who)


# -- the disk budget ------------------------------------------------------------------


def _local_path(name: str) -> str | None:
    try:
        return default_storage.path(name)
    except NotImplementedError:  # not a local disk
        return None


def budget_bytes() -> int:
    return int(settings.MEDIA_CACHE_MAX_GB * 1e9)


@dataclass
class Sweep:
    files: int  # stored before the sweep
    bytes: int
    evicted: int
    bytes_after: int


def sweep(max_bytes: int | None = None, room: int = 0) -> Sweep | None:
    """Delete the least recently used pictures while the stored ones, plus ``room`` bytes
    about to be written, exceed ``max_bytes`` (``MEDIA_CACHE_MAX_GB``), down to
    ``LOW_WATER`` of it. None where pictures are not on a local disk."""
    root = _local_path("renders")
    if root is None:
        return None
    max_bytes = budget_bytes() if max_bytes is None else max_bytes
    files = []  # (last use, size, path)
    folders = [root]
    while folders:
        try:
            entries = list(os.scandir(folders.pop()))
        except FileNotFoundError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    info = entry.stat(follow_symlinks=False)
                    files.append((info.st_mtime, info.st_size, entry.path))
            except FileNotFoundError:
                continue
    total = before = sum(size for _, size, _ in files)
    evicted = 0
    if total + room > max_bytes:
        target = LOW_WATER * max_bytes - room
        files.sort()
        for _, size, file in files:
            if total <= target:
                break
            try:
                os.remove(file)
            except FileNotFoundError:
                pass
            total -= size
            evicted += 1
            _remove_empty(os.path.dirname(file), root)
        log.info("picture cache: %d files of %.1f MB, budget %.1f MB: evicted %d, %.1f MB left",
                 len(files), before / 1e6, max_bytes / 1e6, evicted, total / 1e6)
    with _disk_lock:
        _disk.update(root=root, bytes=total)
    return Sweep(files=len(files), bytes=before, evicted=evicted, bytes_after=total)


def _remove_empty(folder: str, root: str) -> None:
    """Remove a picture's folder and its parent once they hold nothing."""
    for _level in range(2):
        if os.path.commonpath([folder, root]) != root or folder == root:
            return
        try:
            os.rmdir(folder)
        except OSError:  # not empty (or gone)
            return
        folder = os.path.dirname(folder)


@contextmanager
def room_for(size: int):
    """Around writing ``size`` bytes of a picture: first a sweep if this process's count says
    they would not fit beside the stored pictures and those other threads are writing now;
    the bytes count as being written until the block ends, then as stored. (Two pictures
    written at once each fit alone, and would not together: the second one's check must see
    the first.)"""
    root = _local_path("renders")
    if root is None:
        yield
        return
    with _disk_lock:
        if _disk["root"] != root:
            _disk.update(root=root, bytes=None, pending=0)
    with _sweep_lock:
        with _disk_lock:  # read again: another thread may have swept meanwhile
            known, pending = _disk["bytes"], _disk["pending"]
        if known is None or known + pending + size > budget_bytes():
            sweep(room=pending + size)
        with _disk_lock:
            _disk["pending"] += size
    try:
        yield
    finally:
        with _disk_lock:
            if _disk["root"] == root:
                _disk["pending"] -= size
                if _disk["bytes"] is not None:
                    _disk["bytes"] += size
