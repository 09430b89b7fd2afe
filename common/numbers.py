"""Whole numbers from text a client sent (query parameters, URL parts, socket messages): one
way to read them everywhere.

Python's own tests disagree with each other: ``str.isdigit()`` takes ``²`` and ``①``, which
``int()`` refuses; ``int()`` takes ``٢٥٦``, `` 7 ``, ``+7`` and ``1_000``, and thousands of
digits cost it quadratic time before it refuses more than 4,300 of them. A count here is
ASCII digits only, at most ``max_digits`` of them, and nothing else.
"""

from __future__ import annotations

import re

DIGITS = re.compile(r"[0-9]+", re.ASCII)


def parse_count(text: object, max_digits: int = 9) -> int | None:
    """The whole number ``text`` spells in ASCII digits (at most ``max_digits``), else None.

    ``parse_count("12") == 12``; ``parse_count("²")``, ``parse_count("-1")``,
    ``parse_count(" 1")`` and ``parse_count("1" * 5000)`` are None.
    """
    if not isinstance(text, str) or not 0 < len(text) <= max_digits or not DIGITS.fullmatch(text):
        return None
    return int(text)
