// An exhibition, followed live over its socket (/ws/exhibitions/<slug>/; the protocol is
// in gallery/consumers.py). The page starts from the server's snapshot and its seq; every
// logged event after that is applied in order, and a socket that comes back asks for what
// it missed with ?since=<seq>. A gap in the seqs, or a snapshot, starts again from the
// server's state. Curators' actions go through the same socket and answer ok or error.
// The server speaks the page's language (?lang=): its sentences are shown as they come.
import { formatDate, gettext, interpolate, lang, pgettext, pageUrl } from "./i18n.js";

const PING_EVERY_MS = 20000;
const LOGGED = new Set(["item.added", "item.moved", "item.removed", "item.edited", "tour", "edited",
  "open", "closed", "unpublished", "round.started", "round.closed", "works.changed"]);

function renumber(items) {
  items.forEach((item, i) => { item.position = i; });
  return items;
}

// Apply one logged event to the exhibition (the manifest the server would send now).
export function applyEvent(ex, event) {
  switch (event.type) {
    case "item.added": {
      const items = ex.items.filter((i) => i.id !== event.item.id);
      items.splice(Math.min(event.item.position, items.length), 0, event.item);
      ex.items = renumber(items);
      break;
    }
    case "item.moved": {
      const item = ex.items.find((i) => i.id === event.item);
      if (!item) break;
      const rest = ex.items.filter((i) => i !== item);
      rest.splice(Math.min(event.position, rest.length), 0, item);
      ex.items = renumber(rest);
      break;
    }
    case "item.removed":
      ex.items = renumber(ex.items.filter((i) => i.id !== event.item));
      if (ex.tour === event.item) ex.tour = null;
      break;
    case "item.edited": {
      const item = ex.items.find((i) => i.id === event.item);
      if (item) item.wall_text = event.wall_text;
      break;
    }
    case "tour":
      ex.tour = event.item;
      break;
    case "edited":
      for (const key of ["title", "statement", "cover", "opens_at", "closes_at"]) {
        if (key in event) ex[key] = event[key];
      }
      break;
    case "open": case "closed": case "unpublished":
      ex.status = event.status;
      break;
    case "round.started": case "round.closed":
      ex.round = event.round;
      break;
    case "works.changed":  // a work shown here was hidden (or came back): the state as it is now
      Object.assign(ex, event.exhibition);
      if (ex.tour !== null && !ex.items.some((i) => i.id === ex.tour)) ex.tour = null;
      break;
  }
}

