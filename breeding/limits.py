"""Counting what one client may do in a while: the address it is known by, and an atomic
fixed-window counter in Django's cache (per process with the local-memory cache, shared by
every web process when ``REDIS_URL`` puts the cache in Redis).
"""

from __future__ import annotations

import ipaddress
import math
import time

from django.conf import settings
from django.utils.translation import ngettext

from common.process_cache import process_cache

#: An IPv6 client usually holds a whole /64 network: counting per address would let it
#: start afresh with each of its 2^64 addresses.
IPV6_PREFIX = 64
#: How many windows ahead a cost beyond a window's limit is carried (``count``).
CARRY_WINDOWS = 10


def client_address(request) -> str | None:
    """The address a client is counted by, with an IPv6 address reduced to the first address
    of its /64 network; None where the request has none (one made up in a test, say).
    django-axes counts logins by it too (``AXES_CLIENT_IP_CALLABLE``).

    It is the connection's address, unless that belongs to one of ``TRUSTED_PROXIES``: then
    ``X-Forwarded-For`` is read from its end (the entry the nearest proxy added), past
    every trusted proxy, to the first address that is not one. What a client wrote into the
    header itself sits before that and is never believed."""
    return forwarded_client(request.META.get("REMOTE_ADDR") or "",
                            request.META.get("HTTP_X_FORWARDED_FOR") or "")


def scope_address(scope) -> str | None:
    """``client_address`` of an ASGI scope (a socket's), by the same rules."""
    peer = (scope.get("client") or ("",))[0] or ""
    forwarded = b",".join(v for k, v in scope.get("headers", ()) if k == b"x-forwarded-for")
    return forwarded_client(peer, forwarded.decode("latin-1"))


def forwarded_client(peer: str, forwarded_for: str) -> str | None:
    """The client's address from the connection's (``peer``) and ``X-Forwarded-For``."""
    try:
        address = _plain(ipaddress.ip_address(peer))
    except ValueError:
        return None
    trusted = settings.TRUSTED_PROXIES
    hops = [hop.strip() for hop in forwarded_for.split(",")] if trusted and forwarded_for else []
    while hops and any(address in network for network in trusted):
        try:
            address = _plain(ipaddress.ip_address(hops.pop()))
        except ValueError:
            break  # a garbled entry: the last trusted proxy is all that is known
    return counted(address)


def _plain(address):
    """An IPv4 address mapped into IPv6 (``::ffff:10.0.0.1``) as the IPv4 address it is."""
    return address.ipv4_mapped or address if address.version == 6 else address


def counted(address) -> str:
    """An address as it is counted: IPv4 as itself (also when mapped into IPv6), IPv6 by
    its /64 network."""
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
    cache = cache if cache is not None else process_cache()
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
    """``42 seconds``, ``1 minute``, ``15 minutes``, ``100 hours``: a wait (or a length) as
    a person says it."""
    if seconds < 90:
        return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
    minutes = math.ceil(seconds / 60)
    if minutes < 120:
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    hours = math.ceil(seconds / 3600)
    return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}


def count(key: str, amount: int, window_s: int, limit: int | None = None, cache=None) -> None:
    """Add ``amount`` (negative: take it off) to ``key``'s count in the current window of
    ``take``, refusing nothing: a cost learnt after the fact. What goes beyond ``limit`` is
    carried into the next windows (a debt: a minute's work that cost three minutes' budget
    leaves the next two spent), up to ``CARRY_WINDOWS`` of them. Taking off never reaches
    into a window that has no count yet."""
    cache = cache if cache is not None else process_cache()
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
