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


def client_address(request) -> str | None:
    """The address a client is counted by: the connection's address (uvicorn puts the
    original client's there when a trusted proxy forwards it, see ``FORWARDED_ALLOW_IPS``),
    with an IPv6 address reduced to the first address of its /64 network. None where the
    request has none (one made up in a test, say). Also django-axes' address of a login."""
    return address_of(request.META.get("REMOTE_ADDR") or "")


def scope_address(scope: dict) -> str | None:
    """``client_address`` of an ASGI connection (a WebSocket's scope, say)."""
    client = scope.get("client") or ("",)
    return address_of(str(client[0] or ""))


def address_of(raw: str) -> str | None:
    """An address as clients are counted by it (see ``client_address``), or None."""
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
