"""Numbers from headers, queries and messages: ASCII digits, bounded length."""

from __future__ import annotations

import pytest

from common.numbers import whole_number


@pytest.mark.parametrize("text,number", [
    ("0", 0), ("42", 42), ("007", 7), ("9" * 18, int("9" * 18)),
    ("9" * 19, None), ("9" * 5000, None), ("", None), ("-1", None), ("+1", None), (" 1", None),
    ("1_000", None), ("²", None), ("\u0661\u0662", None), ("1.5", None), (None, None),
])
def test_it_reads_ascii_digits_of_bounded_length_only(text, number):
    assert whole_number(text) == number
