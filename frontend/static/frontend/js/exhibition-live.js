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

// -- published works on the walls -----------------------------------------------------------
// A published video, sound or text hangs as itself (``work.media``: the server's
// breeding.media.shown_in_exhibitions); a published picture is its large picture, as any
// picture is. The server draws the same markup for readers without JavaScript (walk.html,
// _exhibit.html); ``enhanceMedia`` adds the controls only a script can work. A film plays,
// muted, while it is in view (browsers start no sound by themselves) and pauses out of it;
// a sound waits for its play button; one thing with sound plays at a time.

// Does the work hang as a player or a page (not as a picture)?
export const staged = (work) => Boolean(work.media) && work.media.kind !== "picture";

function labelOf(work) {
  const values = { title: titleOf(work), owner: work.owner };
  switch (work.media.kind) {
    case "video": return interpolate(gettext("%(title)s by %(owner)s, a video"), values);
    case "sound": return interpolate(gettext("%(title)s by %(owner)s, a sound"), values);
    case "text": return interpolate(gettext("%(title)s by %(owner)s, a text"), values);
    default: return interpolate(gettext("%(title)s by %(owner)s"), values);
  }
}

function element(tag, className, attributes = {}) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
  return el;
}

// The frame of a published video, sound or text, as the server draws it, with its controls.
export function mediaFrame(work) {
  const m = work.media;
  const frame = element("div", `media-frame media-${m.kind}`, { "data-media": m.kind });
  if (m.kind === "video") {
    const video = element("video", "media-player", {
      "data-media-player": "", poster: m.files.large, preload: "metadata",
      width: String(m.width || 1024), height: String(m.height || 1024), "aria-label": labelOf(work),
    });
    Object.assign(video, { controls: true, loop: true, playsInline: true, muted: true, defaultMuted: true });
    const source = element("source", "", { src: m.files.file, type: "video/mp4" });
    video.append(source);
    frame.append(video);
  } else if (m.kind === "sound") {
    const wave = element("div", "sound-wave");
    wave.append(element("img", "", { src: m.files.large, width: "1600", height: "400", alt: "", decoding: "async" }),
                element("span", "playhead", { "data-media-playhead": "" }));
    const audio = element("audio", "media-player", {
      "data-media-player": "", controls: "", preload: "metadata", src: m.files.file, "aria-label": labelOf(work),
    });
    frame.append(wave, audio);
  } else if (m.kind === "text") {
    const reading = element("article", "reading", { tabindex: "0", "aria-label": labelOf(work) });
    reading.innerHTML = m.text_html ?? "";  // escaped and set by the server (breeding.media.text_html), and only that
    frame.append(reading);
  }
  enhanceMedia(frame);
  return frame;
}

// Icons, inline SVG: filled shapes, and lines (``stroke``) drawn in the text's colour.
const SVG = "http://www.w3.org/2000/svg";
function icon(size, shapes) {
  const svg = document.createElementNS(SVG, "svg");
  for (const [name, value] of [["viewBox", "0 0 24 24"], ["width", String(size)], ["height", String(size)],
                               ["aria-hidden", "true"], ["focusable", "false"]]) svg.setAttribute(name, value);
  for (const [d, stroke] of shapes) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    if (stroke) {
      for (const [name, value] of [["fill", "none"], ["stroke", "currentColor"], ["stroke-width", "1.8"],
                                   ["stroke-linecap", "round"]]) path.setAttribute(name, value);
    } else {
      path.setAttribute("fill", "currentColor");
    }
    svg.append(path);
  }
  return svg;
}
const SPEAKER = ["M4 9h4l5-4v14l-5-4H4z", false];
const SPEAKER_ON = () => icon(18, [SPEAKER, ["M16 8.5a5 5 0 0 1 0 7M18.5 6a8.5 8.5 0 0 1 0 12", true]]);
const SPEAKER_OFF = () => icon(18, [SPEAKER, ["M16.5 9.5l5 5m0-5l-5 5", true]]);
const PLAY = () => icon(22, [["M8 5v14l11-7z", false]]);
const PAUSE = () => icon(22, [["M7 5h4v14H7zm6 0h4v14h-4z", false]]);

const clock = (seconds) => {
  if (!Number.isFinite(seconds)) return "0:00";
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
};

// Films start, muted, when half of them is in view, and stop when they leave it; one the
// visitor paused stays paused until they play it again.
const inView = "IntersectionObserver" in window ? new IntersectionObserver((entries) => {
  for (const entry of entries) {
    const player = entry.target;
    if (entry.isIntersecting) {
      if (!player.dataset.held && !reducedMotion()) player.play().catch(() => {});
    } else {
      quiet(player);
    }
  }
}, { threshold: 0.5 }) : null;

function quiet(player) {
  if (player.paused) return;
  player.dataset.quieted = "1";  // a pause of ours, not the visitor's
  player.pause();
}

