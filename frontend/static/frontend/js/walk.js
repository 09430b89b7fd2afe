// The gallery walk: one work at a time, large, its wall text beside it. ← and → (or a
// swipe) walk, Home and End jump, Esc leaves; the guided tour carries followers along,
// and the walls change live under the visitor's feet without losing their place.
import "./placeholder.js";
import { videoElement } from "./pictures.js";
import {
  enhanceMedia, followExhibition, mediaFrame, paragraphs, profileUrl, reducedMotion, staged, stopMedia,
  titleOf, workUrl,
} from "./exhibition-live.js";
import { liveBar } from "./exhibition-bar.js";
import { formatNumber, gettext, interpolate } from "./i18n.js";
import { toast } from "./toast.js";

const initial = JSON.parse(document.getElementById("exhibition-state").textContent);
const $ = (selector) => document.querySelector(selector);
const walk = $("[data-walk]");
const stage = $("[data-walk-stage]");
const img = $("[data-walk-img]");
const exhibitionUrl = $("[data-walk-leave]").href;

let index = Number(walk.dataset.index) || 0;
let currentId = initial.exhibition.items[index]?.id ?? null;

function items() {
  return follower.live.ex.items;
}

function show(newIndex, { direction = 0 } = {}) {
  const all = items();
  $("[data-walk-empty]").hidden = all.length > 0;
  stage.hidden = $("[data-walk-text]").hidden = all.length === 0;
  if (!all.length) {
    currentId = null;
    $("[data-walk-count]").textContent = "";
    return;
  }
  index = Math.max(0, Math.min(newIndex, all.length - 1));
  const item = all[index];
  const changed = item.id !== currentId;
  currentId = item.id;
  $("[data-walk-count]").textContent = `${formatNumber(index + 1)} / ${formatNumber(all.length)}`;
  $("[data-walk-tour]").hidden = item.id !== follower.live.ex.tour;
  const title = $("[data-walk-title]");
  title.textContent = titleOf(item.work);
  title.href = workUrl(item.work.id);
  const owner = $("[data-walk-owner]");
  owner.textContent = item.work.owner;
  owner.href = profileUrl(item.work.owner);
  paragraphs($("[data-walk-wall]"), item.wall_text);
  about(item.work.media);
  const prev = $("[data-walk-prev]");
  const next = $("[data-walk-next]");
  prev.href = index > 0 ? `?i=${index}` : "#";
  next.href = index + 1 < all.length ? `?i=${index + 2}` : "#";
  prev.setAttribute("aria-disabled", String(index === 0));
  next.setAttribute("aria-disabled", String(index + 1 >= all.length));
  history.replaceState(null, "", `?i=${index + 1}`);
  if (!changed && stage.dataset.shown === item.work.id) return;
  stage.dataset.shown = item.work.id;
  // What played stops with the work it belongs to (a film, a sound), and leaves with it.
  stopMedia(stage);
  for (const el of stage.querySelectorAll(":scope > video, :scope > [data-media]")) el.remove();
  img.hidden = Boolean(item.work.video) || staged(item.work);
  img.classList.toggle("media-picture", Boolean(item.work.media) && !staged(item.work));
  if (item.work.video) {
    stage.append(videoElement(item.work.video, interpolate(gettext("%(title)s by %(owner)s, a video"),
      { title: titleOf(item.work), owner: item.work.owner })));
  } else if (staged(item.work)) {
    stage.append(mediaFrame(item.work));
  } else {
    // a published picture is as wide as it is: no square placeholder around it
    img.style.backgroundImage = item.work.media ? "none" : `url(${JSON.stringify(item.work.images["256"])})`;
    img.src = item.work.images["1024"];
    img.alt = interpolate(gettext("%(title)s by %(owner)s"), { title: titleOf(item.work), owner: item.work.owner });
  }
  if (changed && !reducedMotion()) {
    // glide: the new work slides in from the side it comes from, and fades up
    const from = direction ? `${direction * 4}vw` : "0";
    for (const el of [stage, $("[data-walk-text]")]) {
      el.animate([{ opacity: 0, transform: `translateX(${from})` }, { opacity: 1, transform: "none" }],
                 { duration: 420, easing: "cubic-bezier(.2,.7,.2,1)" });
    }
  }
}

