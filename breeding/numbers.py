"""Numbers from the outside world (headers, query strings, socket messages): ASCII digits
only, of bounded length.

``int()`` takes far more than that: other scripts' digits (``"²"`` is not one, ``"١٢"``
is), signs, spaces and underscores, and fails with ``ValueError`` past 4,300 digits, so a
check such as ``str.isdigit()`` followed by ``int()`` lets through what then fails.
"""

from __future__ import annotations

import re

#: More digits than any count, offset or size Mendel deals in (10^18 bytes is an exabyte).
MAX_DIGITS = 18
_DIGITS = re.compile(r"[0-9]+")


def whole_number(text: str, max_digits: int = MAX_DIGITS) -> int | None:
    """The whole number ``text`` spells in ASCII digits 0-9 (nothing else, at most
    ``max_digits`` of them); None for anything else."""
    if not isinstance(text, str) or len(text) > max_digits or not _DIGITS.fullmatch(text):
        return None
    return int(text)
