"""The render budget: how much computing a client may have per minute, in CPU seconds.

Every way of making pixels draws from one budget: breeding (n pictures at the eager size
each), crosses, edits, gene previews, video previews and picture requests that must render
a new file (a stored file costs nothing). Signed-in breeders have
``RENDER_BUDGET_CPU_S_PER_MIN`` each; anonymous visitors ``RENDER_BUDGET_ANON_CPU_S_PER_MIN``
per address (see ``breeding.limits``).

What is charged is what the work cost, measured: a request is let in on an estimate (the
measured cost of the same space's pictures at that size, ``images.estimate``), and when
its render is done the difference to what it really took (process CPU seconds of the
render and its encoding, ``images.request``'s ``on_cost``) is settled on the same budget.
A budget spent refuses the next request with a sentence until its minute is over; work
that cost more than a minute's budget is a debt on the minutes after. Who
goes first among the renders let in is the render queue's business: people are served in
turn (``inference.batcher``), and each may have ``RENDER_WAITING_PER_PERSON`` pictures
waiting at once.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework.exceptions import ErrorDetail, Throttled

from breeding import images
from breeding.limits import client_address, count, in_words, take
from common.errors import Refused

WINDOW_S = 60
#: The budget is counted in milliseconds of CPU (the counters are integers).
MS = 1000


def picture(size: int, space: str = "abstract") -> float:
    """The estimated CPU seconds of one new picture of ``size`` px."""
    return images.estimate(space, size)


def creations(n: int, space: str = "abstract") -> float:
    """The estimated CPU seconds of ``n`` new creations: their eager renders."""
    return n * sum(images.estimate(space, size) for size in images.EAGER_SIZES)


def payer(user_id: int | None, address: str | None) -> str:
    """Whose budget and whose turn in the render queue: a breeder, or a visitor's address."""
    return f"user:{user_id}" if user_id is not None else f"addr:{address}"


def _limit(user_id: int | None) -> float:
    if user_id is not None:
        return settings.RENDER_BUDGET_CPU_S_PER_MIN
    return settings.RENDER_BUDGET_ANON_CPU_S_PER_MIN


class OverBudget(Throttled):
    """A DRF 429 whose message is the whole sentence (``mendel.api`` answers with it)."""

    def __init__(self, message: str, wait: int) -> None:
        super().__init__(wait=wait)
        self.detail = ErrorDetail(message, code=self.default_code)


def spend(user_id: int | None, address: str | None, seconds: float) -> tuple[int, str]:
    """Count ``seconds`` of CPU against the client's budget: (0, "") when it fits, else
    the wait in seconds and a sentence that says it."""
    limit = _limit(user_id)
    wait = take(f"render:{payer(user_id, address)}", round(seconds * MS), int(limit * MS), WINDOW_S)
    if not wait:
        return 0, ""
    amount = ngettext("%(n)s second", "%(n)s seconds", round(limit)) % {"n": f"{limit:g}"}
    if user_id is not None:
        message = _("You have asked for more pictures than Mendel renders for one person in a "
                    "minute (%(amount)s of computing). Try again in %(wait)s.")
    else:
        message = _("Visitors from your address have asked for more pictures than Mendel "
                    "renders for them in a minute (%(amount)s of computing). Try again in "
                    "%(wait)s, or log in.")
    return wait, message % {"amount": amount, "wait": in_words(wait)}


def settle(user_id: int | None, address: str | None, seconds: float) -> None:
    """Count ``seconds`` more (or, negative, fewer) on the client's budget, without refusing:
    what a render measured beyond (or under) the estimate it was let in on. Beyond the
    minute's budget it is a debt on the next minutes."""
    count(f"render:{payer(user_id, address)}", round(seconds * MS), WINDOW_S,
          limit=int(_limit(user_id) * MS))


def settler(user_id: int | None, address: str | None, estimate: float):
    """An ``on_cost`` for ``images.request``: settles the measured cost against ``estimate``."""
    return lambda measured: settle(user_id, address, measured - estimate)


def charge(request, seconds: float) -> None:
    """Count a DRF request's estimated renders against its client's budget, or raise a 429."""
    user = request.user
    user_id = user.pk if user is not None and user.is_authenticated else None
    wait, message = spend(user_id, client_address(request), seconds)
    if wait:
        raise OverBudget(message, wait)


@contextmanager
def measured(user_id: int | None, address: str | None):
    """Charge the client by what the work inside the block measures, in process CPU seconds
    (the render threads' work included): refused beforehand (``Refused``, 429) only when the
    budget is spent already, charged afterwards whatever it took. For work too varied to
    estimate, such as a video preview (planning, rendering and encoding) or a picture sent
    to be measured."""
    wait, message = spend(user_id, address, 0.001)
    if wait:
        raise Refused(message, 429, wait=wait)
    started = time.process_time()
    try:
        yield
    finally:
        settle(user_id, address, time.process_time() - started)


def metered(request):
    """``measured`` for a DRF request's client."""
    user = request.user
    return measured(user.pk if user is not None and user.is_authenticated else None,
                    client_address(request))
