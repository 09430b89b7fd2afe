"""Concurrent renders share forward passes and each caller gets its own pictures."""

from __future__ import annotations

import asyncio
import threading

import pytest
import torch

from inference.batcher import RenderBatcher


class CountingSpace:
    """The real space, with a record of each forward pass it was asked for."""

    def __init__(self, space):
        self.space = space
        self.calls: list[int] = []
        self.slug, self.layers, self.dim = space.slug, space.layers, space.dim

    def render(self, latents, size):
        self.calls.append(latents.shape[0])
        return self.space.render(latents, size)


def test_concurrent_callers_share_one_forward_pass(space):
    counting = CountingSpace(space)
    batcher = RenderBatcher(counting, max_batch=16, max_wait_ms=200)
    latents = [space.sample(1, seed) for seed in range(8)]
    results: dict[int, torch.Tensor] = {}
    start = threading.Barrier(8)

    def call(i):
        start.wait()
        results[i] = batcher.render(latents[i], 64)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    batcher.close()

    assert sum(counting.calls) == 8
    assert len(counting.calls) < 8, f"expected merged passes, got {counting.calls}"
    assert batcher.stats.largest > 1
    for i in range(8):
        assert torch.equal(results[i], space.render(latents[i], 64)), f"caller {i} got another picture"


def test_a_batch_never_exceeds_max_batch(space):
    counting = CountingSpace(space)
    batcher = RenderBatcher(counting, max_batch=4, max_wait_ms=100)
    futures = [batcher.submit(space.sample(3, seed), 32) for seed in range(4)]
    outputs = [f.result() for f in futures]
    batcher.close()
    assert all(n <= 4 for n in counting.calls), counting.calls
    assert [o.shape[0] for o in outputs] == [3, 3, 3, 3]


def test_different_sizes_in_one_window_each_get_their_size(space):
    batcher = RenderBatcher(space, max_batch=8, max_wait_ms=100)
    small = batcher.submit(space.sample(1, 1), 32)
    large = batcher.submit(space.sample(1, 2), 64)
    assert small.result().shape == (1, 32, 32, 3)
    assert large.result().shape == (1, 64, 64, 3)
    batcher.close()


async def test_async_callers_are_batched_too(space):
    counting = CountingSpace(space)
    batcher = RenderBatcher(counting, max_batch=16, max_wait_ms=200)
    images = await asyncio.gather(*(batcher.render_async(space.sample(1, s), 32) for s in range(5)))
    batcher.close()
    assert [im.shape for im in images] == [(1, 32, 32, 3)] * 5
    assert len(counting.calls) < 5


def test_bad_input_fails_in_the_caller_and_spares_the_batch(space):
    batcher = RenderBatcher(space, max_batch=8, max_wait_ms=50)
    good = batcher.submit(space.sample(1, 0), 32)
    with pytest.raises(ValueError, match="size"):
        batcher.submit(space.sample(1, 0), 9)
    bad = space.sample(1, 0)
    bad[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="finite"):
        batcher.submit(bad, 32)
    assert good.result().shape == (1, 32, 32, 3)
    batcher.close()


def test_a_failing_render_reaches_every_caller_of_that_pass(space):
    class Broken(CountingSpace):
        def render(self, latents, size):
            raise RuntimeError("out of memory")

    batcher = RenderBatcher(Broken(space), max_batch=8, max_wait_ms=100)
    futures = [batcher.submit(space.sample(1, s), 32) for s in range(3)]
    for f in futures:
        with pytest.raises(RuntimeError, match="out of memory"):
            f.result()
    batcher.close()
