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
carries ``cpu_s``: the process CPU seconds its pictures took in its pass, what rendering
it actually cost, for budgets that charge by measured cost.

Each request is answered as soon as its own pictures are painted, not at the end of its
pass, in spaces that paint picture by picture (``inference.space.render_each``): of eight
children rendered in one pass, the first is on its way after an eighth of the pass.

Thumbnails first: a picture of at most ``URGENT_MAX_SIZE`` px (a grid's thumbnails, a gene
slider's previews: what a person watches appear) goes before larger ones (downloads, a
studio's 1024 px picture, video frames), which otherwise held the small ones up for seconds
each. So that large pictures are never starved, they get a share of the rendering time
(``bulk_share``) whenever both kinds wait: a thumbnail then waits for at most one pass of
large pictures, and downloads still go at a quarter of the machine under a flood of
thumbnails (and at all of it when there are none). A pass is all small or all large.
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

from inference.space import Space, check_latents, check_size, render_each

log = logging.getLogger(__name__)


class RenderFuture(Future):
    """A render's future; once it is done, ``cpu_s`` is what rendering it cost: the process
    CPU seconds of its pass from the previous picture ready to its own last one."""

    cpu_s: float | None = None


#: Pictures of at most this many pixels a side go first (see the module's docstring).
URGENT_MAX_SIZE = 256
#: The share of the rendering time large pictures get while small ones wait too.
BULK_SHARE = 0.25
#: How much of the time spent so far each pass keeps: the shares are those of the last
#: few passes.
SPENT_DECAY = 0.8


@dataclass
class _Request:
    latents: torch.Tensor
    size: int
    who: Hashable = None
    urgent: bool = True
    future: RenderFuture = field(default_factory=RenderFuture)

    @property
    def pixels(self) -> int:
        return self.latents.shape[0] * self.size * self.size


_CLOSED = object()  # the queue is closed and empty
_NOT_NOW = object()  # nothing waiting that fits (or the deadline passed)


class _Lane:
    """One class of requests (small or large), one queue per person, served in turn."""

    def __init__(self) -> None:
        self.queues: dict[Hashable, deque[_Request]] = {}
        self.turns: deque[Hashable] = deque()  # people with requests waiting, next first

    def put(self, request: _Request) -> None:
        waiting = self.queues.get(request.who)
        if waiting is None:
            waiting = self.queues[request.who] = deque()
            self.turns.append(request.who)
        waiting.append(request)

    def head(self) -> _Request:
        return self.queues[self.turns[0]][0]

    def take(self) -> _Request:
        who = self.turns.popleft()
        waiting = self.queues[who]
        request = waiting.popleft()
        if waiting:
            self.turns.append(who)  # to the back of the line
        else:
            del self.queues[who]
        return request


class FairQueue:
    """Waiting requests, small pictures before large ones (these get ``bulk_share`` of the
    time while both wait), and in each, one queue per person, served in turn: ``get`` takes
    the oldest request of the person whose turn it is, then that person goes to the back of
    the line."""

    def __init__(self, bulk_share: float = BULK_SHARE) -> None:
        self._ready = threading.Condition()
        self._urgent = _Lane()
        self._bulk = _Lane()
        self._bulk_share = bulk_share
        # Rendering seconds lately spent on each kind: each pass counts, the older ones less
        # (by SPENT_DECAY a pass), so neither kind earns a long turn from the past.
        self._spent = {True: 0.0, False: 0.0}
        self._closed = False

    def put(self, request: _Request) -> None:
        with self._ready:
            (self._urgent if request.urgent else self._bulk).put(request)
            self._ready.notify()

    def spent(self, urgent: bool, seconds: float) -> None:
        """A pass of that kind of request took ``seconds``."""
        with self._ready:
            for kind in self._spent:
                self._spent[kind] *= SPENT_DECAY
            self._spent[urgent] += seconds

    def close(self) -> None:
        """No more requests: those waiting are still served, then ``get`` answers _CLOSED."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    def empty(self) -> bool:
        with self._ready:
            return not self._urgent.turns and not self._bulk.turns

    def waiting(self, who: Hashable) -> int:
        """How many of ``who``'s requests wait."""
        with self._ready:
            return sum(len(lane.queues.get(who, ())) for lane in (self._urgent, self._bulk))

    def _next_lane(self) -> _Lane:
        if not self._bulk.turns:
            return self._urgent
        if not self._urgent.turns:
            return self._bulk
        bulk, urgent = self._spent[False], self._spent[True]
        return self._bulk if bulk < self._bulk_share * (bulk + urgent) else self._urgent

    def get(self, deadline: float | None = None,
            fits: Callable[[_Request], bool] = lambda r: True):
        """The next request in turn; _NOT_NOW if it does not ``fit`` (it stays first in
        line) or nothing came by ``deadline`` (``time.monotonic``); _CLOSED once closed and
        empty."""
        with self._ready:
            while not self._urgent.turns and not self._bulk.turns:
                if self._closed:
                    return _CLOSED
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return _NOT_NOW
                self._ready.wait(remaining)
            lane = self._next_lane()
            if not fits(lane.head()):
                return _NOT_NOW
            return lane.take()


@dataclass
class BatcherStats:
    requests: int = 0
    batches: int = 0  # forward passes
    largest: int = 0  # most pictures in one pass
    waited: int = 0  # passes that waited for company (the others went at once)


class RenderBatcher:
    """Thread-safe front of one space's ``render`` that merges concurrent calls."""

    def __init__(self, space: Space, max_batch: int = 16, max_wait_ms: float = 5.0,
                 max_pixels: int | None = None, bulk_share: float = BULK_SHARE) -> None:
        """``max_pixels``: the most pixels one pass takes (a larger single request goes
        alone); None for no bound but ``max_batch``. ``bulk_share``: the share of the time
        large pictures get while small ones wait too."""
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
        self._queue = FairQueue(bulk_share)
        # Was the last pass one request that found nobody queued behind it? Then callers come
        # one at a time, and the next lone one goes at once instead of waiting for nobody.
        self._lone = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- callers -------------------------------------------------------------------------

    def submit(self, latents: torch.Tensor, size: int, who: Hashable = None,
               urgent: bool | None = None) -> RenderFuture:
        """Queue a render for ``who`` (served in turn with other people's); the future
        resolves to (n, size, size, 3) uint8. ``urgent``: does a person watch for it (by
        default, a picture of at most ``URGENT_MAX_SIZE`` px does)?"""
        # Bad input fails here, in the caller, and never reaches a shared batch.
        latents = check_latents(latents, self.space.layers, self.space.dim)
        size = check_size(size)
        request = _Request(latents, size, who, size <= URGENT_MAX_SIZE if urgent is None else urgent)
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

    def render(self, latents: torch.Tensor, size: int, who: Hashable = None,
               urgent: bool | None = None) -> torch.Tensor:
        return self.submit(latents, size, who, urgent).result()

    async def render_async(self, latents: torch.Tensor, size: int, who: Hashable = None,
                           urgent: bool | None = None) -> torch.Tensor:
        return await asyncio.wrap_future(self.submit(latents, size, who, urgent))

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
            return item.urgent == first.urgent and count + item.latents.shape[0] <= self.max_batch and (
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
            started = time.perf_counter()
            handing = _Handing(requests)
            try:
                render_each(self.space, stacked, size, handing.ready)
            except Exception as exc:  # every caller of this pass still waiting hears of it
                if threading.main_thread().is_alive():  # not merely the process exiting
                    log.exception("render of %d pictures at %d px failed", len(stacked), size)
                for r in requests:
                    if not r.future.done():
                        r.future.set_exception(exc)
                continue
            self._queue.spent(requests[0].urgent, time.perf_counter() - started)
            self.stats.batches += 1
            self.stats.largest = max(self.stats.largest, len(stacked))


class _Handing:
    """Hands each request of a pass its pictures as soon as the last of them is painted
    (``ready(b, picture)`` for picture b of the stacked latents), with what they cost: the
    process CPU time since the pass's previous picture was ready (the space may render on
    threads of its own; whatever else the process does meanwhile is counted too, so a busy
    machine charges more). Over a pass, the costs add up to its CPU time."""

    def __init__(self, requests: list[_Request]) -> None:
        self._lock = threading.Lock()
        self._owner: list[tuple[_Request, int]] = []  # picture b: (its request, its index there)
        for r in requests:
            self._owner.extend((r, i) for i in range(r.latents.shape[0]))
        self._parts: dict[int, list] = {id(r): [None] * r.latents.shape[0] for r in requests}
        self._cost: dict[int, float] = dict.fromkeys(self._parts, 0.0)
        self._clock = time.process_time()

    def ready(self, b: int, picture: torch.Tensor) -> None:
        request, i = self._owner[b]
        with self._lock:
            now = time.process_time()
            self._cost[id(request)] += now - self._clock
            self._clock = now
            parts = self._parts[id(request)]
            parts[i] = picture
            complete = all(p is not None for p in parts)
        if complete:
            request.future.cpu_s = self._cost[id(request)]
            request.future.set_result(parts[0] if len(parts) == 1 else torch.cat(parts))
