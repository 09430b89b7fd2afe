// The exhibition page, live: works appear, move and leave without a reload; the guided
// tour glides followers to the work the curator shows; presence, reactions and the live
// breeding round. Without JavaScript the page is the server's, complete for reading.
import "./placeholder.js";
import { videoElement } from "./pictures.js";
import {
  dates, enhanceMedia, followExhibition, mediaFrame, paragraphs, profileUrl, reducedMotion, staged,
  statusBadge, stopMedia, titleOf, workUrl,
} from "./exhibition-live.js";
import { roundPanel } from "./exhibition-round.js";
import { liveBar } from "./exhibition-bar.js";
import { formatNumber, gettext, interpolate, interpolateNodes, pageUrl } from "./i18n.js";
import { toast } from "./toast.js";

const initial = JSON.parse(document.getElementById("exhibition-state").textContent);
const $ = (selector, root = document) => root.querySelector(selector);
const list = $("[data-items]");

function exhibit(item) {
  const li = document.createElement("li");
  li.className = "exhibit arriving-item";
  li.id = `item-${item.id}`;
  li.dataset.item = item.id;
  const figure = document.createElement("figure");
  figure.className = "exhibit-image";
  const link = document.createElement("a");
  link.href = workUrl(item.work.id);
  if (item.work.video) {
    figure.append(videoElement(item.work.video, interpolate(gettext("%(title)s by %(owner)s, a video"),
      { title: titleOf(item.work), owner: item.work.owner })));
  } else if (staged(item.work)) {
    figure.append(mediaFrame(item.work));
  } else {
    const img = document.createElement("img");
    img.src = item.work.images["1024"];
    img.width = 1024;
    img.height = 1024;
    img.decoding = "async";
    img.alt = interpolate(gettext("%(title)s by %(owner)s"), { title: titleOf(item.work), owner: item.work.owner });
    if (item.work.media) img.className = "media-picture";  // as wide as it is: no square placeholder
    else img.style.backgroundImage = `url(${JSON.stringify(item.work.images["256"])})`;
    link.append(img);
    figure.append(link);
  }
  const text = document.createElement("div");
  text.className = "wall-text";
  const mark = document.createElement("p");
  mark.className = "tour-mark";
  mark.textContent = gettext("The tour is here");
  const h2 = document.createElement("h2");
  const title = document.createElement("a");
  title.href = workUrl(item.work.id);
  title.textContent = titleOf(item.work);
  h2.append(title);
  const by = document.createElement("p");
  by.className = "by";
  const owner = document.createElement("a");
  owner.href = profileUrl(item.work.owner);
  owner.textContent = item.work.owner;
  by.append(...interpolateNodes(gettext("by %(owner)s"), { owner }));
  const wall = document.createElement("div");
  wall.className = "prose";
  wall.dataset.wallText = "";
  text.append(mark, h2, by, wall, ...aboutMedia(item.work.media));
  li.append(figure, text);
  setTimeout(() => li.classList.remove("arriving-item"), 50);
  return li;
}

// A published work's techniques and its artist's statement, as _exhibit.html says them.
function aboutMedia(media) {
  const parts = [];
  if (media?.techniques?.length) {
    const techniques = document.createElement("p");
    techniques.className = "techniques muted";
    techniques.textContent = interpolate(gettext("Made with %(techniques)s"), { techniques: media.techniques.join(", ") });
    parts.push(techniques);
  }
  if (media?.statement) {
    const details = document.createElement("details");
    details.className = "statement-of-artist";
    const summary = document.createElement("summary");
    summary.textContent = gettext("The artist’s statement");
    const prose = document.createElement("div");
    prose.className = "prose";
    paragraphs(prose, media.statement);
    details.append(summary, prose);
    parts.push(details);
  }
  return parts;
}

