"""The inference service: rendering over HTTP, with dynamic batching, one process per GPU.

    python -m inference serve --spaces abstract --port 8100

A small ASGI application (no Django) served by uvicorn. Web processes and job workers
send it latents; it renders them through one ``RenderBatcher`` per space, so requests
from every client that arrive within ``max_wait_ms`` share one forward pass.

Endpoints (latents are raw little-endian float32, C order; pictures raw uint8 RGB):

- ``POST /v1/render?space=S&shape=N,L,D&size=PX&format=raw|png|webp``: the body is the
  latents. ``raw`` answers the (N, PX, PX, 3) pictures with ``X-Shape``; ``png`` and
  ``webp`` answer one encoded picture (N must be 1).
- ``POST /v1/frames?space=S&shape=N,L,D&size=PX[&views=1]``: a batch of video frames,
  raw; with ``views=1`` the latents are followed by N cameras (zoom, cx, cy) as float32.
- ``POST /v1/project?space=S&shape=H,W,3&size=PX&seed=K&steps=N|budget_s=T``: the body is
  the target picture (raw uint8 RGB). Answers newline-delimited JSON: one line per step
  (``step``, ``steps``, ``loss``, ``elapsed_s``, ``eta_s``, ``latent``: base64 float32),
  then ``{"result": {...}}`` or ``{"error": "..."}``. Closing the connection stops it.
- ``GET /v1/spaces``: each space's latent shape, version and what it can do.
- ``GET /healthz``: the process answers. ``GET /readyz``: 200 once every space is loaded
  and has rendered once (warm), 503 before and while shutting down.

Bad input is answered 400 with ``{"error": "a sentence"}``; a body or a picture over the
limits 413; a full queue (more than ``max_queue`` pictures waiting, ``max_large`` large
renders, ``max_unsent_mb`` of answers that their clients have not read yet, or
``max_projections`` running) 503 with ``Retry-After``. On SIGTERM the service stops
answering ready, refuses new work and finishes the requests in flight (uvicorn's graceful
shutdown) before it exits.

**Who may ask.** With a shared secret (``INFERENCE_TOKEN`` or ``--token``) every ``/v1/``
request must carry ``Authorization: Bearer <token>`` (compared in constant time; 401
otherwise); ``/healthz`` and ``/readyz`` stay open to load balancers. A replica bound
beyond loopback refuses to start without one (``check_exposure``).

**What one client can hold.** A picture's side is at most ``max_size`` (the largest the
site asks for); requests of ``LARGE_MPX`` megapixels or more run ``max_large`` at a time;
an answer's bytes count against ``max_unsent_mb`` from the moment it is accepted until the
client has read it, and a client that takes no part of an answer for ``send_timeout_s``
loses its connection; a projection stops after ``max_projection_s`` seconds, and when its
client goes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import ipaddress
import json
import logging
import math
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

import numpy as np
import torch

from inference.batcher import RenderBatcher
from inference.device import OnDevice, check_precision, pick_device
from inference.space import can_move_camera, check_size, get_space

log = logging.getLogger(__name__)

FORMATS = {"raw": "application/octet-stream", "png": "image/png", "webp": "image/webp"}
#: Pictures in one request, and megapixels in one request (N x size²).
MAX_PICTURES = 256
MAX_MEGAPIXELS = 68.0  # one 8192 px picture, or 64 at 1024 px
#: The side of a target picture sent for projection.
MAX_TARGET_SIDE = 2048
WARM_SIZE = 64
#: A request of this many megapixels or more is a large render (one 2048 px picture is 4.2).
LARGE_MPX = 4.0
#: An answer is sent in parts of this size, each within ``send_timeout_s``.
SEND_CHUNK = 1 << 20
#: Paths anyone may ask, token or not: what a load balancer probes.
OPEN_PATHS = ("/healthz", "/readyz")


@dataclass
class Limits:
    max_batch: int = 16
    max_wait_ms: float = 5.0
    #: Pictures queued or rendering at once; past it, 503.
    max_queue: int = 256
    max_projections: int = 2
    #: The largest side of a picture: the largest the site asks for.
    max_size: int = 2048
    #: Large renders (``LARGE_MPX`` or more) at once; past it, 503.
    max_large: int = 2
    #: Bytes of answers accepted but not yet read by their clients, in MB; past it, 503.
    max_unsent_mb: float = 256.0
    #: A client that reads no part of an answer for this long loses its connection.
    send_timeout_s: float = 30.0
    #: The longest a projection may run, whatever it asked for.
    max_projection_s: float = 600.0
    #: Off the CPU, StyleGAN spaces render in passes of exactly ``max_batch`` pictures
    #: (``StyleGANSpace.render_fixed``) instead of one picture a pass.
    fixed_batch: bool = False


class HTTPError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class Disconnected(Exception):
    """The client went away; its projection stops."""


class OutOfTime(Exception):
    """A projection ran past ``max_projection_s``."""


class Stalled(Exception):
    """A client took no part of its answer for ``send_timeout_s``."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` (as given to ``--host``) is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, token: str | None) -> None:
    """A replica bound beyond loopback must have a token (ValueError otherwise): anyone who
    can reach it could otherwise make it render or project for as long as they like."""
    if not token and not is_loopback(host):
        raise ValueError(f"--host {host} can be reached from other machines: give the replica "
                         "a shared secret in INFERENCE_TOKEN (or --token), and the same "
                         "INFERENCE_TOKEN to the web and worker processes")


