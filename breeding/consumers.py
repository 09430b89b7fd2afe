"""The studio socket, ``/ws/studio/``: one per open studio tab of a logged-in breeder.

Protocol (JSON text frames):
- server → client on connect: ``{"type": "hello", "user": <username>}``
- client → server: ``{"type": "ping", "id": <any short string or number>}``
  server → client: ``{"type": "pong", "id": <same>}``
- server → client: events for this user, as sent by ``breeding.events.send_to_user``, and
  for every breeder, as sent by ``breeding.events.send_to_all``; long jobs report
  ``{"type": "progress", "task": ..., "space": ..., "fraction": 0..1, "message": ...}``
  and then ``{"type": "done", "task": ..., "space": ...}``
- anything malformed: ``{"type": "error", "message": "..."}``; the socket stays open.
- on log-out, the sockets of that login session get ``{"type": "error", "message": "You
  have logged out."}`` and are closed with code 4401.

A socket speaks the language of its page (``?lang=``, else the cookie, else
``Accept-Language``: ``breeding.languages.of_handshake``): every handler runs in it, the
database calls it makes included, and a line sent to every studio as words
(``{"words": ...}``, ``common.words``) is said in it.
"""

from __future__ import annotations

import json
import math

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import translation
from django.utils.translation import gettext as _

from breeding import languages
from breeding.events import ALL_STUDIOS, studio_group
from common.words import spoken

MAX_MESSAGE_BYTES = 16 * 1024
CLOSE_UNAUTHENTICATED = 4401


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


class StudioConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None
    #: The language of the socket's reader, read from its handshake at its first message.
    language: str | None = None

    async def dispatch(self, message) -> None:
        """Every message, the connection's own included, handled in the reader's language."""
        if self.language is None:
            self.language = languages.of_handshake(self.scope)
        with translation.override(self.language):
            await super().dispatch(message)

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept()
            await self.send_json({"type": "error", "message": _("Log in to use the studio.")})
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        # Accepted before it joins its groups, and out of them again if anything fails after
        # the first join (disconnect is not called for a connect that raised): a dead socket
        # left in a group would be sent every later event for good.
        await self.accept()
        self.group = studio_group(user.pk)
        try:
            await self.channel_layer.group_add(self.group, self.channel_name)
            await self.channel_layer.group_add(ALL_STUDIOS, self.channel_name)
            await self.send_json({"type": "hello", "user": user.get_username()})
        except BaseException:
            await self.leave()
            raise

    async def disconnect(self, code: int) -> None:
        await self.leave()

    async def leave(self) -> None:
        group, self.group = self.group, None
        if group:
            await self.channel_layer.group_discard(group, self.channel_name)
            await self.channel_layer.group_discard(ALL_STUDIOS, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            return await self.error(_("Messages must be JSON text, not binary."))
        if len(text_data.encode()) > MAX_MESSAGE_BYTES:
            return await self.error(_("Message too large (limit %(limit)d bytes).")
                                    % {"limit": MAX_MESSAGE_BYTES})
        try:
            content = json.loads(text_data, parse_constant=_no_constant)
        except RecursionError:
            return await self.error(_("Messages may not be nested this deeply."))
        except ValueError:  # not JSON, NaN or Infinity, a number of thousands of digits
            return await self.error(_("Messages must be valid JSON."))
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            return await self.error(_('Messages must be JSON objects with a "type".'))
        kind = content["type"]
        if kind == "ping":
            ping_id = content.get("id")
            if ping_id is not None and not (
                (isinstance(ping_id, int | float) and not isinstance(ping_id, bool)
                 and math.isfinite(ping_id) and abs(ping_id) <= 2**53)  # a number JavaScript keeps
                or (isinstance(ping_id, str) and len(ping_id) <= 64)
            ):
                return await self.error(_('"id" must be a number or a string of at most 64 '
                                          'characters.'))
            return await self.send_json({"type": "pong", "id": ping_id})
        await self.error(_("Unknown message type %(type)s.") % {"type": repr(kind[:40])})

    async def error(self, message: str) -> None:
        await self.send_json({"type": "error", "message": message})

    async def studio_event(self, event: dict) -> None:
        payload = event["payload"]
        if "words" in payload:  # a line for every studio: said in this one's language
            payload = {key: value for key, value in payload.items() if key != "words"}
            payload["message"] = spoken(event["payload"]["words"])
        await self.send_json(payload)

    async def studio_logout(self, event: dict) -> None:
        """The login session this socket was opened with has ended: it hears no more."""
        session = self.scope.get("session")
        if session is not None and session.session_key == event["session"]:
            await self.error(_("You have logged out."))
            await self.close(code=CLOSE_UNAUTHENTICATED)
