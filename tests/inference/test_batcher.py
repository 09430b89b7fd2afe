"""Concurrent renders share forward passes and each caller gets its own pictures."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import torch

from inference.batcher import RenderBatcher

# Batches here close when they are full (max_batch pictures) or when the batcher closes,
# never on the clock: the wait is long enough that no test depends on how fast it runs.
LONG_WAIT_MS = 10_000


class CountingSpace:
    """The real space, with a record of each forward pass it was asked for: (pictures, size)."""

    def __init__(self, space):
        self.space = space
        self.calls: list[tuple[int, int]] = []
        self.slug, self.layers, self.dim = space.slug, space.layers, space.dim

    def render(self, latents, size):
        self.calls.append((latents.shape[0], size))
        return self.space.render(latents, size)


def test_concurrent_callers_share_one_forward_pass(space):
    counting = CountingSpace(space)
    batcher = RenderBatcher(counting, max_batch=8, max_wait_ms=LONG_WAIT_MS)
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

    assert counting.calls == [(8, 64)]
    assert batcher.stats.batches == 1 and batcher.stats.largest == 8
    for i in range(8):
        assert torch.equal(results[i], space.render(latents[i], 64)), f"caller {i} got another picture"


def test_a_batch_fills_up_to_max_batch_and_no_further(space):
    counting = CountingSpace(space)
    batcher = RenderBatcher(counting, max_batch=4, max_wait_ms=LONG_WAIT_MS)
    futures = [batcher.submit(space.sample(1, seed), 32) for seed in range(10)]
    batcher.close()  # the last, partial batch goes out when the batcher closes
    outputs = [f.result() for f in futures]
    assert [n for n, _ in counting.calls] == [4, 4, 2]
    assert [o.shape[0] for o in outputs] == [1] * 10


def test_a_request_that_would_overflow_a_batch_opens_the_next_one(space):
    counting = CountingSpace(space)
    batcher = RenderBatcher(counting, max_batch=4, max_wait_ms=LONG_WAIT_MS)
    futures = [batcher.submit(space.sample(n, seed), 32) for seed, n in enumerate((1, 2, 2, 3))]
    batcher.close()
    assert [f.result().shape[0] for f in futures] == [1, 2, 2, 3]
    # 1 + 2 fit; another 2 would make 5, so it opens the next batch, and so does the 3.
    assert [n for n, _ in counting.calls] == [3, 2, 3]


def test_one_caller_at_a_time_is_not_kept_waiting_for_company(space):
    gate = threading.Event()

    class Gated(CountingSpace):
        """Passes at 16 px wait for the gate: callers can queue up behind one."""

        def render(self, latents, size):
            if size == 16:
                gate.wait()
            return super().render(latents, size)

    counting = Gated(space)
    batcher = RenderBatcher(counting, max_batch=8, max_wait_ms=50)
    batcher.render(space.sample(1, 0), 32)  # nothing known yet: this pass waits, alone
    assert batcher.stats.waited == 1
    # After a pass of one request that found nobody queued, a lone caller (one client at a
    # time) goes at once, pass after pass, instead of waiting for nobody.
    for seed in range(1, 4):
        batcher.render(space.sample(1, seed), 32)
    assert counting.calls == [(1, 32)] * 4 and batcher.stats.waited == 1
    # Callers queued behind a pass join the next one, which waits for company again.
    held = batcher.submit(space.sample(1, 4), 16)  # goes at once, and holds the worker
    behind = [batcher.submit(space.sample(1, seed), 32) for seed in range(5, 9)]
    gate.set()
    for future in (held, *behind):
        future.result()
    batcher.close()
    assert counting.calls[4:] == [(1, 16), (4, 32)] and batcher.stats.waited == 2


def test_different_sizes_in_one_batch_each_get_their_size(space):
    counting = CountingSpace(space)
    batcher = RenderBatcher(counting, max_batch=3, max_wait_ms=LONG_WAIT_MS)
    latents = [space.sample(1, seed) for seed in range(3)]
    small, large, small_again = (
        batcher.submit(latents[0], 32), batcher.submit(latents[1], 64), batcher.submit(latents[2], 32)
    )
    assert small.result().shape == (1, 32, 32, 3)
    assert large.result().shape == (1, 64, 64, 3)
    assert small_again.result().shape == (1, 32, 32, 3)
    batcher.close()
    # One gather of all three: both small pictures share a pass, the large one has its own.
    assert counting.calls == [(2, 32), (1, 64)]
    assert torch.equal(small_again.result(), space.render(latents[2], 32))


async def test_async_callers_are_batched_too(space):
    counting = CountingSpace(space)
    batcher = RenderBatcher(counting, max_batch=5, max_wait_ms=LONG_WAIT_MS)
    images = await asyncio.gather(*(batcher.render_async(space.sample(1, s), 32) for s in range(5)))
    batcher.close()
    assert [im.shape for im in images] == [(1, 32, 32, 3)] * 5
    assert counting.calls == [(5, 32)]


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
    class FailsWhenBatched(CountingSpace):
        """The real space, except that a pass of more than one picture runs out of memory."""

        def render(self, latents, size):
            if latents.shape[0] > 1:
                self.calls.append((latents.shape[0], size))
                raise RuntimeError("out of memory")
            return super().render(latents, size)

    failing = FailsWhenBatched(space)
    batcher = RenderBatcher(failing, max_batch=3, max_wait_ms=LONG_WAIT_MS)
    futures = [batcher.submit(space.sample(1, s), 32) for s in range(3)]
    for f in futures:
        with pytest.raises(RuntimeError, match="out of memory"):
            f.result()
    assert failing.calls == [(3, 32)], "all three callers were in the one pass that failed"
    # The batcher outlives a failed pass: a lone picture still renders.
    alone = batcher.submit(space.sample(1, 9), 32)
    batcher.close()
    assert alone.result().shape == (1, 32, 32, 3)
    assert failing.calls == [(3, 32), (1, 32)]


class GatedSpace(CountingSpace):
    """Passes at 16 px wait for the gate, so requests can queue up behind one; every pass
    records which latents it drew (their first value)."""

    def __init__(self, space):
        super().__init__(space)
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.drawn: list[list[float]] = []

    def render(self, latents, size):
        if size == 16:
            self.entered.set()
            self.gate.wait()
        else:
            self.drawn.append([float(x[0, 0]) for x in latents])
        return super().render(latents, size)


def test_people_are_served_in_turn_not_in_order_of_arrival(space):
    gated = GatedSpace(space)
    batcher = RenderBatcher(gated, max_batch=1, max_wait_ms=0)
    held = batcher.submit(space.sample(1, 0), 16, who="carol")  # holds the worker
    alice = [space.sample(1, seed) for seed in range(1, 5)]
    bob = [space.sample(1, seed) for seed in range(11, 13)]
    # Alice asks for four pictures first, then Bob for two: Bob need not wait for all hers.
    futures = [batcher.submit(latent, 32, who="alice") for latent in alice]
    futures += [batcher.submit(latent, 32, who="bob") for latent in bob]
    assert batcher.waiting("alice") == 4 and batcher.waiting("bob") == 2
    gated.gate.set()
    for future in (held, *futures):
        future.result()
    batcher.close()
    name = {float(x[0, 0, 0]): f"alice{i}" for i, x in enumerate(alice)}
    name |= {float(x[0, 0, 0]): f"bob{i}" for i, x in enumerate(bob)}
    order = [name[first] for (first,) in gated.drawn]
    assert order == ["alice0", "bob0", "alice1", "bob1", "alice2", "alice3"]


def test_a_batch_takes_each_person_in_turn(space):
    gated = GatedSpace(space)
    batcher = RenderBatcher(gated, max_batch=4, max_wait_ms=LONG_WAIT_MS)
    held = batcher.submit(space.sample(4, 0), 16, who="carol")  # a full pass: it goes at once
    gated.entered.wait()  # and holds the worker while the others queue
    alice = [space.sample(1, seed) for seed in range(1, 7)]
    bob = space.sample(1, 11)
    futures = [batcher.submit(latent, 32, who="alice") for latent in alice]
    futures.append(batcher.submit(bob, 32, who="bob"))
    gated.gate.set()
    batcher.close()
    for future in (held, *futures):
        future.result()
    # The next pass is full at four: Alice's first, Bob's one, then two more of Alice's,
    # though Bob asked after all six of hers.
    first = float(alice[0][0, 0, 0]), float(bob[0, 0, 0]), float(alice[1][0, 0, 0]), float(alice[2][0, 0, 0])
    assert gated.drawn[0] == list(first)
    assert len(gated.drawn[1]) == 3


def test_max_pixels_bounds_the_work_of_one_pass(space):
    counting = CountingSpace(space)
    batcher = RenderBatcher(counting, max_batch=16, max_wait_ms=LONG_WAIT_MS, max_pixels=2 * 64 * 64)
    futures = [batcher.submit(space.sample(1, seed), 64) for seed in range(3)]
    large = batcher.submit(space.sample(1, 5), 128)  # over the bound alone: it goes alone
    batcher.close()
    assert [f.result().shape[0] for f in futures] == [1, 1, 1]
    assert large.result().shape == (1, 128, 128, 3)
    assert counting.calls == [(2, 64), (1, 64), (1, 128)]


def test_each_request_carries_what_its_pictures_cost_and_the_pass_adds_up(space):
    batcher = RenderBatcher(space, max_batch=3, max_wait_ms=LONG_WAIT_MS)
    before = time.process_time()
    one = batcher.submit(space.sample(1, 0), 64)
    two = batcher.submit(space.sample(2, 1), 64)
    batcher.close()
    one.result(), two.result()
    spent = time.process_time() - before
    assert one.cpu_s > 0 and two.cpu_s > 0
    assert one.cpu_s + two.cpu_s <= spent  # the pass's CPU time, shared out, never more


def test_a_request_is_answered_when_its_own_pictures_are_painted_not_at_the_end_of_the_pass(space):
    """Eight children in one pass: the first is handed over while the last is still to be
    painted (one render thread, so the pictures are painted strictly in turn)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        batcher = RenderBatcher(space, max_batch=8, max_wait_ms=LONG_WAIT_MS)
        futures = [batcher.submit(space.sample(1, 0), 64)]  # the pass waits for company
        seen_at_first: list[bool] = []
        futures[0].add_done_callback(lambda _: seen_at_first.append(futures[-1].done()))
        futures += [batcher.submit(space.sample(1, seed), 64) for seed in range(1, 8)]
        batcher.close()
        pictures = [f.result() for f in futures]
    finally:
        torch.set_num_threads(threads)
    assert seen_at_first == [False]
    assert batcher.stats.batches == 1
    # the same bytes as the pass rendered whole
    assert torch.equal(torch.cat(pictures), space.render(torch.cat([space.sample(1, s) for s in range(8)]), 64))