class Service:
    """The ASGI application. ``spaces`` are loaded and warmed in the background at start-up."""

    def __init__(self, spaces: list[str], limits: Limits | None = None, device: str = "auto",
                 precision: str = "fp32", token: str | None = None) -> None:
        self.slugs = list(spaces)
        self.limits = limits or Limits()
        self._bearer = f"Bearer {token}".encode() if token else None
        self.device = pick_device(device)
        self.precision = check_precision(precision)
        # As configured (--threads): torch's count is process-wide and the built-in spaces
        # set it to 1 while they render, so reading it later would depend on the moment.
        self.threads = torch.get_num_threads()
        self.spaces: dict[str, OnDevice] = {}
        self.batchers: dict[str, RenderBatcher] = {}
        self.ready = False
        self.draining = False
        self.load_error: str | None = None
        self.waiting = 0  # pictures queued or rendering
        self.projections = 0
        self.large = 0  # large renders in flight
        self.unsent = 0  # bytes of answers accepted and not yet read by their clients
        self.served = 0
        self.refused = 0
        self._loader: threading.Thread | None = None

    # -- life ----------------------------------------------------------------------------

    def load(self) -> None:
        """Load every space, place it on the device and render once (blocking)."""
        try:
            for slug in self.slugs:
                started = time.perf_counter()
                space = OnDevice(get_space(slug), self.device, self.precision)
                if self.limits.fixed_batch and hasattr(space.space, "fixed_batch"):
                    space.space.fixed_batch = self.limits.max_batch
                batcher = RenderBatcher(space, self.limits.max_batch, self.limits.max_wait_ms)
                batcher.render(space.sample(1, 0), WARM_SIZE)
                self.spaces[slug], self.batchers[slug] = space, batcher
                log.info("%s loaded and warm on %s (%s) in %.1f s", slug, space.device,
                         self.precision, time.perf_counter() - started)
        except Exception as exc:
            self.load_error = f"{type(exc).__name__}: {exc}"
            log.exception("loading the spaces failed")
            return
        self.ready = True

    def start_loading(self) -> None:
        self._loader = threading.Thread(target=self.load, name="load-spaces", daemon=True)
        self._loader.start()

    def drain(self) -> None:
        """Stop answering ready and refuse new work; requests in flight go on."""
        self.draining = True

    def close(self) -> None:
        self.drain()
        for batcher in self.batchers.values():
            batcher.close()

    # -- ASGI ----------------------------------------------------------------------------

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            await self._route(scope, receive, send)
        except HTTPError as exc:
            if exc.status == 503:
                self.refused += 1
            try:
                await _json(send, exc.status, {"error": exc.message}, exc.headers)
            except Stalled:
                pass
        except Stalled:
            # Returning with the answer unfinished makes the server close the connection.
            log.warning("a client read nothing for %.0f s; its connection is closed",
                        self.limits.send_timeout_s)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start_loading()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.to_thread(self.close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _route(self, scope, receive, send) -> None:
        method, path = scope["method"], scope["path"]
        routes = {
            "/healthz": ("GET", self._healthz), "/readyz": ("GET", self._readyz),
            "/v1/spaces": ("GET", self._spaces), "/v1/render": ("POST", self._render),
            "/v1/frames": ("POST", self._frames), "/v1/project": ("POST", self._project),
        }
        if path not in routes:
            raise HTTPError(404, f"there is no {path} here: see /v1/spaces, /v1/render, "
                                 "/v1/frames, /v1/project, /healthz and /readyz")
        allowed, handler = routes[path]
        if self._bearer is not None and path not in OPEN_PATHS:
            self._check_token(scope)
        if method != allowed:
            raise HTTPError(405, f"{path} answers {allowed} only, not {method}", {"Allow": allowed})
        query = {k: v[-1] for k, v in parse_qs(scope["query_string"].decode("latin-1")).items()}
        await handler(scope, query, receive, send)

    # -- endpoints -----------------------------------------------------------------------

    async def _healthz(self, scope, query, receive, send) -> None:
        await _json(send, 200, {"status": "ok"})

    def state(self) -> dict:
        return {
            "ready": self.ready and not self.draining, "draining": self.draining,
            "device": str(self.device), "precision": self.precision,
            "threads": self.threads, "spaces": sorted(self.spaces), "waiting": self.waiting,
            "projections": self.projections, "served": self.served, "refused": self.refused,
            "max_batch": self.limits.max_batch, "max_wait_ms": self.limits.max_wait_ms,
            "fixed_batch": self.limits.fixed_batch, "max_queue": self.limits.max_queue, "large": self.large,
            "unsent_bytes": self.unsent,
            "batches": {slug: b.stats.batches for slug, b in self.batchers.items()},
            "error": self.load_error,
        }

    async def _readyz(self, scope, query, receive, send) -> None:
        state = self.state()
        await _json(send, 200 if state["ready"] else 503, state)

    async def _spaces(self, scope, query, receive, send) -> None:
        self._check_ready()
        await _json(send, 200, {"spaces": {
            slug: {"layers": s.layers, "dim": s.dim, "version": s.version,
                   "prior": getattr(s, "prior", ""), "coarse_layers": getattr(s, "coarse_layers", 0),
                   "can_project": bool(getattr(s.space, "can_project", False)),
                   "can_move_camera": can_move_camera(s.space),
                   "device": str(s.device)}
            for slug, s in self.spaces.items()
        }})

    async def _render(self, scope, query, receive, send) -> None:
        space = self._space(query)
        size = self._size(query)
        fmt = query.get("format", "raw")
        if fmt not in FORMATS:
            raise HTTPError(400, f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
        shape = _latent_shape(query, space)
        if fmt != "raw" and shape[0] != 1:
            raise HTTPError(400, f"format {fmt} answers one picture: send one latent, or ask "
                                 f"for format=raw to get {shape[0]}")
        _check_work(shape[0], size)
        with self._answer(shape[0] * size * size * 3):
            body = await _body(scope, receive, _nbytes(shape, 4))
            latents = _latents(body, shape)
            pictures = await self._queued(shape[0], size, self.batchers[space.slug].submit,
                                          latents, size)
            if fmt == "raw":
                await self._raw(send, pictures)
                return
            from inference.encode import encode

            data = await asyncio.to_thread(encode, pictures[0], fmt)
            del pictures
            await self._send(send, 200, data, {"Content-Type": FORMATS[fmt]})

    async def _frames(self, scope, query, receive, send) -> None:
        space = self._space(query)
        size = self._size(query)
        shape = _latent_shape(query, space)
        views = query.get("views", "0") == "1"
        if views and not can_move_camera(space.space):
            raise HTTPError(400, f"the {space.slug} space cannot move a camera (no render_view)")
        _check_work(shape[0], size)
        n = shape[0]
        with self._answer(n * size * size * 3):
            await self._frames_of(space, shape, size, views, scope, receive, send)

    async def _frames_of(self, space, shape, size, views, scope, receive, send) -> None:
        n = shape[0]
        body = await _body(scope, receive, _nbytes(shape, 4) + (n * 3 * 4 if views else 0))
        latents = _latents(body[: _nbytes(shape, 4)], shape)
        if not views:
            pictures = await self._queued(n, size, self.batchers[space.slug].submit, latents, size)
        else:
            cameras = np.frombuffer(body, dtype="<f4", offset=_nbytes(shape, 4)).reshape(n, 3)
            if not np.isfinite(cameras).all():
                raise HTTPError(400, "every camera must be three finite numbers (zoom, cx, cy)")

            def by_view():
                return torch.cat([
                    space.render_view(latents[i : i + 1], size, float(z), (float(x), float(y)))
                    for i, (z, x, y) in enumerate(cameras)
                ])

            pictures = await self._queued(n, size, None, by_view)
        await self._raw(send, pictures)

    async def _project(self, scope, query, receive, send) -> None:
        from inference.projection import can_project, project

        space = self._space(query)
        if not can_project(space.space):
            raise HTTPError(400, f"the {space.slug} space cannot project pictures")
        size = self._size(query)
        shape = _shape(query, 3, "height,width,3")
        if shape[2] != 3 or not (1 <= shape[0] <= MAX_TARGET_SIDE and 1 <= shape[1] <= MAX_TARGET_SIDE):
            raise HTTPError(400, f"the target must be (height, width, 3) RGB with sides from 1 "
                                 f"to {MAX_TARGET_SIDE} px, got {shape}")
        options = {"seed": _number(query, "seed", int, 0)}
        if "steps" in query and "budget_s" in query:
            raise HTTPError(400, "give steps or budget_s, not both")
        if "steps" in query:
            options["steps"] = _number(query, "steps", int, None)
            if not 1 <= options["steps"] <= 100_000:
                raise HTTPError(400, f"steps must be from 1 to 100000, got {options['steps']}")
        if "budget_s" in query:
            options["budget_s"] = _number(query, "budget_s", float, None)
            most = self.limits.max_projection_s
            if not (math.isfinite(options["budget_s"]) and 0 < options["budget_s"] <= most):
                raise HTTPError(400, f"budget_s must be from 0 to {most:g} seconds on this "
                                     f"replica, got {query['budget_s']}")
        body = await _body(scope, receive, _nbytes(shape, 1))
        target = torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(shape)
        self._check_ready()
        if self.projections >= self.limits.max_projections:
            raise HTTPError(503, f"{self.projections} projections are running, the most this "
                                 "replica takes: try another or retry later", {"Retry-After": "5"})
        self.projections += 1
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue = asyncio.Queue()
        gone = threading.Event()

        most = self.limits.max_projection_s

        def on_step(step) -> None:
            if gone.is_set():
                raise Disconnected
            if step.elapsed_s > most:
                raise OutOfTime
            loop.call_soon_threadsafe(lines.put_nowait, {
                "step": step.step, "steps": step.steps, "loss": step.loss,
                "elapsed_s": round(step.elapsed_s, 3), "eta_s": round(step.eta_s, 3),
                "latent": _b64(step.latent)})

        def work() -> dict:
            try:
                result = project(space.space, target, size=size, on_step=on_step, **options)
                return {"result": {"latent": _b64(result.latent), "loss": result.loss,
                                   "psnr_db": result.psnr_db, "steps": result.steps}}
            except Disconnected:
                return {"error": "the client went away"}
            except OutOfTime:
                return {"error": f"the projection ran past {most:g} s, the most this replica "
                                 "gives one: ask for budget_s, or fewer steps"}
            except ValueError as exc:
                return {"error": str(exc)}
            except Exception as exc:
                log.exception("projection failed")
                return {"error": f"the projection failed: {type(exc).__name__}"}

        async def watch() -> None:  # the client closing the connection stops the projection
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.create_task(watch())
        job = asyncio.ensure_future(asyncio.to_thread(work))
        try:
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/x-ndjson")]})
            while True:
                getter = asyncio.ensure_future(lines.get())
                await asyncio.wait({getter, job}, return_when=asyncio.FIRST_COMPLETED)
                if getter.done():
                    await self._chunk(send, getter.result())
                    continue
                getter.cancel()
                while not lines.empty():
                    await self._chunk(send, lines.get_nowait())
                await self._chunk(send, job.result())
                await send({"type": "http.response.body", "body": b""})
                self.served += 1
                return
        except OSError:  # the client closed the connection while we wrote
            gone.set()
            await job
        except Stalled:  # the client stopped reading: stop, and let the connection go
            gone.set()
            await job
            raise
        finally:
            watcher.cancel()
            self.projections -= 1

    # -- helpers -------------------------------------------------------------------------

    def _check_ready(self) -> None:
        if self.draining:
            raise HTTPError(503, "this replica is shutting down: try another", {"Retry-After": "1"})
        if not self.ready:
            why = f" ({self.load_error})" if self.load_error else ""
            raise HTTPError(503, f"this replica is still loading its spaces{why}", {"Retry-After": "2"})

    def _space(self, query) -> OnDevice:
        self._check_ready()
        slug = query.get("space")
        if not slug:
            raise HTTPError(400, "say which space: ?space=" + "|".join(self.slugs))
        if slug not in self.spaces:
            raise HTTPError(400, f"this replica serves {', '.join(self.slugs)}, not {slug!r}")
        return self.spaces[slug]

    def _check_token(self, scope) -> None:
        given = dict(scope["headers"]).get(b"authorization")
        if given is None:
            raise HTTPError(401, "this replica needs its shared token: send "
                                 "Authorization: Bearer <INFERENCE_TOKEN>", {"WWW-Authenticate": "Bearer"})
        assert self._bearer is not None  # checked by the caller
        if not hmac.compare_digest(given, self._bearer):
            raise HTTPError(401, "the token does not match this replica's INFERENCE_TOKEN",
                            {"WWW-Authenticate": "Bearer"})

    def _size(self, query) -> int:
        size = _size(query)
        if size > self.limits.max_size:
            raise HTTPError(413, f"pictures are at most {self.limits.max_size} px a side on this "
                                 f"replica, got {size}")
        return size

    @contextlib.contextmanager
    def _answer(self, nbytes: int):
        """Room for an answer of ``nbytes`` among those not yet read by their clients
        (503 when there is none), held until it has been sent or the request failed."""
        most = int(self.limits.max_unsent_mb * 2**20)
        if self.unsent + nbytes > most:
            raise HTTPError(503, f"{self.unsent / 2**20:.0f} MB of answers are waiting for their "
                                 f"clients to read them, the most this replica holds is "
                                 f"{self.limits.max_unsent_mb:g} MB: retry later",
                            {"Retry-After": "5"})
        self.unsent += nbytes
        try:
            yield
        finally:
            self.unsent -= nbytes

    async def _queued(self, n: int, size: int, submit, *args) -> torch.Tensor:
        """Render ``n`` pictures of ``size`` px unless the queue is full, or too many large
        renders run (503)."""
        if self.waiting + n > self.limits.max_queue:
            wait_s = max(1, math.ceil(self.waiting / max(1, self.limits.max_batch) * 0.1))
            raise HTTPError(503, f"{self.waiting} pictures are waiting, the most this replica "
                                 "queues: try another or retry later", {"Retry-After": str(wait_s)})
        large = n * size * size / 1e6 >= LARGE_MPX
        if large and self.large >= self.limits.max_large:
            raise HTTPError(503, f"{self.large} large renders ({LARGE_MPX:g} megapixels or more) "
                                 "are running, the most this replica takes at once: try another, "
                                 "retry later or ask for fewer or smaller pictures",
                            {"Retry-After": "5"})
        self.waiting += n
        self.large += large
        try:
            if submit is None:
                pictures = await asyncio.to_thread(*args)
            else:
                pictures = await asyncio.wrap_future(submit(*args))
        except ValueError as exc:  # the space's own checks: the request's fault
            raise HTTPError(400, str(exc)) from None
        finally:
            self.waiting -= n
            self.large -= large
        self.served += 1
        return pictures

    async def _send(self, send, status: int, body: bytes, headers: dict[str, str]) -> None:
        await _send(send, status, body, headers, self.limits.send_timeout_s)

    async def _raw(self, send, pictures: torch.Tensor) -> None:
        await _raw(send, pictures, self.limits.send_timeout_s)

    async def _chunk(self, send, line: dict) -> None:
        await _within(send({"type": "http.response.body", "body": json.dumps(line).encode() + b"\n",
                            "more_body": True}), self.limits.send_timeout_s)


# -- parsing ---------------------------------------------------------------------------


def _shape(query, parts: int, what: str) -> tuple[int, ...]:
    raw = query.get("shape")
    if raw is None:
        raise HTTPError(400, f"say the shape of the body: ?shape={what}")
    try:
        shape = tuple(int(p) for p in raw.split(","))
    except ValueError:
        raise HTTPError(400, f"shape must be {parts} whole numbers ({what}), got {raw!r}") from None
    if len(shape) != parts or min(shape) < 1:
        raise HTTPError(400, f"shape must be {parts} positive whole numbers ({what}), got {raw!r}")
    return shape


def _latent_shape(query, space) -> tuple[int, int, int]:
    shape = _shape(query, 3, f"n,{space.layers},{space.dim}")
    if shape[1:] != (space.layers, space.dim):
        raise HTTPError(400, f"latents of the {space.slug} space have shape (n, {space.layers}, "
                             f"{space.dim}), got {shape}")
    if shape[0] > MAX_PICTURES:
        raise HTTPError(413, f"at most {MAX_PICTURES} pictures a request, got {shape[0]}")
    return shape


def _size(query) -> int:
    raw = query.get("size")
    try:
        return check_size(int(raw) if raw is not None and raw.lstrip("-").isdigit() else raw)
    except ValueError as exc:
        raise HTTPError(400, str(exc)) from None


def _number(query, name: str, kind, default):
    raw = query.get(name)
    if raw is None:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise HTTPError(400, f"{name} must be a number, got {raw!r}") from None


def _check_work(n: int, size: int) -> None:
    megapixels = n * size * size / 1e6
    if megapixels > MAX_MEGAPIXELS:
        raise HTTPError(413, f"{n} pictures at {size} px are {megapixels:.0f} megapixels; at "
                             f"most {MAX_MEGAPIXELS:.0f} a request")


def _nbytes(shape, itemsize: int) -> int:
    return math.prod(shape) * itemsize


def _latents(body: bytes, shape) -> torch.Tensor:
    latents = torch.frombuffer(bytearray(body), dtype=torch.float32).reshape(shape)
    if not torch.isfinite(latents).all():
        raise HTTPError(400, "latents must be finite numbers (no NaN or infinity)")
    return latents


async def _body(scope, receive, expected: int) -> bytes:
    """Exactly ``expected`` bytes, or 400/413 before reading more than that."""
    headers = dict(scope["headers"])
    declared = headers.get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) != expected:
        status = 413 if int(declared) > expected else 400
        raise HTTPError(status, f"the body must be {expected} bytes for that shape, "
                                f"got {int(declared)}")
    parts, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise HTTPError(400, "the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > expected:
            raise HTTPError(413, f"the body must be {expected} bytes for that shape, got more")
        parts.append(chunk)
        if not message.get("more_body"):
            break
    if size != expected:
        raise HTTPError(400, f"the body must be {expected} bytes for that shape, got {size}")
    return b"".join(parts)


def _b64(tensor: torch.Tensor) -> str:
    return base64.b64encode(tensor.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()).decode()


# -- answering -------------------------------------------------------------------------


async def _within(sending, timeout_s: float) -> None:
    """One ``send``; Stalled when the client has not taken the previous part within
    ``timeout_s`` (the server waits for its write buffer to drain before writing more)."""
    try:
        await asyncio.wait_for(sending, timeout_s)
    except TimeoutError:
        raise Stalled from None


async def _send(send, status: int, body, headers: dict[str, str], timeout_s: float = 30.0) -> None:
    """The answer, in parts of ``SEND_CHUNK`` bytes: what waits in the server's buffer for a
    client that does not read is one part, not the whole answer."""
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    view = memoryview(body).cast("B")
    raw.append((b"content-length", str(len(view)).encode()))
    await _within(send({"type": "http.response.start", "status": status, "headers": raw}), timeout_s)
    start = 0
    while True:
        part = bytes(view[start : start + SEND_CHUNK])
        start += len(part)
        more = start < len(view)
        await _within(send({"type": "http.response.body", "body": part, "more_body": more}),
                      timeout_s)
        if not more:
            return


async def _json(send, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
    await _send(send, status, json.dumps(body).encode(),
                {"Content-Type": "application/json", **(headers or {})})


async def _raw(send, pictures: torch.Tensor, timeout_s: float = 30.0) -> None:
    shape = ",".join(str(d) for d in pictures.shape)
    await _send(send, 200, pictures.contiguous().numpy(),
                {"Content-Type": FORMATS["raw"], "X-Shape": shape}, timeout_s)


def serve(spaces: list[str], host: str = "127.0.0.1", port: int = 8100, limits: Limits | None = None,
          device: str = "auto", precision: str = "fp32", graceful_s: float = 30.0,
          token: str | None = None) -> None:
    """Run the service until SIGTERM or SIGINT; requests in flight then finish (up to
    ``graceful_s`` seconds) while readiness answers 503. Bound beyond loopback, it needs
    ``token`` (ValueError before the port opens)."""
    import uvicorn

    check_exposure(host, token)
    for slug in spaces:
        get_space(slug)  # an unknown slug fails here, before the port opens
    app = Service(spaces, limits, device, precision, token)

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:
            app.drain()
            super().handle_exit(sig, frame)

    config = uvicorn.Config(app, host=host, port=port, lifespan="on", log_level="warning",
                            access_log=False, timeout_graceful_shutdown=graceful_s,
                            timeout_keep_alive=30)
    Server(config).run()
