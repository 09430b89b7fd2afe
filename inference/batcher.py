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
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

import torch

from inference.space import Space, check_latents, check_size

log = logging.getLogger(__name__)


@dataclass
class _Request:
    latents: torch.Tensor
    size: int
    future: Future = field(default_factory=Future)


@dataclass
class BatcherStats:
    requests: int = 0
    batches: int = 0  # forward passes
    largest: int = 0  # most pictures in one pass
    waited: int = 0  # passes that waited for company (the others went at once)


class RenderBatcher:
    """Thread-safe front of one space's ``render`` that merges concurrent calls."""

    def __init__(self, space: Space, max_batch: int = 16, max_wait_ms: float = 5.0) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must not be negative, got {max_wait_ms}")
        self.space = space
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000
        self.stats = BatcherStats()
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._carry: _Request | None = None
        # Was the last pass one request that found nobody queued behind it? Then callers come
        # one at a time, and the next lone one goes at once instead of waiting for nobody.
        self._lone = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- callers -------------------------------------------------------------------------

    def submit(self, latents: torch.Tensor, size: int) -> Future:
        """Queue a render; the future resolves to (n, size, size, 3) uint8."""
        # Bad input fails here, in the caller, and never reaches a shared batch.
        latents = check_latents(latents, self.space.layers, self.space.dim)
        size = check_size(size)
        request = _Request(latents, size)
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

    def render(self, latents: torch.Tensor, size: int) -> torch.Tensor:
        return self.submit(latents, size).result()

    async def render_async(self, latents: torch.Tensor, size: int) -> torch.Tensor:
        return await asyncio.wrap_future(self.submit(latents, size))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join()

    # -- the worker thread ---------------------------------------------------------------

    def _run(self) -> None:
        while True:
            batch = self._gather()
            if batch is None:
                return
            self._render(batch)

    def _gather(self) -> list[_Request] | None:
        first = self._carry or self._queue.get()
        self._carry = None
        if first is None:
            return None
        batch, count = [first], first.latents.shape[0]
        # Wait for company only where there has been some: one client at a time would wait
        # max_wait for nothing on every pass (a quarter of a GPU's throughput at 256 px).
        # Requests already queued still join; under load passes gather again at once.
        alone = self._lone and self._queue.empty()
        deadline = time.monotonic() + (0.0 if alone else self.max_wait)
        if not alone and self.max_wait > 0:
            self.stats.waited += 1
        while count < self.max_batch:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                item = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)  # close after this batch
                break
            if count + item.latents.shape[0] > self.max_batch:
                self._carry = item  # first of the next batch
                break
            batch.append(item)
            count += item.latents.shape[0]
        self._lone = len(batch) == 1
        return batch

    def _render(self, batch: list[_Request]) -> None:
        by_size: dict[int, list[_Request]] = {}
        for request in batch:
            by_size.setdefault(request.size, []).append(request)
        for size, requests in by_size.items():
            stacked = torch.cat([r.latents for r in requests])
            try:
                images = self.space.render(stacked, size)
            except Exception as exc:  # every caller of this pass hears of it
                if threading.main_thread().is_alive():  # not merely the process exiting
                    log.exception("render of %d pictures at %d px failed", len(stacked), size)
                for r in requests:
                    r.future.set_exception(exc)
                continue
            self.stats.batches += 1
            self.stats.largest = max(self.stats.largest, len(stacked))
            start = 0
            for r in requests:
                n = r.latents.shape[0]
                r.future.set_result(images[start : start + n])
                start += n
