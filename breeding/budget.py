"""The render budget: what a client may have rendered per minute, counted in pixels.

Rendering costs CPU (or GPU) in proportion to the pixels made, so every way of making
pixels draws from one budget: breeding (n pictures at the eager size each), crosses, edits,
gene previews (size²) and picture requests that must render a new file (size²; a stored
file costs nothing). Signed-in breeders have ``RENDER_BUDGET_MPX_PER_MIN`` each; anonymous
visitors ``RENDER_BUDGET_ANON_MPX_PER_MIN`` per address (see ``mendel.limits``).
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import ErrorDetail, Throttled

from breeding import images
from breeding.limits import client_address, in_words, take

WINDOW_S = 60
MEGA = 1_000_000
#: What one new creation costs: its eager renders.
PER_CREATION = sum(size * size for size in images.EAGER_SIZES)


def picture(size: int) -> int:
    return size * size


def creations(n: int) -> int:
    return n * PER_CREATION


class OverBudget(Throttled):
    """A DRF 429 whose message is the whole sentence (``mendel.api`` answers with it)."""

    def __init__(self, message: str, wait: int) -> None:
        super().__init__(wait=wait)
        self.detail = ErrorDetail(message, code=self.default_code)


def spend(user_id: int | None, address: str | None, pixels: int) -> tuple[int, str]:
    """Count ``pixels`` against the client's budget: (0, "") when it fits, else the wait
    in seconds and a sentence that says it."""
    if user_id is not None:
        limit_mpx, key = settings.RENDER_BUDGET_MPX_PER_MIN, f"render:user:{user_id}"
    else:
        limit_mpx, key = settings.RENDER_BUDGET_ANON_MPX_PER_MIN, f"render:addr:{address}"
    wait = take(key, pixels, int(limit_mpx * MEGA), WINDOW_S)
    if not wait:
        return 0, ""
    mpx = f"{limit_mpx:g} megapixel{'s' if limit_mpx != 1 else ''}"
    if user_id is not None:
        message = (f"You have asked for more pictures than Mendel renders for one person in a "
                   f"minute ({mpx}). Try again in {in_words(wait)}.")
    else:
        message = (f"Visitors from your address have asked for more pictures than Mendel renders "
                   f"for them in a minute ({mpx}). Try again in "
                   f"{in_words(wait)}, or log in.")
    return wait, message


def charge(request, pixels: int) -> None:
    """Count a DRF request's renders against its client's budget, or raise a 429."""
    user = request.user
    user_id = user.pk if user is not None and user.is_authenticated else None
    wait, message = spend(user_id, client_address(request), pixels)
    if wait:
        raise OverBudget(message, wait)