const go = (to) => show(to, { direction: Math.sign(to - index) });

// A published work's techniques and its artist's statement, under the curator's wall text.
function about(media) {
  $("[data-walk-about]").hidden = !media;
  const techniques = $("[data-walk-techniques]");
  const names = media?.techniques ?? [];
  techniques.hidden = names.length === 0;
  techniques.textContent = names.length ? interpolate(gettext("Made with %(techniques)s"), { techniques: names.join(", ") }) : "";
  const box = $("[data-walk-statement-box]");
  if (box.dataset.statement !== (media?.statement ?? "")) {
    box.dataset.statement = media?.statement ?? "";
    box.open = false;
    paragraphs($("[data-walk-statement]"), media?.statement ?? "");
  }
  box.hidden = !media?.statement;
}

document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, textarea, select, audio, video, [role='slider']") || event.altKey || event.ctrlKey || event.metaKey) return;
  const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: items().length - 1 };
  if (event.key in moves) {
    event.preventDefault();
    go(moves[event.key]);
  } else if (event.key === "Escape") {
    location.href = exhibitionUrl;
  }
});
$("[data-walk-prev]").addEventListener("click", (event) => { event.preventDefault(); go(index - 1); });
$("[data-walk-next]").addEventListener("click", (event) => { event.preventDefault(); go(index + 1); });

// Swipe: a mostly sideways stroke of 50 px or more.
let touch = null;
walk.addEventListener("pointerdown", (event) => {
  // (a stroke along a player's bar seeks in it)
  touch = null;
  if (event.target.closest("audio, video[controls], input")) return;
  if (event.pointerType !== "mouse") touch = { x: event.clientX, y: event.clientY };
});
walk.addEventListener("pointerup", (event) => {
  if (!touch) return;
  const dx = event.clientX - touch.x;
  const dy = event.clientY - touch.y;
  touch = null;
  if (Math.abs(dx) > 50 && Math.abs(dx) > 1.5 * Math.abs(dy)) go(index + (dx < 0 ? 1 : -1));
});
walk.addEventListener("pointercancel", () => { touch = null; });

function toTour() {
  const at = items().findIndex((i) => i.id === follower.live.ex.tour);
  if (at >= 0) go(at);
}

const bar = liveBar({
  reactions: initial.reactions,
  react: (emoji) => follower.request({ type: "react", emoji }),
  onFollow: (on) => { if (on) toTour(); },
});

const follower = followExhibition(initial, {
  change(event, live) {
    if (event.type === "tour" && bar.following() && live.ex.tour !== null) {
      toTour();
      return;
    }
    // Keep the visitor before the same work wherever it moved; if it left, stay put.
    const at = items().findIndex((i) => i.id === currentId);
    show(at >= 0 ? at : index);
    if (event.type === "snapshot" || event.type === "edited") $("[data-ex-title]").textContent = live.ex.title;
    if (["snapshot", "open", "closed", "unpublished"].includes(event.type)) bar.status(live.ex.status);
    if (event.type === "round.started") {
      toast(interpolate(gettext("Round %(number)s of live breeding has begun."), { number: formatNumber(live.ex.round.number) }), {
        action: { label: gettext("Vote"), href: `${exhibitionUrl}#round` },
      });
    }
  },
  presence: (n) => bar.viewers(n),
  reaction: (emoji) => bar.float(emoji),
  problem: (sentence) => toast(sentence, { kind: "error" }),
  connection: (up) => bar.connected(up),
}, $("[data-socket-state]"));

bar.status(initial.exhibition.status);
enhanceMedia(stage);
// Come in while a tour is under way (and no work was asked for): join it where it is.
if (!new URLSearchParams(location.search).has("i") && initial.exhibition.tour !== null) {
  const at = initial.exhibition.items.findIndex((i) => i.id === initial.exhibition.tour);
  if (at > 0) show(at);
}
