"""The exhibition socket, ``/ws/exhibitions/<slug>/[?since=<seq>]``: anyone who may see the
exhibition follows it live; its curators change it from here too.

Protocol (JSON text frames, at most ``MAX_MESSAGE_BYTES``):

- server → client on connect: ``{"type": "snapshot", "seq": n, "exhibition": {...},
  "you": {"curator": bool}}``; or, with ``?since=<seq>`` of a reconnecting client that is
  not too far behind, each event it missed (in order) and then ``{"type": "caught-up",
  "seq": n, "you": {...}}``.
- server → client, logged (each with the exhibition's next ``seq``): ``item.added``,
  ``item.moved``, ``item.removed``, ``item.edited``, ``tour``, ``edited``, ``open``,
  ``closed``, ``unpublished``, ``round.started``, ``round.closed``. A client keeps the last
  seq it saw and reconnects with it.
- server → client, momentary (no seq): ``{"type": "presence", "viewers": n}`` (at most every
  ``PRESENCE_EVERY_S``; people, not sockets: an account, or an address without one),
  ``{"type": "reaction", "emoji": "..."}``.
- client → server, anyone: ``ping`` (``id``), ``react`` (``emoji``, one of ``REACTIONS``; one
  over the exhibition's crowd limit is answered with an error), ``vote`` (``round``,
  ``candidate``: the candidate's position; a second vote changes the first; a visitor
  without an account needs a session, which the page's vote, over HTTP, starts).
- A ``?since=`` that is not ASCII digits is refused (an error, then close 4400); a viewer
  with ``EXHIBITION_SOCKETS_PER_VIEWER`` sockets open here already gets close 4429; frames
  over 64 KB are refused by the server (1009) before they are read.
- client → server, curators (and staff) only: ``add`` (``work``, ``wall_text``,
  ``position``), ``move`` (``item``, ``position``), ``remove`` (``item``), ``edit`` (``item``,
  ``wall_text``), ``tour`` (``item`` or null), ``status`` (``status``), ``round.start``
  (``work``, ``n``, ``seconds``), ``round.end``.
- Any message may carry ``ref`` (a short string); the answer to it carries it back: ``{"type":
  "ok", "ref": ...}`` or ``{"type": "error", "message": "...", "ref": ...}``. A bad message
  gets an error and the socket stays open.
- The socket speaks the language of its page (``?lang=``, else the language cookie, else
  ``Accept-Language``): its errors, and the words of what it is sent (the demo exhibition's
  words, a round's ``tie_rule``: ``exhibitions.worded``); a curator is sent the words as they
  are kept.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from breeding import budget, languages
from breeding.limits import scope_address, take
from common.numbers import whole_number
from common.process_cache import process_cache
from gallery import exhibitions
from gallery.models import Exhibition, ExhibitionStatus

logger = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 64 * 1024
CLOSE_NOT_FOUND = 4404
CLOSE_BAD_REQUEST = 4400
CLOSE_TOO_MANY = 4429
REACTIONS = ("❤️", "👏", "😮", "😂", "🔥", "✨")
PRESENCE_EVERY_S = 2.0
#: Reactions shown per exhibition per second, whoever sends them: a crowd's reactions must
#: not drown the events that matter.
REACTIONS_PER_S = 20


class Bucket:
    """A token bucket: ``rate`` a second, at most ``burst`` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.last = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Invalid(Exception):
    pass


#: Frames a socket may fall behind by before it is closed (``CLOSE_TOO_SLOW``): its client
#: reconnects with ``?since=`` and catches up from the log, instead of the process holding
#: an ever longer queue for it.
OUTBOX_MAX = 1000
CLOSE_TOO_SLOW = 4408
#: A hall renews its group membership this often (channels-redis forgets members after its
#: ``group_expiry``, a day by default, however busy they are).
HALL_RENEW_S = 3600.0


