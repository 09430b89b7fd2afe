"""Bodies larger than any request may be are refused before they are read.

Django's ASGI handler reads a whole request body (to a temporary file past a few MB) before
any middleware or view sees the request, so a size check there comes after the disk and
the time are spent. This ASGI layer answers 413 from the Content-Length header alone, and
stops reading a body sent without one (chunked) as soon as it outgrows the limit.
"""

from __future__ import annotations

import json


class BodyLimit:
    def __init__(self, app, max_bytes: int, message: str) -> None:
        self.app, self.max_bytes, self.message = app, max_bytes, message

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = None
        if length is not None and length > self.max_bytes:
            return await self.refuse(send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:  # no honest length: stop reading, drop the request
                    return {"type": "http.disconnect"}
            return message

        return await self.app(scope, limited, send)

    async def refuse(self, send) -> None:
        body = json.dumps({"error": self.message}).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"), (b"cache-control", b"no-store"),
        ]})
        await send({"type": "http.response.body", "body": body})
