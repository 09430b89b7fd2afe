"""Counting what one client may do in a while: the address it is known by, and an atomic
fixed-window counter in Django's cache (per process with the local-memory cache, shared by
every web process when ``REDIS_URL`` puts the cache in Redis).
"""

from __future__ import annotations

import ipaddress
import math
import time

from django.core.cache import caches

#: An IPv6 client usually holds a whole /64 network: counting per address would let it
#: start afresh with each of its 2^64 addresses.
IPV6_PREFIX = 64
#: How many windows ahead a cost beyond a window's limit is carried (``count``).
CARRY_WINDOWS = 10


def client_address(request) -> str | None:
    """The address a client is counted by: the connection's address (uvicorn puts the
    original client's there when a trusted proxy forwards it, see ``FORWARDED_ALLOW_IPS``),
    with an IPv6 address reduced to the first address of its /64 network. None where the
    request has none (one made up in a test, say). Also django-axes' address of a login."""
    raw = request.META.get("REMOTE_ADDR") or ""
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return None
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False).network_address)
    return str(address)


def take(key: str, amount: int, limit: int, window_s: int, cache=None) -> int:
    """Count ``amount`` against ``limit`` for ``key`` in the current window of ``window_s``
    seconds. Returns 0 when it fits; otherwise nothing is counted and the answer is the
    whole seconds until the window ends.

    Atomic across processes: ``add`` creates the window's counter once and ``incr`` is
    atomic in every cache backend Mendel uses (local memory, Redis). A refused amount is
    given back, so a client that keeps asking is not locked out beyond the window.
    """
    cache = cache if cache is not None else caches["default"]
    now = time.time()
    window = int(now // window_s)
    name = f"limit:{key}:{window}"
    for _ in range(2):
        cache.add(name, 0, timeout=window_s + 5)
        try:
            total = cache.incr(name, amount)
            break
        except ValueError:  # expired between add and incr: make it again
            continue
    else:
        return 0  # the cache keeps losing the counter: let the request through
    if total <= limit:
        return 0
    try:
        cache.decr(name, amount)
    except ValueError:
        pass
    return max(1, math.ceil((window + 1) * window_s - now))


def in_words(seconds: int) -> str:
    """``42 seconds``, ``1 minute``, ``15 minutes``: a wait as a person says it."""
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"


def count(key: str, amount: int, window_s: int, limit: int | None = None, cache=None) -> None:
    """Add ``amount`` (negative: take it off) to ``key``'s count in the current window of
    ``take``, refusing nothing: a cost learnt after the fact. What goes beyond ``limit`` is
    carried into the next windows (a debt: a minute's work that cost three minutes' budget
    leaves the next two spent), up to ``CARRY_WINDOWS`` of them. Taking off never reaches
    into a window that has no count yet."""
    cache = cache if cache is not None else caches["default"]
    window = int(time.time() // window_s)
    if amount < 0:
        try:
            cache.decr(f"limit:{key}:{window}", -amount)
        except ValueError:  # no count in this window
            pass
        return
    for ahead in range(CARRY_WINDOWS + 1):
        name = f"limit:{key}:{window + ahead}"
        cache.add(name, 0, timeout=(ahead + 1) * window_s + 5)
        try:
            total = cache.incr(name, amount)
        except ValueError:  # expired between add and incr: the window is over
            return
        if limit is None or total <= limit:
            return
        over = min(amount, total - limit)
        try:
            cache.decr(name, over)  # this window is full: the rest is the next one's
        except ValueError:
            return
        amount = over
