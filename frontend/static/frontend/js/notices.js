// Notices, on every page of a logged-in breeder: the header's unread count, kept up to date
// over /ws/notices/ (reconnecting by itself; the server's hello gives the count afresh).
// On the notices page also: new notices come in at the top, "Mark all read" and the settings
// go to the API without leaving the page, and opening an unread notice marks it read.
import { api } from "./api.js";
import { formatNumber, gettext, lang } from "./i18n.js";
import { showError, toast } from "./toast.js";

const UNREAD_MAX = 100; // as gallery.notices.UNREAD_MAX: the count stops there ("99+")
const badge = document.querySelector("[data-unread-badge]");
const count = document.querySelector("[data-unread]");
const list = document.querySelector("[data-notice-list]");
const readAll = document.querySelector("[data-read-all]");
const settings = document.querySelector("[data-notice-settings]");

function showUnread(n, { bump = false } = {}) {
  if (!badge || !count) return;
  count.textContent = n >= UNREAD_MAX ? `${formatNumber(UNREAD_MAX - 1)}+` : formatNumber(n);
  badge.hidden = n === 0;
  if (bump && n > 0) {
    badge.classList.remove("bump");
    void badge.offsetWidth; // restart the animation
    badge.classList.add("bump");
  }
  const button = readAll?.querySelector("button");
  if (button) button.disabled = n === 0;
}

// One notice as the page's template draws it (frontend/_notice.html).
function noticeItem(notice) {
  const item = document.createElement("li");
  item.className = `notice${notice.read ? "" : " unread"} fresh`;
  item.dataset.notice = notice.id;
  const link = document.createElement("a");
  link.className = "notice-link";
  link.href = notice.link;
  const picture = notice.child ?? notice.work;
  let thumb;
  if (picture) {
    thumb = document.createElement("img");
    thumb.src = picture.images["64"];
    thumb.width = 48;
    thumb.height = 48;
    thumb.alt = "";
  } else {
    thumb = document.createElement("span");
    thumb.setAttribute("aria-hidden", "true");
    thumb.textContent = (notice.actor ?? "?").slice(0, 1).toUpperCase();
    thumb.classList.add("notice-initial");
  }
  thumb.classList.add("notice-thumb");
  const body = document.createElement("span");
  body.className = "notice-body";
  if (!notice.read) {
    const mark = document.createElement("span");
    mark.className = "visually-hidden";
    mark.dataset.unreadMark = "";
    mark.textContent = gettext("Unread:");
    body.append(mark);
  }
  const text = document.createElement("span");
  text.className = "notice-text";
  text.textContent = notice.text;
  const time = document.createElement("time");
  time.className = "notice-time";
  time.dateTime = notice.created;
  time.textContent = gettext("just now");
  body.append(text, time);
  link.append(thumb, body);
  item.append(link);
  return item;
}

function markShownRead(items) {
  for (const item of items) {
    item.classList.remove("unread");
    item.querySelector("[data-unread-mark]")?.remove();
  }
}

function onMessage(message) {
  if (message.type === "hello" || message.type === "unread") {
    showUnread(message.unread);
  } else if (message.type === "notice") {
    showUnread(message.unread, { bump: true });
    if (list && "live" in list.dataset && !list.querySelector(`[data-notice="${message.notice.id}"]`)) {
      list.prepend(noticeItem(message.notice));
      document.querySelector("[data-notice-empty]")?.setAttribute("hidden", "");
    }
  }
}

function connect(delay = 500) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/notices/?${new URLSearchParams({ lang })}`);
  let opened = false;
  socket.addEventListener("open", () => { opened = true; });
  socket.addEventListener("message", (event) => {
    try {
      onMessage(JSON.parse(event.data));
    } catch {
      // a frame that is not ours to read: ignored
    }
  });
  socket.addEventListener("close", (event) => {
    if (event.code === 4401) return; // logged out: the page's own links say so
    const next = opened ? 500 : Math.min(delay * 2, 30000);
    setTimeout(() => connect(next), opened ? 500 : delay);
  });
}

if (badge) connect();

readAll?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = readAll.querySelector("button");
  button.disabled = true;
  try {
    const answer = await api("POST", "/api/notices/read/", { all: true });
    markShownRead(list?.querySelectorAll(".notice.unread") ?? []);
    showUnread(answer.unread);
  } catch (error) {
    button.disabled = false;
    showError(error);
  }
});

settings?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const choices = {};
  for (const box of settings.querySelectorAll('input[name="kinds"]')) choices[box.value] = box.checked;
  const button = settings.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    await api("PUT", "/api/notices/settings/", choices);
    toast(gettext("Saved: you will be told of what is ticked."));
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
});

// Opening an unread notice marks it read; the request outlives the page it leaves.
list?.addEventListener("click", (event) => {
  const item = event.target.closest(".notice.unread");
  if (!item) return;
  markShownRead([item]);
  fetch("/api/notices/read/", {
    method: "POST",
    keepalive: true,
    credentials: "same-origin",
    headers: {
      "Accept": "application/json",
      "Content-Type": "application/json",
      "X-CSRFToken": document.querySelector('meta[name="csrf-token"]')?.content ?? "",
    },
    body: JSON.stringify({ ids: [Number(item.dataset.notice)] }),
  }).catch(() => {});
});
