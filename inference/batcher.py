"""Dynamic batching of renders: calls that arrive close together share one forward pass.

A web process gets many small render requests at once (a grid of children, a slider
preview from each visitor). Rendering them one by one wastes the matrix units; stacking
them costs a few milliseconds of waiting. ``RenderBatcher`` runs one thread per space that
takes the first waiting request, gathers more for up to ``max_wait_ms`` or until
``max_batch`` pictures, renders each size in one call, and hands every caller its own
pictures back. After a pass of one request that found nobody queued, the next lone
request goes at once: one caller at a time would otherwise wait for nobody every time.
Since the abstract space computes a picture identically alone or in a batch, batching
never changes pixels.

Fair between people: each request may name who it is for (``who``, any hashable: a user,
an address), and waiting requests queue per person, served in turn (round-robin), not in
order of arrival. One person with a hundred large pictures waiting then delays another's
thumbnail by at most one pass, whose work ``max_pixels`` bounds. Each request's future
carries ``cpu_s``: the process CPU seconds of its share of its pass (by pixels), what
rendering it actually cost, for budgets that charge by measured cost.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass, field

import torch

from inference.space import Space, check_latents, check_size

log = logging.getLogger(__name__)


class RenderFuture(Future):
    """A render's future; once it is done, ``cpu_s`` is what rendering it cost: the process
    CPU seconds of its pass, shared between the pass's requests by their pixels."""

    cpu_s: float | None = None


@dataclass
class _Request:
    latents: torch.Tensor
    size: int
    who: Hashable = None
    future: RenderFuture = field(default_factory=RenderFuture)

    @property
    def pixels(self) -> int:
        return self.latents.shape[0] * self.size * self.size


_CLOSED = object()  # the queue is closed and empty
_NOT_NOW = object()  # nothing waiting that fits (or the deadline passed)


class FairQueue:
    """Waiting requests, one queue per person, served in turn: ``get`` takes the oldest
    request of the person whose turn it is, then that person goes to the back of the line."""

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._queues: dict[Hashable, deque[_Request]] = {}
        self._turns: deque[Hashable] = deque()  # people with requests waiting, next first
        self._closed = False

    def put(self, request: _Request) -> None:
        with self._ready:
            waiting = self._queues.get(request.who)
            if waiting is None:
                waiting = self._queues[request.who] = deque()
                self._turns.append(request.who)
            waiting.append(request)
            self._ready.notify()

    def close(self) -> None:
        """No more requests: those waiting are still served, then ``get`` answers _CLOSED."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    def empty(self) -> bool:
        with self._ready:
            return not self._turns

    def waiting(self, who: Hashable) -> int:
        """How many of ``who``'s requests wait."""
        with self._ready:
            return len(self._queues.get(who, ()))

    def get(self, deadline: float | None = None,
            fits: Callable[[_Request], bool] = lambda r: True):
        """The next request in turn; _NOT_NOW if it does not ``fit`` (it stays first in
        line) or nothing came by ``deadline`` (``time.monotonic``); _CLOSED once closed and
        empty."""
        with self._ready:
            while not self._turns:
                if self._closed:
                    return _CLOSED
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return _NOT_NOW
                self._ready.wait(remaining)
            who = self._turns[0]
            waiting = self._queues[who]
            if not fits(waiting[0]):
                return _NOT_NOW
            request = waiting.popleft()
            self._turns.popleft()
            if waiting:
                self._turns.append(who)  # to the back of the line
            else:
                del self._queues[who]
            return request


@dataclass
class BatcherStats:
    requests: int = 0
    batches: int = 0  # forward passes
    largest: int = 0  # most pictures in one pass
    waited: int = 0  # passes that waited for company (the others went at once)


