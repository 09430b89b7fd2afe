"""The client of the inference service: render, frames and projection on remote replicas.

``Replicas`` holds one keep-alive connection pool (httpx) to every replica and picks them
in turn. A request that fails on one replica (no connection, a timeout, a 5xx, or 503
because its queue is full) is tried on the next; a 400 is the caller's mistake and is
raised at once as ``ValueError``, with the service's sentence. A replica that fails
``failures_to_open`` times in a row is taken out for ``open_s`` seconds (a circuit
breaker); after that one request tries it again, and a success puts it back. With a
``token`` every request carries it as a bearer token (the replicas' ``INFERENCE_TOKEN``).

``RemoteRenderer`` has the API of ``RenderBatcher`` (``submit(latents, size) -> Future``,
``render``, ``render_async``, ``close``) plus ``frames`` for videos and ``project`` with the
signature of ``inference.projection.project``; ``RemoteSpace`` is a space whose
``render`` and ``render_view`` go to the service, everything else being the local space's.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import numpy as np
import torch

from inference.space import Space, check_latents, check_size

log = logging.getLogger(__name__)


class InferenceUnavailable(RuntimeError):
    """No replica could do the work (all out, down, or full)."""


@dataclass
class Replica:
    url: str
    failures: int = 0  # in a row
    out_until: float = 0.0  # monotonic time; out of the rotation before it
    last_error: str = ""
    trial: bool = False  # one request is trying it after a time out

    def state(self, now: float) -> dict:
        out = self.out_until > now
        return {"state": "out" if out else "in", "failures": self.failures,
                "back_in_s": round(self.out_until - now, 1) if out else 0.0,
                "last_error": self.last_error}


class Replicas:
    """The inference replicas, with their circuit breakers and one connection pool."""

    def __init__(self, urls: list[str], *, timeout_s: float = 60.0, connect_timeout_s: float = 2.0,
                 failures_to_open: int = 3, open_s: float = 30.0, max_connections: int = 64,
                 token: str | None = None) -> None:
        if not urls:
            raise ValueError("give at least one inference replica URL")
        self.replicas = [Replica(url.rstrip("/")) for url in urls]
        self.failures_to_open = failures_to_open
        self.open_s = open_s
        self.http = httpx.Client(
            # the replicas' shared secret (INFERENCE_TOKEN), on every request
            headers={"Authorization": f"Bearer {token}"} if token else None,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            limits=httpx.Limits(max_connections=max_connections,
                                max_keepalive_connections=max_connections,
                                # below the service's 30 s, so the client lets an idle
                                # connection go before the replica closes it under a request
                                keepalive_expiry=20),
        )
        self._lock = threading.Lock()
        self._next = 0

    def close(self) -> None:
        self.http.close()

    # -- choosing ------------------------------------------------------------------------

    def order(self) -> list[Replica]:
        """The replicas to try, in turn: those in first (round robin), then one that is out
        but whose time is up (a trial). Empty when every replica is out."""
        now = time.monotonic()
        with self._lock:
            start = self._next
            self._next = (self._next + 1) % len(self.replicas)
            turn = self.replicas[start:] + self.replicas[:start]
            ready = [r for r in turn if r.failures < self.failures_to_open]
            for r in turn:
                if r.failures >= self.failures_to_open and r.out_until <= now and not r.trial:
                    r.trial = True
                    ready.append(r)
                    break
            return ready

    def _failed(self, replica: Replica, why: str) -> None:
        with self._lock:
            replica.failures += 1
            replica.last_error = why
            replica.trial = False
            if replica.failures >= self.failures_to_open:
                if replica.out_until <= time.monotonic():
                    log.warning("inference replica %s is out for %.0f s after %d failures: %s",
                                replica.url, self.open_s, replica.failures, why)
                replica.out_until = time.monotonic() + self.open_s

    def lost(self, response: httpx.Response, why: str) -> None:
        """The replica that sent ``response`` failed midway (a stream broke off)."""
        url = str(response.request.url)
        for replica in self.replicas:
            if url.startswith(replica.url + "/"):
                self._failed(replica, why)

    def _succeeded(self, replica: Replica) -> None:
        with self._lock:
            if replica.failures >= self.failures_to_open:
                log.info("inference replica %s is back", replica.url)
            replica.failures, replica.out_until, replica.trial = 0, 0.0, False

    def states(self) -> dict[str, dict]:
        now = time.monotonic()
        with self._lock:
            return {r.url: r.state(now) for r in self.replicas}

    # -- calling -------------------------------------------------------------------------

    def request(self, method: str, path: str, *, params=None, content: bytes | None = None,
                stream: bool = False) -> httpx.Response:
        """The first good answer among the replicas; a streamed one must be closed by the
        caller. ValueError on a 4xx, InferenceUnavailable when none answered."""
        tried = []
        replicas = self.order()
        if not replicas:
            states = self.states()
            soonest = min(s["back_in_s"] for s in states.values())
            raise InferenceUnavailable(
                f"every inference replica is out after repeated failures; the first is tried "
                f"again in {soonest:.0f} s")
        for replica in replicas:
            request = self.http.build_request(method, replica.url + path, params=params,
                                              content=content)
            try:
                response = self.http.send(request, stream=stream)
            except httpx.TransportError as exc:
                why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                self._failed(replica, why)
                tried.append(f"{replica.url} ({why})")
                continue
            if response.status_code < 400:
                self._succeeded(replica)
                return response
            if stream:
                response.read()
            message = _error_of(response)
            if response.status_code in (400, 413):
                self._succeeded(replica)  # it answered; the request was wrong
                raise ValueError(message)
            if response.status_code == 503:  # full or starting: not a fault, try another
                with self._lock:
                    replica.trial = False
            else:
                self._failed(replica, f"{response.status_code}: {message}")
            tried.append(f"{replica.url} ({response.status_code}: {message})")
        raise InferenceUnavailable("no inference replica could do it: " + "; ".join(tried))

    def probe(self, timeout_s: float = 1.0) -> dict[str, str]:
        """Each replica's readiness now (``/readyz``), feeding the circuit breakers."""
        found = {}
        for replica in self.replicas:
            try:
                response = self.http.get(replica.url + "/readyz", timeout=timeout_s)
            except httpx.TransportError as exc:
                self._failed(replica, type(exc).__name__)
                found[replica.url] = f"did not answer ({type(exc).__name__})"
                continue
            if response.status_code == 200:
                found[replica.url] = "ready"
                with self._lock:
                    if replica.failures < self.failures_to_open:  # an out one waits its time
                        replica.failures = 0
            else:
                found[replica.url] = "not ready"
        return found