# -- thumbnails first --------------------------------------------------------------------


def test_small_pictures_go_before_large_ones_asked_for_earlier(space):
    gated = GatedSpace(space)
    batcher = RenderBatcher(gated, max_batch=8, max_wait_ms=0, bulk_share=0.0)
    held = batcher.submit(space.sample(1, 0), 16, who="carol")  # holds the worker
    gated.entered.wait()
    download = batcher.submit(space.sample(1, 1), 512, who="alice")
    frames = batcher.submit(space.sample(2, 2), 64, who="alice", urgent=False)  # a video's
    thumbnails = [batcher.submit(space.sample(1, 10 + i), 64, who="bob") for i in range(3)]
    gated.gate.set()
    for future in (held, download, frames, *thumbnails):
        future.result()
    batcher.close()
    # Bob's thumbnails in one pass of their own, then the large ones, never mixed with them.
    assert gated.calls[1:] == [(3, 64), (1, 512), (2, 64)]


def _request(space, size, who, urgent):
    from inference.batcher import _Request

    return _Request(space.sample(1, 0), size, who, urgent)


def test_large_pictures_get_their_share_of_the_time_under_a_stream_of_small_ones(space):
    from inference.batcher import FairQueue

    queue = FairQueue(bulk_share=0.25)
    large = [_request(space, 1024, "alice", urgent=False) for _ in range(3)]
    small = [_request(space, 256, "bob", urgent=True) for _ in range(12)]
    for request in (*large, *small):
        queue.put(request)
    served = []
    while not queue.empty():
        request = queue.get()
        served.append("s" if request.urgent else "L")
        queue.spent(request.urgent, 0.1 if request.urgent else 0.4)  # seconds its pass took
    # Small ones first; a large one whenever large ones had less than a quarter of the
    # time of the last few passes: right after the first small pass, then after six more
    # (its 0.4 s weighs on that long), while small ones still wait.
    assert "".join(served) == "sLssssssLsssssL"
