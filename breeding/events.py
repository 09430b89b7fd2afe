"""Events for a breeder's studio socket, sent after the surrounding transaction commits.

This module is the only place that sends to studio groups (see ``consumers.py``).
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def studio_group(user_id: int) -> str:
    """The channel-layer group of one user's studio sockets (all their tabs and devices)."""
    return f"studio.user.{int(user_id)}"


#: Every open studio socket: news that concerns all breeders (a space's genes are ready).
ALL_STUDIOS = "studio.all"


def send_to_all(payload: dict) -> None:
    """Deliver ``payload`` to every open studio socket, once the transaction commits."""
    _send_on_commit(ALL_STUDIOS, payload)


def send_to_user(user_id: int, payload: dict) -> None:
    """Deliver ``payload`` to every studio socket of the user, once the transaction commits."""
    _send_on_commit(studio_group(user_id), payload)


def close_session_sockets(user_id: int, session_key: str | None) -> None:
    """Close the studio sockets opened with this login session (it has just ended): a
    socket must not keep hearing a user's events after they logged out."""
    if session_key:
        _send_on_commit(studio_group(user_id), {"session": session_key}, kind="studio.logout")


def _send_on_commit(group: str, payload: dict, kind: str = "studio.event") -> None:
    def send() -> None:
        message = {"type": kind, "payload": payload} if kind == "studio.event" else {"type": kind, **payload}
        async_to_sync(get_channel_layer().group_send)(group, message)

    transaction.on_commit(send)
