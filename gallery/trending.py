"""The trending order of the gallery: each work's score (``Creation.hot``), kept up to date as
it is made and liked."""

from __future__ import annotations

import math

from django.db.models import F, Value
from django.db.models.functions import Abs, Greatest, Ln, Power

#: The trending order's half-life in seconds. A work weighs 2^(created / h) when it is made
#: and every like adds 2^(liked / h): a like counts as much as the work's own making did, and
#: a like from h seconds ago counts half as much as one now. The stored score is the log2 of
#: that sum, so it stays a small number; likes change it once, when they happen, and nothing
#: needs recomputing as time passes (``gallery.actions``).
HOT_HALF_LIFE = 12 * 3600.0


def hot_term(when) -> float:
    """What an event at ``when`` (the making of a work, a like) adds, in log2 space."""
    return when.timestamp() / HOT_HALF_LIFE


def log2_add(a: float, b: float) -> float:
    """log2(2^a + 2^b) without overflow (the scores are tens of thousands)."""
    high, low = max(a, b), min(a, b)
    return high + math.log2(1.0 + 2.0 ** (low - high))


def hot_score(created, liked=()) -> float:
    """The trending score from scratch: log2(2^(created/h) + sum of 2^(liked/h))."""
    score = hot_term(created)
    for when in liked:
        score = log2_add(score, hot_term(when))
    return score


def hot_add_expression(term: float):
    """``log2_add(hot, term)`` computed by the database on the row's own score, so that
    concurrent likes, serialised by the row lock, each add to the other's result. The
    exponent is floored: PostgreSQL raises on a float underflow where Python gives 0."""
    high = Greatest(F("hot"), Value(term))
    gap = Greatest(-Abs(F("hot") - Value(term)), Value(-1000.0))
    return high + Ln(Value(1.0) + Power(Value(2.0), gap)) / Value(math.log(2.0))


def start_scores(sender, works, **kwargs) -> None:
    """A new work's score is the term of its own making (``breeding.signals.works_made``)."""
    for work in works:
        work.hot = hot_term(work.created)