// Give the frames under ``root`` (or ``root`` itself) their controls; once each.
export function enhanceMedia(root) {
  const frames = root.matches?.("[data-media]") ? [root] : [...root.querySelectorAll("[data-media]")];
  for (const frame of frames) {
    if (frame.dataset.enhanced) continue;
    frame.dataset.enhanced = "1";
    const player = frame.querySelector("[data-media-player]");
    if (!player) continue;
    player.addEventListener("pause", () => {
      if (player.dataset.quieted) delete player.dataset.quieted;
      else player.dataset.held = "1";
    });
    player.addEventListener("play", () => { delete player.dataset.held; });
    if (frame.dataset.media === "video") enhanceVideo(frame, player);
    if (frame.dataset.media === "sound") enhanceSound(frame, player);
  }
  return root;
}

function enhanceVideo(frame, video) {
  const width = Number(video.getAttribute("width"));
  const height = Number(video.getAttribute("height"));
  if (width > 0 && height > 0) frame.style.setProperty("--ratio", `${width} / ${height}`);
  video.muted = true;  // what browsers let start by itself
  const sound = element("button", "media-unmute", { type: "button", "data-media-unmute": "" });
  const show = () => {
    const label = video.muted ? gettext("Unmute") : gettext("Mute");
    const text = element("span");
    text.textContent = label;
    sound.replaceChildren(video.muted ? SPEAKER_OFF() : SPEAKER_ON(), text);
    sound.setAttribute("aria-label", label);
  };
  sound.addEventListener("click", () => {
    video.muted = !video.muted;
    if (!video.muted && video.paused) video.play().catch(() => {});
  });
  video.addEventListener("volumechange", show);
  show();
  frame.append(sound);
  if (reducedMotion()) return;  // still, on its poster, until played
  video.autoplay = false;
  inView?.observe(video);
}

// A sound: its play button and its time; its waveform is where it is (a slider: a click,
// or the arrow keys, go elsewhere in it). The browser's own player is for readers without
// JavaScript.
function enhanceSound(frame, audio) {
  const row = element("div", "sound-controls");
  const play = element("button", "media-play", { type: "button", "data-media-play": "" });
  const time = element("span", "sound-time num", { "data-media-time": "" });
  const wave = frame.querySelector(".sound-wave");
  const show = () => {
    const label = audio.paused ? gettext("Play") : gettext("Pause");
    if (play.dataset.showing !== String(audio.paused)) {  // (timeupdate comes often)
      play.dataset.showing = String(audio.paused);
      play.replaceChildren(audio.paused ? PLAY() : PAUSE());
    }
    play.setAttribute("aria-label", label);
    play.title = label;
    const where = `${clock(audio.currentTime)} / ${clock(audio.duration)}`;
    time.textContent = where;
    if (!wave) return;
    wave.style.setProperty("--played", `${audio.duration ? (100 * audio.currentTime) / audio.duration : 0}%`);
    wave.classList.toggle("started", audio.currentTime > 0 || !audio.paused);
    wave.setAttribute("aria-valuenow", String(Math.round(audio.currentTime)));
    wave.setAttribute("aria-valuemax", String(Math.round(audio.duration || 0)));
    wave.setAttribute("aria-valuetext", where);
  };
  play.addEventListener("click", () => {
    if (audio.paused) audio.play().catch(() => {});
    else audio.pause();
  });
  for (const type of ["play", "pause", "ended", "timeupdate", "loadedmetadata", "durationchange", "seeked"]) {
    audio.addEventListener(type, show);
  }
  if (wave) {
    Object.entries({ role: "slider", tabindex: "0", "aria-label": gettext("Where in the sound"), "aria-valuemin": "0" })
      .forEach(([name, value]) => wave.setAttribute(name, value));
    wave.addEventListener("click", (event) => {
      if (!audio.duration) return;
      const box = wave.getBoundingClientRect();
      audio.currentTime = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width)) * audio.duration;
      if (audio.paused) audio.play().catch(() => {});
    });
    wave.addEventListener("keydown", (event) => {
      if (!audio.duration) return;
      const to = { ArrowRight: audio.currentTime + 5, ArrowLeft: audio.currentTime - 5,
                   ArrowUp: audio.currentTime + 5, ArrowDown: audio.currentTime - 5,
                   Home: 0, End: audio.duration }[event.key];
      if (to === undefined) return;
      event.preventDefault();
      audio.currentTime = Math.min(audio.duration, Math.max(0, to));
    });
  }
  audio.controls = false;
  show();
  row.append(play, time);
  audio.before(row);
}

// Stop what plays under ``root`` (a work the walk leaves, an item taken down).
export function stopMedia(root) {
  for (const player of root.querySelectorAll("video, audio")) {
    inView?.unobserve(player);
    quiet(player);
  }
}

// One thing with sound at a time: a sound, or a film with its sound on, silences the others.
function soleSound(event) {
  const started = event.target;
  if (!started.matches?.("[data-media-player]") || started.muted || started.paused) return;
  for (const other of document.querySelectorAll("[data-media-player]")) {
    if (other !== started && !other.paused && !other.muted) other.pause();
  }
}
document.addEventListener("play", soleSound, true);
document.addEventListener("volumechange", soleSound, true);
