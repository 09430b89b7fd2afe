"""Who may open a WebSocket: pages of this very site, and the origins it trusts.

A browser sends its page's origin with every WebSocket handshake, and sends the site's
cookies whatever that origin is; so the origin is all that tells a page of Mendel from a
page elsewhere riding on a visitor's session. Channels' ``AllowedHostsOriginValidator``
compares host names only, so a page on another port of the same host got in.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

DEFAULT_PORTS = {"http": 80, "https": 443}
#: The largest WebSocket message the server reads (uvicorn's ``ws_max_size``; every command
#: line that starts uvicorn passes ``--ws-max-size 65536``): a bigger one is refused by the
#: protocol layer, closing with 1009, before its payload is read. Each consumer's own limit
#: (``MAX_MESSAGE_BYTES``) is at most this. uvicorn's default would read 16 MB first.
MAX_FRAME_BYTES = 64 * 1024


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin, the port filled in; None when it is not one."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme]


def _is_secure(scope: dict, headers: dict[str, str]) -> bool:
    """As ``HttpRequest.is_secure``: the proxy's header when one is configured and sent, else
    the connection's own scheme."""
    if settings.SECURE_PROXY_SSL_HEADER:
        name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        value = headers.get(name.removeprefix("HTTP_").replace("_", "-").lower())
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") in ("wss", "https")


def _allowed_hosts() -> list[str]:
    hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not hosts:
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    return hosts


def origin_allowed(scope: dict) -> bool:
    """Is the handshake's Origin the address the socket was opened on (scheme, host and port
    of the Host header, which must be one of ALLOWED_HOSTS), or in CSRF_TRUSTED_ORIGINS?"""
    headers = {k.decode("latin1").lower(): v.decode("latin1") for k, v in scope.get("headers", [])}
    origin = _origin(headers.get("origin", ""))
    host = headers.get("host", "")
    if origin is None or not host:
        return False
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, _allowed_hosts()):
        return False
    scheme = "https" if _is_secure(scope, headers) else "http"
    if origin == _origin(f"{scheme}://{host}"):
        return True
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        pattern = _origin(trusted)
        if pattern is None:
            continue
        if pattern[1].startswith("*."):  # any subdomain, as Django's CSRF check has it
            scheme, host, port = origin
            if (scheme, port) == (pattern[0], pattern[2]) and is_same_domain(host, pattern[1][1:]):
                return True
        elif origin == pattern:
            return True
    return False


class SameOriginValidator:
    """ASGI middleware: refuse (close with 403) a WebSocket whose Origin is not allowed."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
