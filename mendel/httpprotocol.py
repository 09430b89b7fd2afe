"""uvicorn's HTTP/1.1 protocol (httptools) with a deadline for a request's headers.

uvicorn closes a connection that stays idle after an answer (``timeout_keep_alive``), but
it has no deadline for the headers of a request: a client that opens a connection and
sends half a request line, or nothing at all, holds that connection (and its memory) for
as long as it likes, so a thousand of them stayed open for good. Here a request's headers
must be complete within ``HEADER_TIMEOUT_S`` seconds of the connection opening, or of the
request's first byte on a kept-alive connection; otherwise the answer is 408 and the
connection is closed. A body is not covered (it is read as the application asks for it).

    uvicorn mendel.asgi:application --http mendel.httpprotocol:HeaderTimeoutProtocol \
        --no-proxy-headers

``--no-proxy-headers`` goes with it: uvicorn otherwise believes ``X-Forwarded-For`` from
127.0.0.1, so any client on the machine could name its own address; Mendel reads that
header itself, from ``TRUSTED_PROXIES`` only (``breeding.limits.client_address``).
``SERVER_OPTIONS`` (command line) and ``SERVER_CONFIG`` (``uvicorn.Config``) say both.
"""

from __future__ import annotations

from asyncio import TimerHandle

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mendel.env import env_float

SERVER_OPTIONS = ["--http", "mendel.httpprotocol:HeaderTimeoutProtocol", "--no-proxy-headers"]
SERVER_CONFIG = {"http": "mendel.httpprotocol:HeaderTimeoutProtocol", "proxy_headers": False}
HEADER_TIMEOUT_S = env_float("HEADER_TIMEOUT_S", 10.0, low=0.1, high=3600.0)
_LATE = b"The request's headers did not arrive in time.\n"
TOO_SLOW = (b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(_LATE), _LATE))


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """HttpToolsProtocol, closing a connection whose request headers are late (408)."""

    _header_timer: TimerHandle | None = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()  # a request on a kept-alive connection: from its first byte

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(HEADER_TIMEOUT_S, self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self.transport.get_protocol() is not self:
            return  # gone, or upgraded to a WebSocket
        self.transport.write(TOO_SLOW)
        self.transport.close()