def _error_of(response: httpx.Response) -> str:
    try:
        return response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason_phrase


def _latent_bytes(latents: torch.Tensor) -> bytes:
    return latents.detach().to(torch.float32).contiguous().numpy().astype("<f4", copy=False).tobytes()


def _pictures(response: httpx.Response) -> torch.Tensor:
    shape = tuple(int(d) for d in response.headers["x-shape"].split(","))
    return torch.frombuffer(bytearray(response.content), dtype=torch.uint8).reshape(shape)


def _latent_of(text: str, layers: int, dim: int) -> torch.Tensor:
    raw = np.frombuffer(base64.b64decode(text), dtype="<f4").astype(np.float32)
    return torch.from_numpy(raw.copy()).reshape(layers, dim)


class RemoteRenderer:
    """One space's renders on the inference replicas, with ``RenderBatcher``'s API.

    ``submit`` returns at once; the request runs on a thread of this renderer (as many as
    the connection pool holds), and the service batches it with everyone else's.
    """

    def __init__(self, replicas: Replicas, space: Space, threads: int = 32) -> None:
        self.replicas = replicas
        self.space = space
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"remote-{space.slug}")

    def _params(self, latents: torch.Tensor, size: int, **extra) -> dict:
        shape = ",".join(str(d) for d in latents.shape)
        return {"space": self.space.slug, "shape": shape, "size": str(size), **extra}

    def render(self, latents: torch.Tensor, size: int) -> torch.Tensor:
        """(n, layers, dim) latents -> (n, size, size, 3) uint8 pictures, rendered remotely."""
        latents = check_latents(latents, self.space.layers, self.space.dim)
        size = check_size(size)
        response = self.replicas.request("POST", "/v1/render", content=_latent_bytes(latents),
                                         params=self._params(latents, size, format="raw"))
        return _pictures(response)

    def submit(self, latents: torch.Tensor, size: int) -> Future:
        latents = check_latents(latents, self.space.layers, self.space.dim)  # fails here
        size = check_size(size)
        return self._pool.submit(self.render, latents, size)

    async def render_async(self, latents: torch.Tensor, size: int) -> torch.Tensor:
        return await asyncio.wrap_future(self.submit(latents, size))

    def frames(self, latents: torch.Tensor, size: int,
               views: list[tuple[float, float, float]] | None = None) -> torch.Tensor:
        """A batch of video frames, each through its camera (zoom, cx, cy) when ``views``
        is given (spaces with ``render_view``)."""
        latents = check_latents(latents, self.space.layers, self.space.dim)
        size = check_size(size)
        body = _latent_bytes(latents)
        params = self._params(latents, size)
        if views is not None:
            if len(views) != latents.shape[0]:
                raise ValueError(f"views must give one camera per frame: {len(views)} for "
                                 f"{latents.shape[0]} frames.")
            body += np.asarray(views, dtype="<f4").reshape(-1, 3).tobytes()
            params["views"] = "1"
        return _pictures(self.replicas.request("POST", "/v1/frames", params=params, content=body))

    def project(self, space, target, *, size: int = 128, seed: int = 0,
                on_step: Callable | None = None, budget_s: float | None = None,
                steps: int | None = None):
        """``inference.projection.project`` on a replica: progress comes back line by line
        and goes to ``on_step``; what ``on_step`` raises closes the connection (which stops
        the projection there) and propagates. A replica lost midway is replaced by another,
        which starts over."""
        from inference.projection import ProjectionResult, ProjectionStep

        target = _target_array(target)
        params = {"space": self.space.slug, "shape": ",".join(map(str, target.shape)),
                  "size": str(check_size(size)), "seed": str(int(seed))}
        if steps is not None:
            params["steps"] = str(steps)
        if budget_s is not None:
            params["budget_s"] = repr(float(budget_s))
        layers, dim = self.space.layers, self.space.dim
        for _attempt in range(len(self.replicas.replicas)):
            response = self.replicas.request("POST", "/v1/project", params=params,
                                             content=target.tobytes(), stream=True)
            try:
                for line in response.iter_lines():
                    if not line:
                        continue
                    item = json.loads(line)
                    if "result" in item:
                        found = item["result"]
                        return ProjectionResult(
                            latent=_latent_of(found["latent"], layers, dim), loss=found["loss"],
                            psnr_db=found["psnr_db"], steps=found["steps"])
                    if "error" in item:
                        raise ValueError(item["error"])
                    if on_step is not None:
                        on_step(ProjectionStep(
                            step=item["step"], steps=item["steps"], loss=item["loss"],
                            latent=_latent_of(item["latent"], layers, dim),
                            elapsed_s=item["elapsed_s"], eta_s=item["eta_s"]))
            except httpx.TransportError as exc:
                log.warning("projection lost its replica (%s); starting over on another", exc)
                self.replicas.lost(response, f"{type(exc).__name__} while projecting")
            finally:
                response.close()
        raise InferenceUnavailable("the projection failed on every inference replica")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _target_array(target) -> np.ndarray:
    array = target.numpy() if isinstance(target, torch.Tensor) else np.asarray(target)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"the target picture must be (height, width, 3) uint8, got "
                         f"{array.shape} {array.dtype}")
    return np.ascontiguousarray(array)


class RemoteSpace:
    """A local space whose pictures are rendered by the inference service: ``render`` and
    ``render_view`` go to the replicas; sampling, statistics and the rest stay local."""

    def __init__(self, space: Space, renderer: RemoteRenderer) -> None:
        self.local = space
        self.renderer = renderer

    def render(self, latents: torch.Tensor, size: int) -> torch.Tensor:
        return self.renderer.render(latents, size)

    def __getattr__(self, name):
        if name == "render_view" and callable(getattr(self.local, "render_view", None)):
            return self._render_view
        return getattr(self.local, name)

    def _render_view(self, latents: torch.Tensor, size: int, zoom: float = 1.0,
                     centre: tuple[float, float] = (0.0, 0.0)) -> torch.Tensor:
        latents = check_latents(latents, self.local.layers, self.local.dim)
        views = [(float(zoom), float(centre[0]), float(centre[1]))] * latents.shape[0]
        return self.renderer.frames(latents, size, views)