// Put the list in the exhibition's order, keeping the elements (and their loaded
// pictures) that stay; moved ones glide from where they were (FLIP).
function renderItems(ex) {
  const before = new Map([...list.children].map((li) => [li.dataset.item, li.getBoundingClientRect().top]));
  const keep = new Set(ex.items.map((i) => String(i.id)));
  for (const li of [...list.children]) {
    if (!keep.has(li.dataset.item)) {
      stopMedia(li);
      li.remove();
    }
  }
  ex.items.forEach((item, index) => {
    let li = list.querySelector(`:scope > [data-item="${item.id}"]`);
    if (!li) li = exhibit(item);
    if (li.dataset.wall !== item.wall_text) {
      paragraphs(li.querySelector("[data-wall-text]"), item.wall_text);
      li.dataset.wall = item.wall_text;
    }
    li.classList.toggle("on-tour", item.id === ex.tour);
    if (list.children[index] !== li) list.insertBefore(li, list.children[index] ?? null);
  });
  $("[data-empty]").hidden = ex.items.length > 0;
  if (reducedMotion()) return;
  for (const li of list.children) {
    const was = before.get(li.dataset.item);
    if (was === undefined) continue;
    const dy = was - li.getBoundingClientRect().top;
    if (Math.abs(dy) < 1) continue;
    li.animate([{ transform: `translateY(${dy}px)` }, { transform: "none" }], { duration: 450, easing: "ease-out" });
  }
}

function renderHead(ex) {
  document.title = interpolate(gettext("%(title)s · Exhibitions · Mendel"), { title: ex.title });
  $("[data-ex-title]").textContent = ex.title;
  paragraphs($("[data-ex-statement]"), ex.statement);
  $("[data-ex-dates]").textContent = dates(ex);
  statusBadge($("[data-ex-status]"), ex.status);
}

function glideToTour(ex) {
  const li = ex.tour && list.querySelector(`:scope > [data-item="${ex.tour}"]`);
  if (li) li.scrollIntoView({ behavior: reducedMotion() ? "auto" : "smooth", block: "center" });
}

// A vote goes over HTTP, not the socket: a visitor without an account votes by their
// session, which only a response can start (reading the page starts none).
async function castVote(number, position) {
  let response;
  try {
    response = await fetch(pageUrl(`/exhibitions/${encodeURIComponent(initial.exhibition.slug)}/vote/`), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Accept": "application/json",
        "X-CSRFToken": document.querySelector('meta[name="csrf-token"]')?.content ?? "",
      },
      body: new URLSearchParams({ round: String(number), candidate: String(position) }),
    });
  } catch {
    throw new Error(gettext("Mendel cannot be reached. Check your connection and try again."));
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Error(data?.error ?? gettext("Your vote did not go through. Reload the page and try again."));
  return data;
}

const round = roundPanel($("[data-round]"), { vote: castVote });

const bar = liveBar({
  reactions: initial.reactions,
  react: (emoji) => follower.request({ type: "react", emoji }),
  onFollow: (on) => { if (on) glideToTour(follower.live.ex); },
});

// The wall texts the server rendered are the truth until the socket says otherwise.
for (const li of list.children) {
  const item = initial.exhibition.items.find((i) => String(i.id) === li.dataset.item);
  if (item) li.dataset.wall = item.wall_text;
}

const follower = followExhibition(initial, {
  change(event, live) {
    const ex = live.ex;
    if (event.type === "snapshot" || event.type === "edited") renderHead(ex);
    if (event.type === "snapshot" || event.type.startsWith("item.") || event.type === "tour") renderItems(ex);
    if (["snapshot", "open", "closed", "unpublished"].includes(event.type)) {
      statusBadge($("[data-ex-status]"), ex.status);
      bar.status(ex.status);
    }
    if (event.type === "snapshot" || event.type.startsWith("round.")) round.render(ex.round);
    if (event.type === "round.started") {
      toast(interpolate(gettext("Round %(number)s of live breeding has begun: vote for your favourite."),
        { number: formatNumber(ex.round.number) }));
    }
    if (event.type === "tour" && bar.following()) glideToTour(ex);
  },
  presence: (n) => bar.viewers(n),
  reaction: (emoji) => bar.float(emoji),
  problem: (sentence) => toast(sentence, { kind: "error" }),
  connection: (up) => bar.connected(up),
}, $("[data-socket-state]"));

round.render(initial.exhibition.round);
bar.status(initial.exhibition.status);
enhanceMedia(list);
