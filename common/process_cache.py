"""The cache as one client for the whole process, for code that lives as long as a socket.

``django.core.cache.cache`` is one client per async context. For an HTTP request that is
the request; for a WebSocket consumer it is the socket's whole life, and with Redis each
client keeps its own connection: 10,000 visitors of an exhibition held 10,000 connections
and Redis, at its default limit of 10,000 clients, refused the next visitors (bench/exhibition.py,
four web processes). One client per process (a thread-safe connection pool) holds as many
connections as run at once instead.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.cache import BaseCache, caches

_lock = threading.Lock()
_clients: dict[str, BaseCache] = {}


def process_cache() -> BaseCache:
    """The process's client of the default cache (as configured now: a test that changes
    the settings gets a client of its own)."""
    key = repr(settings.CACHES["default"])
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key) or caches.create_connection("default")
            _clients[key] = client
    return client
