"""The notice socket, ``/ws/notices/``: every page of a logged-in breeder opens one, to keep
the header's unread count and the notices page up to date.

Protocol (JSON text frames, as the studio socket's: ``breeding.consumers``):

- server → client on connect: ``{"type": "hello", "unread": n}`` (the count now: a client
  that reconnects takes it afresh rather than guessing what it missed);
- server → client, when a notice is made for them: ``{"type": "notice", "unread": n,
  "notice": {...}}`` (the notice as ``GET /api/notices/`` lists it); when their notices are
  marked read elsewhere: ``{"type": "unread", "unread": n}``;
- client → server: ``{"type": "ping", "id": ...}``, answered ``{"type": "pong", "id": ...}``;
- anything else or malformed: ``{"type": "error", "message": "..."}``; the socket stays open;
- a visitor without an account is told so and closed (4401); so are the sockets of a login
  session that logs out.

Unread counts stop at ``notices.UNREAD_MAX`` (shown as "99+").
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from django.utils import translation
from django.utils.translation import gettext as _

from breeding import languages
from breeding.consumers import CLOSE_UNAUTHENTICATED, StudioConsumer
from gallery import notices


class NoticeConsumer(StudioConsumer):
    """The studio socket's checks of what a client sends (size, JSON, ``ping``) and its
    log-out, in a group of its own: the notices of one breeder. It speaks the language of
    its page (``breeding.languages.of_handshake``): its errors, and each notice's sentence
    (``gallery.notices.announce`` words a notice in every language; this socket sends its own)."""

    async def connect(self) -> None:
        self.language = languages.of_handshake(self.scope)
        translation.activate(self.language)  # this task serves this connection only
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept()
            await self.send_json({"type": "error", "message": _("Log in to hear of your notices.")})
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        await self.accept()
        self.group = notices.group(user.pk)
        try:
            await self.channel_layer.group_add(self.group, self.channel_name)
            unread = await database_sync_to_async(notices.unread_count)(user)
            await self.send_json({"type": "hello", "unread": unread})
        except BaseException:
            await self.leave()
            raise

    async def leave(self) -> None:
        group, self.group = self.group, None
        if group:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def notices_event(self, event: dict) -> None:
        payload = event["payload"]
        worded = (event.get("worded") or {}).get(self.language)
        if worded is not None:  # the notice in this socket's language
            payload = {**payload, "notice": worded}
        await self.send_json(payload)

    async def notices_logout(self, event: dict) -> None:
        await self.studio_logout(event)
