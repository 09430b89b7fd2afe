"""The render scheduler both built-in spaces share: their span workers, how a render's
spans are cut into jobs, the order in which pictures are prepared and painted, and the 2 x 2
average that finishes a supersampled render.

One thread pool and one torch thread count serve every render of the process: the count is
process-wide, so whatever sets and restores it must be shared (``span_workers``).
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager

import torch
import torch.nn.functional as F

_threads_lock = threading.Lock()
_threads_users = 0
_threads_saved = 1
_pool: ThreadPoolExecutor | None = None


@contextmanager
def span_workers():
    """Yield how many threads to render with, each running torch single-threaded.

    Spans are small matrices: one thread per span beats two threads on every small
    operation (whose start-up costs more than the work). torch's thread count is
    process-wide, so it is 1 while any render runs and restored after the last one.
    """
    global _threads_users, _threads_saved, _pool
    with _threads_lock:
        if _threads_users == 0:
            _threads_saved = torch.get_num_threads()
            torch.set_num_threads(1)
        _threads_users += 1
        workers = _threads_saved
        if _pool is None or _pool._max_workers < workers:
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="render-span")
        pool = _pool
    try:
        yield workers, pool
    finally:
        with _threads_lock:
            _threads_users -= 1
            if _threads_users == 0:
                torch.set_num_threads(_threads_saved)


def share_spans(starts: range, workers: int, fused: bool) -> list[range]:
    """The spans of a render cut into jobs for the workers. With the fused kernels, in
    small runs taken one at a time by whichever worker is free (about eight per worker):
    a core that another process holds up then simply takes fewer. torch alone allocates
    scratch matrices per job, so there each worker takes every other span in one job."""
    if not fused:
        return [starts[k::workers] for k in range(min(workers, len(starts)))]
    step = max(1, len(starts) // (8 * workers))
    return [starts[i : i + step] for i in range(0, len(starts), step)]


def prepare_then_paint(n: int, runs: list[range], workers: int, pool, prepare, paint,
                       painted=None) -> None:
    """Prepare ``n`` pictures and paint each one's ``runs`` of spans with the fused kernels,
    the ``workers`` of ``pool`` taking tasks from one queue in order: picture b's
    preparation, then b + 1's, then b's runs. ``prepare(b)`` returns what ``paint(that, b,
    run)`` paints with.

    Preparation is many small torch operations, mostly holding Python's GIL; the kernels run
    without it. So while one worker prepares the next picture, the others paint, instead of
    all preparing first and waiting on one another for the GIL. If a preparation fails, the
    other workers stop after the task in hand, and this waits for all of them (none paints
    on once it returns or raises) before raising.

    ``painted(b)``, if given, is called as soon as picture b's last run is painted, by the
    worker that painted it: pictures are painted in order, so the first of a batch is ready
    long before the last."""
    bound: list[Future] = [Future() for _ in range(n)]
    left = [len(runs)] * n  # runs of each picture not yet painted
    left_lock = threading.Lock()
    tasks: deque = deque()
    for b in range(n + 1):
        if b < n:
            tasks.append((b, None))  # prepare picture b
        if b > 0:
            tasks.extend((b - 1, run) for run in runs)  # paint picture b - 1

    def task(b: int, run: range | None) -> None:
        if run is None:
            try:
                bound[b].set_result(prepare(b))
            except BaseException as exc:  # the painting of b fails with it
                bound[b].set_exception(exc)
                raise
            return
        # Its preparation was taken before it, by this worker or one still at it.
        paint(bound[b].result(), b, run)
        if painted is not None:
            with left_lock:
                left[b] -= 1
                last = left[b] == 0
            if last:
                painted(b)

    def work() -> None:
        try:
            while True:
                try:
                    b, run = tasks.popleft()  # atomic: each task is taken once
                except IndexError:
                    return
                task(b, run)
        except BaseException:
            tasks.clear()  # the other workers stop after the task in hand
            raise

    jobs = [pool.submit(work) for _ in range(workers)]
    wait(jobs)
    for job in jobs:
        job.result()


def finish(out: torch.Tensor, n: int, work: int, size: int) -> torch.Tensor:
    """Painted pixels (n, work * work, 3) as (n, size, size, 3), averaged down 2 x 2 where
    they were computed at twice the size (SUPERSAMPLE_BELOW)."""
    out = out.view(n, work, work, 3)
    if work != size:
        out = F.avg_pool2d(out.permute(0, 3, 1, 2).float(), 2).round_().to(torch.uint8)
        out = out.permute(0, 2, 3, 1).contiguous()
    return out


class Pictures:
    """A render's pictures, each finished (``finish``) on its own as soon as its pixels are
    painted and handed to ``each(b, picture)`` if given: what waits for the first picture
    of a batch need not wait for the last. Finishing one picture alone gives the bytes
    finishing it in its batch gives (the average is taken picture by picture)."""

    def __init__(self, out: torch.Tensor, work: int, size: int, each=None) -> None:
        self.out, self.work, self.size, self.each = out, work, size, each
        self.done: list[torch.Tensor | None] = [None] * out.shape[0]

    def painted(self, b: int) -> None:
        self.done[b] = finish(self.out[b : b + 1], 1, self.work, self.size)
        if self.each is not None:
            self.each(b, self.done[b])

    def all(self) -> torch.Tensor:
        """Every picture, (n, size, size, 3): those not yet handed over are finished now."""
        for b, picture in enumerate(self.done):
            if picture is None:
                self.painted(b)
        return torch.cat(self.done)