// Follow an exhibition. ``handlers``: change(event, live) after the state changed (event is
// {type: "snapshot"} after a fresh start), presence(n), reaction(emoji), problem(sentence)
// for errors that answer nothing of ours.
export function followExhibition(initial, handlers, stateEl) {
  const live = {
    seq: initial.seq,
    ex: initial.exhibition,
    curator: Boolean(initial.curator),
    viewers: null,
    open: false,
  };
  const pending = new Map();
  let socket = null;
  let delay = 500;
  let timer = null;
  let pinger = null;
  let awaitingPong = false;
  let gone = false;
  let refs = 0;

  const show = (text) => {
    if (!stateEl) return;
    stateEl.hidden = !text;
    stateEl.textContent = text ?? "";
  };

  const settle = (message, ok) => {
    const waiting = pending.get(message.ref);
    if (!waiting) return false;
    pending.delete(message.ref);
    if (ok) waiting.resolve(message);
    else waiting.reject(new Error(message.message));
    return true;
  };

  const onMessage = (message) => {
    switch (message.type) {
      case "snapshot":
        live.seq = message.seq;
        live.ex = message.exhibition;
        live.curator = Boolean(message.you?.curator);
        handlers.change?.({ type: "snapshot" }, live);
        return;
      case "caught-up":
        live.curator = Boolean(message.you?.curator);
        return;
      case "presence":
        live.viewers = message.viewers;
        handlers.presence?.(message.viewers);
        return;
      case "reaction":
        handlers.reaction?.(message.emoji);
        return;
      case "pong":
        awaitingPong = false;
        return;
      case "ok":
        settle(message, true);
        return;
      case "error":
        if (!settle(message, false)) handlers.problem?.(message.message);
        return;
    }
    if (!LOGGED.has(message.type) || typeof message.seq !== "number") return;
    if (message.seq <= live.seq) return;  // seen already
    if (message.seq !== live.seq + 1) {  // a hole: ask again from what we have
      socket?.close();
      return;
    }
    applyEvent(live.ex, message);
    live.seq = message.seq;
    handlers.change?.(message, live);
  };

  const connect = () => {
    clearTimeout(timer);
    if (gone) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const slug = encodeURIComponent(live.ex.slug);
    const query = new URLSearchParams({ since: String(live.seq), lang });
    const ws = new WebSocket(`${scheme}://${location.host}/ws/exhibitions/${slug}/?${query}`);
    socket = ws;
    window.__exhibitionSocket = ws;  // for tests and the curious
    ws.addEventListener("open", () => {
      live.open = true;
      delay = 500;
      awaitingPong = false;
      show(null);
      handlers.connection?.(true);
      clearInterval(pinger);
      pinger = setInterval(() => {
        if (awaitingPong) { ws.close(); return; }  // silent too long: start again
        awaitingPong = true;
        ws.send(JSON.stringify({ type: "ping" }));
      }, PING_EVERY_MS);
    });
    ws.addEventListener("message", (event) => {
      if (socket !== ws) return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      onMessage(message);
    });
    ws.addEventListener("close", (event) => lost(ws, event.code));
  };

  // A socket is lost (closed by either side, or abandoned when the browser goes offline):
  // fail what waited on it and come back with the seq we have.
  const lost = (ws, code) => {
    if (socket !== ws) return;
    socket = null;
    clearInterval(pinger);
    const wasOpen = live.open;
    live.open = false;
    for (const waiting of pending.values()) {
      waiting.reject(new Error(gettext("The connection dropped before Mendel answered. Try again once it is back.")));
    }
    pending.clear();
    handlers.connection?.(false);
    if (code === 4404) {
      gone = true;
      show(gettext("This exhibition is no longer shown."));
      return;
    }
    if (wasOpen || !navigator.onLine) show(gettext("Reconnecting…"));
    clearTimeout(timer);
    timer = setTimeout(connect, delay);
    delay = Math.min(delay * 2, 10000);
  };

  // Back online: try at once rather than wait out the back-off. Gone offline: say so now.
  window.addEventListener("online", () => { if (!socket) { delay = 500; connect(); } });
  window.addEventListener("offline", () => {
    const ws = socket;
    if (!ws) return;
    ws.close();
    lost(ws, 1006);
  });

  connect();

  return {
    live,
    // Send a message; resolves on the server's ok, rejects with its sentence.
    request(message) {
      if (!socket || socket.readyState !== WebSocket.OPEN) {
        return Promise.reject(new Error(gettext("Not connected just now: reconnecting… Try again in a moment.")));
      }
      const ref = `r${++refs}`;
      return new Promise((resolve, reject) => {
        pending.set(ref, { resolve, reject });
        socket.send(JSON.stringify({ ...message, ref }));
      });
    },
  };
}

// -- shared bits of rendering -------------------------------------------------------------

export const reducedMotion = () => window.matchMedia("(prefers-reduced-motion: reduce)").matches;

// Wall texts and statements: blank lines make paragraphs, single newlines line breaks
// (what Django's linebreaks filter does on the server).
export function paragraphs(container, text) {
  container.replaceChildren();
  for (const block of (text ?? "").split(/\n\s*\n/)) {
    if (!block.trim()) continue;
    const p = document.createElement("p");
    block.trim().split("\n").forEach((line, i) => {
      if (i) p.append(document.createElement("br"));
      p.append(line);
    });
    container.append(p);
  }
}

export function dates(ex) {
  if (ex.opens_at && ex.closes_at) {
    return interpolate(gettext("%(opens)s – %(closes)s"), { opens: formatDate(ex.opens_at), closes: formatDate(ex.closes_at) });
  }
  if (ex.opens_at) return interpolate(gettext("from %(date)s"), { date: formatDate(ex.opens_at) });
  if (ex.closes_at) return interpolate(gettext("until %(date)s"), { date: formatDate(ex.closes_at) });
  return gettext("no dates set");
}

// An exhibition's status as its badge says it (gallery.models.ExhibitionStatus).
const STATUS = () => ({
  draft: pgettext("exhibition status", "Draft"),
  open: pgettext("exhibition status", "Open"),
  closed: pgettext("exhibition status", "Closed"),
});

export function statusBadge(el, status) {
  if (!el) return;
  el.textContent = STATUS()[status] ?? status[0].toUpperCase() + status.slice(1);
  el.classList.toggle("live", status === "open");
}

export const workUrl = (id) => pageUrl(`/w/${encodeURIComponent(id)}/`);
export const profileUrl = (name) => pageUrl(`/u/${encodeURIComponent(name)}/`);
export const titleOf = (work) => work.title || gettext("Untitled");

// Reactions float up from the bar and fade; a crowd's are shown, never queued.
export function floatReaction(layer, emoji) {
  if (!layer || layer.childElementCount > 30) return;
  const bubble = document.createElement("span");
  bubble.className = "float";
  bubble.textContent = emoji;
  bubble.style.left = `${10 + Math.random() * 80}%`;
  bubble.style.animationDuration = `${2.4 + Math.random() * 1.2}s`;
  layer.append(bubble);
  setTimeout(() => bubble.remove(), 4000);
}
