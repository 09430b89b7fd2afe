"""Hot reads compiled once: the ORM builds and compiles the query the first time it is asked
for, and every later call sends the same SQL with its own values.

For a read that every page of every signed-in breeder asks (the notices badge, a page of
notices), building the queryset and compiling its SQL cost more than PostgreSQL takes to run
it (``bench/notices.py``: about 4 ms of Python around 0.4 ms of execution for a page).

The SQL is still planned at every call, on purpose: a server-side prepared statement would
save the planning (2.5 ms for a page of notices) but PostgreSQL switches such a statement to
one generic plan after five runs, and a plan made for no breeder in particular, at the
average breeder's hundred notices, sorted all 100,000 of a busy breeder's to show 30
(600 ms against 1 ms, measured on ``bench/notices.py``'s data).

A statement is written as an ordinary queryset of the values it takes (whole numbers such as
ids, and short texts such as a slug or a digest), so the rules it uses
(``Creation.objects.visible_to`` and the like) stay the ones every other query uses. To learn
where its values go, it is compiled twice with two sets of probe values that no row has
(negative ids; texts that begin with "~", which no slug or digest does): the parameters that
follow the probes are its slots, those that stay the same are constants. A query whose SQL text changes with its values (an ``__in`` of a list, a
slice) cannot be a statement, and saying so is an error at its first use; ``build`` must not
branch on its values in Python either (both probes would take the same branch).
What else changes the SQL (whether the reader is staff, which way a page goes) is named as
the statement's ``shape`` and compiled once per shape.

The rows come back as tuples in the order of the queryset's ``values_list``, without the
ORM's converters (a JSON value is its text).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

from django.db import connections
from django.db.models import QuerySet

#: Two sets of probe values: ids far below any row's (ids count up from 1), and texts named
#: after them.
_PROBES = (-(7 << 56), -(11 << 56))


def _probe(kind: type, base: int, i: int) -> int | str:
    return base - i if kind is int else f"~probe{base - i}"


class NotAStatement(Exception):
    """The query's SQL depends on its values, so it cannot be compiled once."""


class Statement:
    """``build(*values, **shape)`` → a queryset (of ``values_list``); ``template`` wraps its
    SQL (``"SELECT count(*) FROM ({}) counted"``)."""

    def __init__(self, build: Callable[..., QuerySet], template: str = "{}", using: str = "default"):
        self._build = build
        self._template = template
        self._using = using
        self._compiled: dict[Hashable, tuple[str, list[tuple[bool, object]]]] = {}
        self._lock = threading.Lock()

    def _compile(self, kinds: tuple[type, ...], shape: dict) -> tuple[str, list[tuple[bool, object]]]:
        key = (kinds, tuple(sorted(shape.items())))
        if (found := self._compiled.get(key)) is not None:
            return found
        with self._lock:
            probes = [[_probe(kind, base, i) for i, kind in enumerate(kinds)] for base in _PROBES]
            (sql, first), (again, second) = (
                self._build(*values, **shape).query.sql_with_params() for values in probes)
            if sql != again or len(first) != len(second):
                raise NotAStatement(f"{self._build.__qualname__}: its SQL changes with its values")
            slots: list[tuple[bool, object]] = []
            for a, b in zip(first, second, strict=True):
                if a in probes[0] and b == probes[1][probes[0].index(a)]:
                    slots.append((True, probes[0].index(a)))
                elif a == b:
                    slots.append((False, a))
                else:
                    raise NotAStatement(f"{self._build.__qualname__}: a parameter follows no value ({a!r}, {b!r})")
            self._compiled[key] = found = (self._template.format(sql), slots)
        return found

    def rows(self, *values: int | str, **shape) -> list[tuple]:
        """The rows for ``values`` (whole numbers or texts, in the order ``build`` takes them)."""
        if not all(type(value) in (int, str) for value in values):
            raise TypeError("a statement's values are whole numbers or texts")
        sql, slots = self._compile(tuple(type(value) for value in values), shape)
        params = [values[where] if is_slot else where for is_slot, where in slots]
        with connections[self._using].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
