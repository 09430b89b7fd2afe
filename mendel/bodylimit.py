"""Bodies larger than any request may be are refused before they reach Django, and bodies
sent in chunks reach it with their length.

Django's ASGI handler reads a whole request body (to a temporary file past a few MB) before
any middleware or view sees the request, so a size check there comes after the disk and
the time are spent. This ASGI layer answers 413 from the Content-Length header alone.

A body sent without a length (``Transfer-Encoding: chunked``) is read here first, up to
the limit, and handed on with the ``Content-Length`` it turned out to have: Django reads
such a body, but DRF takes a request without a length for one without a body, so a chunked
JSON request used to run with the view's defaults. One that outgrows the limit is a 413.

The 413 comes after the rest of the body has been read and thrown away, up to
``drain_bytes``: a server that answers and closes while the client is still sending makes
the client's operating system see a reset, and most clients (urllib, requests) then report
a broken connection instead of the answer. Past ``drain_bytes`` it answers anyway.

The refusal speaks the request's language, read from its scope as the language middleware
would (the address's prefix, the language cookie, ``Accept-Language``): ``message`` is lazy,
or a function giving the sentence in the active language.
"""

from __future__ import annotations

import json
import tempfile

from django.utils import translation

from breeding import languages
from common.numbers import whole_number

#: A chunked body is kept in memory up to this size, on disk beyond it (as Django does).
SPOOL_IN_MEMORY = 2**20
#: It is handed on in parts of this size.
PART = 2**20


class BodyLimit:
    def __init__(self, app, max_bytes: int, message, drain_bytes: int | None = None,
                 larger: dict[str, tuple[int, object]] | None = None) -> None:
        self.app, self.max_bytes, self.message = app, max_bytes, message
        #: How much of a refused body is read (and dropped) before the 413, at most.
        self.drain_bytes = 2 * max_bytes if drain_bytes is None else drain_bytes
        #: Paths that take larger bodies (published films): prefix -> (bytes, message).
        self.larger = {prefix: BodyLimit(app, most, said, drain_bytes=self.drain_bytes)
                       for prefix, (most, said) in (larger or {}).items()}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        for prefix, limit in self.larger.items():
            if path == prefix:
                return await limit(scope, receive, send)
        length, chunked = None, False
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                length = whole_number(value.decode("latin-1").strip())
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        if length is not None and length > self.max_bytes:
            await self.drain(receive, 0)
            return await self.refuse(scope, send)
        if chunked and length is None:
            return await self.chunked(scope, receive, send)
        return await self.app(scope, receive, send)

    async def chunked(self, scope, receive, send):
        """Read a body sent without a length, then hand it on with one (413 past the limit)."""
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            size = 0
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None  # the client went away: nobody to answer
                body = message.get("body", b"")
                size += len(body)
                if size > self.max_bytes:
                    if message.get("more_body"):
                        await self.drain(receive, size)
                    return await self.refuse(scope, send)
                spool.write(body)
                if not message.get("more_body"):
                    break
            spool.seek(0)
            headers = [(k, v) for k, v in scope["headers"] if k != b"transfer-encoding"]
            headers.append((b"content-length", str(size).encode()))
            done = False

            async def replay():
                nonlocal done
                if not done:
                    part = spool.read(PART)
                    done = spool.tell() >= size
                    return {"type": "http.request", "body": part, "more_body": not done}
                return await receive()  # then what the connection says (a disconnect)

            return await self.app({**scope, "headers": headers}, replay, send)

    async def drain(self, receive, read: int) -> None:
        """Read and drop the rest of a refused body, up to ``drain_bytes`` in all."""
        while read < self.drain_bytes:
            message = await receive()
            if message["type"] != "http.request":
                return
            read += len(message.get("body", b""))
            if not message.get("more_body"):
                return

    async def refuse(self, scope, send) -> None:
        language = language_of(scope)
        with translation.override(language):
            message = str(self.message() if callable(self.message) else self.message)
        body = json.dumps({"error": message}).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"), (b"cache-control", b"no-store"),
            (b"content-language", language.encode()),
        ]})
        await send({"type": "http.response.body", "body": body})


def language_of(scope: dict) -> str:
    """The language of an HTTP request, from its scope (no request exists yet here)."""
    return (translation.get_language_from_path(scope.get("path", ""))
            or languages.of_handshake({**scope, "query_string": b""}))