class RenderBatcher:
    """Thread-safe front of one space's ``render`` that merges concurrent calls."""

    def __init__(self, space: Space, max_batch: int = 16, max_wait_ms: float = 5.0,
                 max_pixels: int | None = None) -> None:
        """``max_pixels``: the most pixels one pass takes (a larger single request goes
        alone); None for no bound but ``max_batch``."""
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must not be negative, got {max_wait_ms}")
        if max_pixels is not None and max_pixels < 1:
            raise ValueError(f"max_pixels must be at least 1, got {max_pixels}")
        self.space = space
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000
        self.max_pixels = max_pixels
        self.stats = BatcherStats()
        self._queue = FairQueue()
        # Was the last pass one request that found nobody queued behind it? Then callers come
        # one at a time, and the next lone one goes at once instead of waiting for nobody.
        self._lone = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- callers -------------------------------------------------------------------------

    def submit(self, latents: torch.Tensor, size: int, who: Hashable = None) -> RenderFuture:
        """Queue a render for ``who`` (served in turn with other people's); the future
        resolves to (n, size, size, 3) uint8."""
        # Bad input fails here, in the caller, and never reaches a shared batch.
        latents = check_latents(latents, self.space.layers, self.space.dim)
        size = check_size(size)
        request = _Request(latents, size, who)
        with self._lock:
            if self._closed:
                raise RuntimeError("the render batcher is closed")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"render-{self.space.slug}", daemon=True
                )
                self._thread.start()
            self.stats.requests += 1
        self._queue.put(request)
        return request.future

    def render(self, latents: torch.Tensor, size: int, who: Hashable = None) -> torch.Tensor:
        return self.submit(latents, size, who).result()

    async def render_async(self, latents: torch.Tensor, size: int, who: Hashable = None) -> torch.Tensor:
        return await asyncio.wrap_future(self.submit(latents, size, who))

    def waiting(self, who: Hashable) -> int:
        """How many of ``who``'s requests wait for a pass."""
        return self._queue.waiting(who)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            thread = self._thread
        self._queue.close()
        if thread is not None:
            thread.join()

    # -- the worker thread ---------------------------------------------------------------

    def _run(self) -> None:
        while True:
            batch = self._gather()
            if batch is None:
                return
            self._render(batch)

    def _gather(self) -> list[_Request] | None:
        first = self._queue.get()
        if first is _CLOSED:
            return None
        batch, count, pixels = [first], first.latents.shape[0], first.pixels
        # Wait for company only where there has been some: one client at a time would wait
        # max_wait for nothing on every pass (a quarter of a GPU's throughput at 256 px).
        # Requests already queued still join; under load passes gather again at once.
        alone = self._lone and self._queue.empty()
        deadline = time.monotonic() + (0.0 if alone else self.max_wait)
        if not alone and self.max_wait > 0:
            self.stats.waited += 1
        def fits(item: _Request) -> bool:  # else it opens the next batch
            return count + item.latents.shape[0] <= self.max_batch and (
                self.max_pixels is None or pixels + item.pixels <= self.max_pixels)

        while count < self.max_batch:
            item = self._queue.get(deadline, fits)
            if item is _NOT_NOW or item is _CLOSED:  # (closed: this batch goes now)
                break
            batch.append(item)
            count += item.latents.shape[0]
            pixels += item.pixels
        self._lone = len(batch) == 1
        return batch

    def _render(self, batch: list[_Request]) -> None:
        by_size: dict[int, list[_Request]] = {}
        for request in batch:
            by_size.setdefault(request.size, []).append(request)
        for size, requests in by_size.items():
            stacked = torch.cat([r.latents for r in requests])
            # Process CPU time: the space may render on threads of its own. Whatever else
            # the process does meanwhile is counted too, so a busy machine charges more.
            cpu = time.process_time()
            try:
                images = self.space.render(stacked, size)
            except Exception as exc:  # every caller of this pass hears of it
                if threading.main_thread().is_alive():  # not merely the process exiting
                    log.exception("render of %d pictures at %d px failed", len(stacked), size)
                for r in requests:
                    r.future.set_exception(exc)
                continue
            cpu = time.process_time() - cpu
            self.stats.batches += 1
            self.stats.largest = max(self.stats.largest, len(stacked))
            start = 0
            for r in requests:
                n = r.latents.shape[0]
                r.future.cpu_s = cpu * n / len(stacked)
                r.future.set_result(images[start : start + n])
                start += n
