"""Whole numbers from text a client sent (headers, query parameters, URL parts, form fields,
socket messages): one way to read them everywhere.

Python's own tests disagree with each other: ``str.isdigit()`` takes ``²`` and ``①``, which
``int()`` refuses; ``int()`` takes ``٢٥٦``, `` 7 ``, ``+7`` and ``1_000``, and thousands of
digits cost it quadratic time before it refuses more than 4,300 of them. A number here is
ASCII digits only, at most ``max_digits`` of them, and nothing else.
"""

from __future__ import annotations

import re

#: More digits than any count, offset or size Mendel deals in (10^18 bytes is an exabyte).
MAX_DIGITS = 18
DIGITS = re.compile(r"[0-9]+", re.ASCII)


def whole_number(text: object, max_digits: int = MAX_DIGITS) -> int | None:
    """The whole number ``text`` spells in ASCII digits (at most ``max_digits``), else None.

    ``whole_number("12") == 12``; ``whole_number("²")``, ``whole_number("-1")``,
    ``whole_number(" 1")`` and ``whole_number("1" * 5000)`` are None.
    """
    if not isinstance(text, str) or not 0 < len(text) <= max_digits or not DIGITS.fullmatch(text):
        return None
    return int(text)