class Hall:
    """This process's sockets of one exhibition, behind one channel-layer channel.

    However many visitors a process serves, the exhibition's group holds one channel per
    process: each event crosses the layer once, is decoded and JSON-encoded once (once per
    language for the few that carry words: ``Texts``), and the same text is written to every
    local socket. With a channel per socket, a broadcast to 1,000 sockets cost the layer
    1,000 deliveries (the in-memory layer scans every channel on each of them,
    channels-redis's receivers contend for one lock) and 1,000 encodings:
    about 0.4 ms of CPU per socket per event: 50 events at 5 a second to 1,000 viewers of
    one process took 31 s, p95 0.5-1.2 s; now 60 us, p95 60-100 ms (bench/exhibition.py,
    docs/benchmarks.md).
    """

    halls: dict[tuple[int, int], Hall] = {}

    def __init__(self, layer, exhibition_id: int) -> None:
        self.layer = layer
        self.group = exhibitions.group(exhibition_id)
        self.viewers: set[ExhibitionConsumer] = set()
        self.ready = asyncio.Event()
        self.channel: str | None = None
        self.tasks: list[asyncio.Task] = []
        self.failed = False

    @classmethod
    async def join(cls, consumer: ExhibitionConsumer) -> Hall:
        """The consumer's hall, in the group once this returns: events committed after it
        reach the consumer. If it raises, the consumer is in no hall."""
        key = (id(asyncio.get_running_loop()), consumer.exhibition.pk)
        hall = cls.halls.get(key)
        opening = hall is None
        if opening:
            hall = cls.halls[key] = cls(consumer.channel_layer, consumer.exhibition.pk)
        hall.viewers.add(consumer)
        try:
            if opening:
                try:
                    hall.channel = await hall.layer.new_channel()
                    await hall.layer.group_add(hall.group, hall.channel)
                    hall.tasks = [asyncio.create_task(hall.relay()), asyncio.create_task(hall.renew())]
                except BaseException:
                    hall.failed = True
                    raise
                finally:
                    hall.ready.set()
            else:
                await hall.ready.wait()
                if hall.failed:
                    raise ConnectionError(f"exhibition hall {hall.group} could not join its group")
        except BaseException:
            await hall.leave(consumer)
            raise
        return hall

    async def leave(self, consumer: ExhibitionConsumer) -> None:
        self.viewers.discard(consumer)
        if self.viewers:
            return
        key = next((k for k, v in self.halls.items() if v is self), None)
        if key is not None:
            del self.halls[key]  # the next visitor opens a new hall
        for task in self.tasks:
            task.cancel()
        self.tasks = []
        if self.channel is not None:
            channel, self.channel = self.channel, None
            await self.layer.group_discard(self.group, channel)

    async def relay(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("exhibition hall %s: the channel layer failed; retrying", self.group)
                await asyncio.sleep(1)
                continue
            event = message.get("event")
            if message.get("type") != "exhibition.event" or not isinstance(event, dict):
                continue
            texts = Texts(event)
            ready: list[ExhibitionConsumer] = []
            for consumer in list(self.viewers):
                consumer.deliver(event, texts.of(consumer), ready)
            # The sockets with nothing else waiting are written here, one after another, not
            # each by a task of its own (creating 2,500 tasks an event was a fifth of a
            # process's time at 10,000 viewers). Sending a frame never waits for the socket
            # with the servers Mendel runs (uvicorn's websockets-sansio: the frame goes to
            # the transport's buffer), so no viewer holds up the others.
            for consumer in ready:
                await consumer.flush()

    async def renew(self) -> None:
        while True:
            await asyncio.sleep(HALL_RENEW_S)
            try:
                await self.layer.group_add(self.group, self.channel)
            except Exception:
                logger.exception("exhibition hall %s: could not renew the membership", self.group)


class Texts:
    """An event as JSON, encoded once for all the sockets that are shown the same words: once
    in all for most events, once per language (and once more for curators, who are shown
    the words as they are kept) for those that carry words (``exhibitions.WORDED``). One
    frame for every viewer would speak one language to all of them."""

    def __init__(self, event: dict) -> None:
        self.event = event
        self.plain = event.get("type") not in exhibitions.WORDED
        self.texts: dict[tuple[str, bool], str] = {}

    def of(self, consumer: ExhibitionConsumer) -> str:
        key = ("", False) if self.plain else (consumer.language, consumer.curator)
        text = self.texts.get(key)
        if text is None:
            if self.plain:
                text = json.dumps(self.event)
            else:
                with translation.override(consumer.language):
                    text = json.dumps(exhibitions.worded(self.event, content=not consumer.curator))
            self.texts[key] = text
        return text


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def whole(content: dict, name: str, low: int = 0, high: int = 2**31, required: bool = True):
    value = content.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(_('"%(name)s" must be a whole number from %(low)s to %(high)s.')
                      % {"name": name, "low": low, "high": high})
    return value


def text(content: dict, name: str, most: int, required: bool = True) -> str | None:
    value = content.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > most or "\x00" in value:
        raise Invalid(_('"%(name)s" must be text of at most %(most)s characters.')
                      % {"name": name, "most": most})
    return value


#: Each message type and the fields it may carry (besides ``type`` and ``ref``).
FIELDS = {
    "ping": {"id"}, "react": {"emoji"}, "vote": {"round", "candidate"},
    "add": {"work", "wall_text", "position"}, "move": {"item", "position"}, "remove": {"item"},
    "edit": {"item", "wall_text"}, "tour": {"item"}, "status": {"status"},
    "round.start": {"work", "n", "seconds"}, "round.end": set(),
}
CURATORS_ONLY = {"add", "move", "remove", "edit", "tour", "status", "round.start", "round.end"}


class ExhibitionConsumer(AsyncJsonWebsocketConsumer):
    exhibition: Exhibition | None = None
    group: str | None = None
    hall: Hall | None = None
    seq = 0
    curator = False
    #: Counted among the exhibition's viewers (``_arrive``), as ``viewer``.
    counted = False
    viewer = ""
    #: The language of the socket's page (``breeding.languages.of_handshake``).
    language = settings.LANGUAGE_CODE
    #: Events from the hall before the snapshot or replay is sent, then None.
    early: list | None = None
    #: Frames waiting to be written while a write is under way, or None.
    outbox: deque | None = None

    async def connect(self) -> None:
        # Everything that can refuse the socket comes before it joins the exhibition's hall;
        # from the join on, any failure (a closed connection, the database) leaves the hall
        # again, so no dead socket is left receiving every later event.
        # The socket speaks its page's language: this task serves this connection only.
        self.language = languages.of_handshake(self.scope)
        translation.activate(self.language)
        slug = self.scope["url_route"]["kwargs"]["slug"]
        since, bad_since = self.since()
        self.exhibition = await self.find(slug)
        await self.accept()
        if self.exhibition is None:
            return await self.refuse(_("There is no exhibition here by that name."), CLOSE_NOT_FOUND)
        if bad_since:
            return await self.refuse(_('"since" must be the seq of an event: a whole number in '
                                       'digits 0-9.'), CLOSE_BAD_REQUEST)
        self.messages = Bucket(rate=10, burst=20)
        self.reactions = Bucket(rate=1, burst=5)
        self.votes = Bucket(rate=0.5, burst=3)
        self.curator = await database_sync_to_async(exhibitions.can_curate)(self.scope.get("user"), self.exhibition)
        self.group = exhibitions.group(self.exhibition.pk)
        self.viewer = self.viewer_key()
        if not await database_sync_to_async(_arrive)(self.presence_key(), self.viewer,
                                                     settings.EXHIBITION_SOCKETS_PER_VIEWER):
            return await self.refuse(_("You have this exhibition open in too many places at once: "
                                       "close some of them first."), CLOSE_TOO_MANY)
        self.counted = True
        try:
            # Join first, then read: an event committed meanwhile arrives twice at most, and
            # the seq check in ``deliver`` drops the copy. Events are held until the state is
            # sent.
            self.early = []
            self.hall = await Hall.join(self)
            await self.send_state(since)
            early, self.early = self.early, None
            for event, text in early:
                self.deliver(event, text)
            await self.announce()
        except BaseException:
            await self.leave()
            raise

    async def refuse(self, message: str, code: int) -> None:
        await self.send_json({"type": "error", "message": message})
        await self.close(code=code)

    def since(self) -> tuple[int | None, bool]:
        """``?since=`` as a number (None without one), and whether it was there but bad."""
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        values = query.get("since") or [""]
        if values == [""]:
            return None, False
        since = whole_number(values[0], max_digits=15)
        return since, since is None or len(values) > 1

    def viewer_key(self) -> str:
        """Who this socket is, for presence: an account, else an address (IPv6: its /64)."""
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            return f"u{user.pk}"
        address = scope_address(self.scope)
        return f"a{address}" if address else f"c{self.channel_name}"

    @database_sync_to_async
    def find(self, slug: str) -> Exhibition | None:
        return Exhibition.objects.visible_to(self.scope.get("user")).filter(slug=slug[:80]).first()

    async def send_state(self, since: int | None) -> None:
        you = {"curator": self.curator}
        missed = None
        if since is not None:
            missed = await database_sync_to_async(exhibitions.events_since)(self.exhibition, since)
        if missed is None:
            state = await database_sync_to_async(exhibitions.snapshot)(self.exhibition)
            self.seq = state["seq"]
            await self.send_json({**exhibitions.worded(state, content=not self.curator), "you": you})
            return
        for event in missed:
            await self.send_json(exhibitions.worded(event, content=not self.curator))
        self.seq = missed[-1]["seq"] if missed else since
        await self.send_json({"type": "caught-up", "seq": self.seq, "you": you})

    async def disconnect(self, code: int) -> None:
        await self.leave()

    async def leave(self) -> None:
        """Out of the hall and the count; once, however often it is asked."""
        hall, self.hall = self.hall, None
        self.outbox = None
        self.early = None
        if hall is not None:
            await hall.leave(self)
        if self.counted:
            self.counted = False
            await database_sync_to_async(_depart)(self.presence_key(), self.viewer)
            await self.announce()

    # -- presence ---------------------------------------------------------------------

    def presence_key(self) -> str:
        return f"presence:{self.exhibition.pk}"

    async def announce(self) -> None:
        """Have the count of viewers announced at most every ``PRESENCE_EVERY_S`` (counted
        in the cache, shared by every process with Redis). A viewer is a person: an account,
        or an address without one, however many sockets they open."""
        due = await database_sync_to_async(process_cache().add)(f"{self.presence_key()}:due", 1, PRESENCE_EVERY_S)
        if due:
            asyncio.get_running_loop().create_task(self.announce_presence(self.presence_key()))

    async def announce_presence(self, key: str) -> None:
        await asyncio.sleep(PRESENCE_EVERY_S)
        viewers = max(0, await database_sync_to_async(process_cache().get)(key, 0))
        await self.channel_layer.group_send(
            exhibitions.group(self.exhibition.pk),
            {"type": "exhibition.event", "event": {"type": "presence", "viewers": viewers}})

    # -- from the group ---------------------------------------------------------------

    def deliver(self, event: dict, text: str, ready: list | None = None) -> None:
        """An event from the hall, ``text`` its JSON (encoded once for every socket of this
        process); never waits for this socket. With ``ready``, a socket with nothing else to
        write is added to it for the hall to write, instead of getting a task."""
        if self.early is not None:
            self.early.append((event, text))
            return
        seq = event.get("seq")
        if seq is not None:
            if seq <= self.seq:
                return  # sent already, in the snapshot or the replay
            self.seq = seq
        self.write({"type": "websocket.send", "text": text}, ready)
        if event["type"] == "unpublished" and not self.curator:
            with translation.override(self.language):  # (the hall's task speaks no one's)
                message = _("This exhibition is no longer shown.")
            self.write({"type": "websocket.send", "text": json.dumps({"type": "error", "message": message})})
            self.write({"type": "websocket.close", "code": CLOSE_NOT_FOUND})
        elif event["type"] in ("open", "closed", "unpublished"):
            self.exhibition.status = event["status"]

    def write(self, message: dict, ready: list | None = None) -> None:
        """Queue a frame behind those being written, in order; one task per socket writes
        them while there are any (or, with ``ready``, the hall's: see ``Hall.relay``)."""
        if self.hall is None:
            return  # gone
        if self.outbox is None:
            self.outbox = deque([message])
            if ready is not None:
                ready.append(self)
            else:
                asyncio.get_running_loop().create_task(self.flush())
        elif len(self.outbox) >= OUTBOX_MAX:
            self.outbox.clear()
            self.outbox.append({"type": "websocket.close", "code": CLOSE_TOO_SLOW})
        else:
            self.outbox.append(message)

    async def flush(self) -> None:
        try:
            while self.outbox:
                message = self.outbox.popleft()
                await self.base_send(message)
                if message["type"] == "websocket.close":
                    break
        except Exception:  # the socket closed meanwhile: its disconnect cleans up
            pass
        finally:
            self.outbox = None

    # -- from the client --------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            return await self.error(_("Messages must be JSON text, not binary."))
        if len(text_data) > MAX_MESSAGE_BYTES or len(text_data.encode()) > MAX_MESSAGE_BYTES:
            return await self.error(_("Message too large (limit %(kb)s KB).") % {"kb": MAX_MESSAGE_BYTES // 1024})
        if not self.messages.take():
            return await self.error(_("You are sending messages too fast. Slow down."))
        try:
            content = json.loads(text_data, parse_constant=_no_constant)
        except RecursionError:
            return await self.error(_("Messages may not be nested this deeply."))
        except ValueError:
            return await self.error(_("Messages must be valid JSON."))
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            return await self.error(_('Messages must be JSON objects with a "type".'))
        ref = content.get("ref")
        if ref is not None and not (isinstance(ref, str) and len(ref) <= 64):
            return await self.error(_('"%(name)s" must be text of at most %(most)s characters.')
                                    % {"name": "ref", "most": 64})
        kind = content["type"]
        if kind not in FIELDS:
            return await self.error(_("Unknown message type %(type)s.") % {"type": repr(kind[:40])}, ref)
        extra = set(content) - FIELDS[kind] - {"type", "ref"}
        if extra:
            return await self.error(_("A %(type)s message has no %(field)s.")
                                    % {"type": kind, "field": repr(sorted(extra)[0][:40])}, ref)
        if kind in CURATORS_ONLY and not self.curator:
            return await self.error(_("Only this exhibition's curators can do that."), ref)
        try:
            await getattr(self, "on_" + kind.replace(".", "_"))(content)
        except Invalid as invalid:
            return await self.error(str(invalid), ref)
        except exhibitions.Refused as refused:
            return await self.error(refused.message, ref)
        if kind != "ping":
            await self.send_json({"type": "ok", "ref": ref})

    async def error(self, message: str, ref=None) -> None:
        await self.send_json({"type": "error", "message": message, **({"ref": ref} if ref is not None else {})})

    async def on_ping(self, content: dict) -> None:
        ping = content.get("id")
        if ping is not None and not (isinstance(ping, str) and len(ping) <= 64):
            raise Invalid(_('"%(name)s" must be text of at most %(most)s characters.')
                          % {"name": "id", "most": 64})
        await self.send_json({"type": "pong", "id": ping})

    async def on_react(self, content: dict) -> None:
        emoji = content.get("emoji")
        if emoji not in REACTIONS:
            raise Invalid(_('"%(name)s" must be one of %(choices)s.')
                          % {"name": "emoji", "choices": " ".join(REACTIONS)})
        if self.exhibition.status != ExhibitionStatus.OPEN:
            raise exhibitions.Refused(_("Reactions are for open exhibitions."))
        if not self.reactions.take():
            raise exhibitions.Refused(_("One reaction a second is plenty. Wait a moment."))
        crowded = await database_sync_to_async(take)(f"reactions:{self.exhibition.pk}", 1, REACTIONS_PER_S, 1)
        if crowded:  # said, never dropped without a word
            raise exhibitions.Refused(_("So many people are reacting just now that yours was not "
                                        "shown. Try again in a moment."))
        await self.channel_layer.group_send(
            self.group, {"type": "exhibition.event", "event": {"type": "reaction", "emoji": emoji}})

    async def on_vote(self, content: dict) -> None:
        number = whole(content, "round", 1)
        position = whole(content, "candidate", 0, 64)
        if not self.votes.take():
            raise exhibitions.Refused(_("Too many votes at once. Wait a moment."))
        user = self.scope.get("user")
        session = self.scope.get("session")
        voter = user if user is not None and user.is_authenticated else None
        key = session.session_key if session is not None else None
        await database_sync_to_async(exhibitions.do_vote)(self.exhibition, number, position, voter, key,
                                                          scope_address(self.scope))

    # -- curators ---------------------------------------------------------------------

    @database_sync_to_async
    def curate(self, action, *args, **kwargs):
        if not exhibitions.can_curate(self.scope.get("user"), self.exhibition):  # revoked since?
            self.curator = False
            raise exhibitions.Refused(_("Only this exhibition's curators can do that."))
        return action(self.exhibition, *args, **kwargs)

    async def on_add(self, content: dict) -> None:
        await self.curate(exhibitions.do_add, text(content, "work", 16),
                          text(content, "wall_text", 2000, required=False) or "",
                          whole(content, "position", 0, exhibitions.MAX_ITEMS, required=False))

    async def on_move(self, content: dict) -> None:
        await self.curate(exhibitions.do_move, whole(content, "item", 1),
                          whole(content, "position", 0, exhibitions.MAX_ITEMS))

    async def on_remove(self, content: dict) -> None:
        await self.curate(exhibitions.do_remove, whole(content, "item", 1))

    async def on_edit(self, content: dict) -> None:
        await self.curate(exhibitions.do_edit_item, whole(content, "item", 1),
                          text(content, "wall_text", 2000))

    async def on_tour(self, content: dict) -> None:
        await self.curate(exhibitions.do_tour, whole(content, "item", 1, required=False))

    async def on_status(self, content: dict) -> None:
        status = content.get("status")
        if status not in ExhibitionStatus.values:
            raise Invalid(_('"%(name)s" must be one of %(choices)s.')
                          % {"name": "status", "choices": ", ".join(ExhibitionStatus.values)})
        await self.curate(exhibitions.do_update, status=status)

    async def on_round_start(self, content: dict) -> None:
        low, high = exhibitions.ROUND_CHILDREN
        work = text(content, "work", 16, required=False)
        n = whole(content, "n", low, high, required=False) or 4
        seconds = whole(content, "seconds", *exhibitions.ROUND_SECONDS, required=False) or 60

        def start(exhibition):
            exhibitions.check_round_parent(work)  # before the budget is spent on it
            # The children are renders like any others: the curator's budget pays for them.
            wait, message = budget.spend(self.scope["user"].pk, None, budget.creations(n))
            if wait:
                raise exhibitions.Refused(message)
            return exhibitions.do_start_round(exhibition, self.scope["user"], work, n, seconds)

        await self.curate(start)

    async def on_round_end(self, content: dict) -> None:
        await self.curate(exhibitions.do_end_round)


def _count(key: str, change: int) -> int:
    """Add ``change`` to a counter in the cache (atomic in every backend); its new value."""
    cache = process_cache()  # a socket's context lives as long as it: not a client each
    cache.add(key, 0, timeout=None)
    try:
        return cache.incr(key, change)
    except ValueError:  # evicted between the two: start again
        cache.set(key, max(0, change), timeout=None)
        return max(0, change)


def _arrive(key: str, viewer: str, most: int) -> bool:
    """Count a socket of ``viewer`` in, and the viewer with its first; False (nothing
    counted) when the viewer holds ``most`` sockets already."""
    sockets = _count(f"{key}:{viewer}", +1)
    if sockets > most:
        _count(f"{key}:{viewer}", -1)
        return False
    if sockets == 1:
        _count(key, +1)
    return True


def _depart(key: str, viewer: str) -> None:
    """Count a socket of ``viewer`` out, and the viewer with its last."""
    if _count(f"{key}:{viewer}", -1) <= 0:
        process_cache().delete(f"{key}:{viewer}")
        _count(key, -1)
