// The curator's page: hang works from the gallery, order them by dragging (or with the
// arrow buttons), write wall texts, move the guided tour and run breeding rounds. Every
// change is a message on the exhibition's socket; the page shows what the server then
// broadcasts, so two curators at work see each other's changes.
import { api } from "./api.js";
import { followExhibition, statusBadge, titleOf } from "./exhibition-live.js";
import { roundPanel } from "./exhibition-round.js";
import { formatNumber, gettext, interpolate } from "./i18n.js";
import { showError, toast } from "./toast.js";
import { caption, worksPages } from "./works.js";

const initial = JSON.parse(document.getElementById("exhibition-state").textContent);
const $ = (selector, root = document) => root.querySelector(selector);
const list = $("[data-curate-items]");

const send = async (message, { quiet = false } = {}) => {
  try {
    return await follower.request(message);
  } catch (error) {
    if (!quiet) showError(error);
    throw error;
  }
};

function button(label, onClick, { aria, className = "button small quiet" } = {}) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = className;
  b.textContent = label;
  if (aria) b.setAttribute("aria-label", aria);
  b.addEventListener("click", onClick);
  return b;
}

function row(item) {
  const li = document.createElement("li");
  li.className = "curate-item";
  li.dataset.item = item.id;
  li.draggable = true;
  const handle = document.createElement("span");
  handle.className = "handle";
  handle.setAttribute("aria-hidden", "true");
  handle.textContent = "⠿";
  const img = document.createElement("img");
  img.src = item.work.images["256"];
  img.width = 96;
  img.height = 96;
  img.alt = "";
  img.draggable = false;
  const body = document.createElement("div");
  body.className = "curate-body";
  const name = document.createElement("p");
  name.className = "curate-name";
  const strong = document.createElement("strong");
  strong.dataset.title = "";
  const by = document.createElement("span");
  by.className = "muted";
  by.dataset.by = "";
  name.append(strong, " ", by);
  const label = document.createElement("label");
  label.className = "visually-hidden";
  label.htmlFor = `wall-${item.id}`;
  const area = document.createElement("textarea");
  area.id = `wall-${item.id}`;
  area.rows = 3;
  area.maxLength = 2000;
  area.placeholder = gettext("A wall text: what to look for, where it comes from.");
  area.dataset.wall = "";
  area.addEventListener("change", async () => {
    const id = Number(li.dataset.item);
    try {
      await send({ type: "edit", item: id, wall_text: area.value });
      toast(gettext("Wall text saved."), { timeout: 2000 });
    } catch { /* said */ }
  });
  label.textContent = gettext("Wall text");
  const tools = document.createElement("div");
  tools.className = "curate-tools";
  const id = () => Number(li.dataset.item);
  const at = () => follower.live.ex.items.findIndex((i) => i.id === id());
  const title = () => titleOf(follower.live.ex.items[at()]?.work ?? item.work);
  tools.append(
    button("↑", () => move(id(), at() - 1), { aria: interpolate(gettext("Move %(title)s up"), { title: titleOf(item.work) }) }),
    button("↓", () => move(id(), at() + 1), { aria: interpolate(gettext("Move %(title)s down"), { title: titleOf(item.work) }) }),
    Object.assign(button(gettext("Show this one"), () => send({ type: "tour", item: id() }).catch(() => {})), { className: "button small quiet tour-button" }),
    button(gettext("Remove"), async () => {
      const it = follower.live.ex.items[at()];
      try {
        await send({ type: "remove", item: id() });
      } catch { return; }
      toast(interpolate(gettext("Took “%(title)s” down."), { title: title() }), {
        action: { label: gettext("Undo"), run: () => send({ type: "add", work: it.work.id, wall_text: it.wall_text, position: it.position }).catch(() => {}) },
      });
    }, { className: "button small danger" }),
  );
  body.append(name, label, area, tools);
  li.append(handle, img, body);
  return li;
}

async function move(itemId, position) {
  const count = follower.live.ex.items.length;
  if (position < 0 || position >= count) return;
  const up = position < follower.live.ex.items.findIndex((i) => i.id === itemId);
  try {
    await send({ type: "move", item: itemId, position });
  } catch { /* said */ }
  // the row moved, and focus with it would be lost: keep the keyboard on the same arrow
  const [upButton, downButton] = list.querySelectorAll(`[data-item="${itemId}"] .curate-tools button`);
  const next = up ? upButton : downButton;
  (next && !next.disabled ? next : (up ? downButton : upButton))?.focus();
}

function renderItems(ex) {
  const keep = new Set(ex.items.map((i) => String(i.id)));
  for (const li of [...list.children]) {
    if (!li.dataset.item || !keep.has(li.dataset.item) || !li.draggable) li.remove();
  }
  ex.items.forEach((item, index) => {
    let li = list.querySelector(`:scope > [data-item="${item.id}"]`);
    if (!li) li = row(item);
    li.querySelector("[data-title]").textContent = titleOf(item.work);
    li.querySelector("[data-by]").textContent = interpolate(gettext("by %(owner)s"), { owner: item.work.owner });
    const area = li.querySelector("[data-wall]");
    if (document.activeElement !== area && area.value !== item.wall_text) area.value = item.wall_text;
    const tour = li.querySelector(".tour-button");
    const on = ex.tour === item.id;
    li.classList.toggle("on-tour", on);
    tour.setAttribute("aria-pressed", String(on));
    tour.textContent = on ? gettext("Showing now") : gettext("Show this one");
    const [up, down] = li.querySelectorAll(".curate-tools button");
    up.disabled = index === 0;
    down.disabled = index === ex.items.length - 1;
    if (list.children[index] !== li) list.insertBefore(li, list.children[index] ?? null);
  });
  if (!ex.items.length) {
    const empty = document.createElement("li");
    empty.className = "muted";
    empty.textContent = gettext("Nothing hangs here yet: search the gallery and add works.");
    list.append(empty);
  }
  $("[data-item-count]").textContent = formatNumber(ex.items.length);
  $("[data-tour-end]").disabled = ex.tour === null;
  renderParents(ex);
  markResults(ex);
}

// -- drag to reorder -------------------------------------------------------------------

let dragged = null;
list.addEventListener("dragstart", (event) => {
  dragged = event.target.closest("[data-item]");
  if (!dragged) return;
  dragged.classList.add("dragging");
  event.dataTransfer.effectAllowed = "move";
  event.dataTransfer.setData("text/plain", dragged.dataset.item);
});
list.addEventListener("dragover", (event) => {
  if (!dragged) return;
  event.preventDefault();
  const over = event.target.closest("[data-item]");
  if (!over || over === dragged) return;
  const box = over.getBoundingClientRect();
  const after = event.clientY > box.top + box.height / 2;
  list.insertBefore(dragged, after ? over.nextSibling : over);
});
list.addEventListener("drop", (event) => event.preventDefault());
list.addEventListener("dragend", async () => {
  if (!dragged) return;
  const li = dragged;
  dragged = null;
  li.classList.remove("dragging");
  const position = [...list.children].indexOf(li);
  const id = Number(li.dataset.item);
  const was = follower.live.ex.items.findIndex((i) => i.id === id);
  if (position === was) return;
  try {
    await send({ type: "move", item: id, position });
  } catch {
    renderItems(follower.live.ex);  // back to the server's order
  }
});

$("[data-tour-end]").addEventListener("click", () => send({ type: "tour", item: null }).catch(() => {}));

// -- search the gallery ------------------------------------------------------------------

const results = $("[data-results]");

function markResults(ex) {
  const hanging = new Set(ex.items.map((i) => i.work.id));
  for (const b of results.querySelectorAll("[data-add]")) {
    const there = hanging.has(b.dataset.add);
    b.disabled = there;
    b.textContent = there ? gettext("Hanging") : gettext("Add");
  }
}

// Pages of the search: twelve at a time, "More results" for the next.
const moreResults = $("[data-more-results]");
let searching = 0;
let nextResults = null;

function resultTile(work) {
  const tile = document.createElement("figure");
  tile.className = "tile result";
  const img = document.createElement("img");
  img.src = work.images["256"];
  img.width = 256;
  img.height = 256;
  img.alt = interpolate(gettext("%(title)s by %(owner)s"), { title: titleOf(work), owner: work.owner });
  img.loading = "lazy";
  const figcaption = document.createElement("figcaption");
  const add = button(gettext("Add"), async () => {
    add.disabled = true;
    try {
      await send({ type: "add", work: work.id });
      toast(interpolate(gettext("Hung “%(title)s” at the end of the walls."), { title: titleOf(work) }), { timeout: 2500 });
    } catch {
      add.disabled = false;
    }
  }, { className: "button small", aria: interpolate(gettext("Add %(title)s"), { title: titleOf(work) }) });
  add.dataset.add = work.id;
  figcaption.append(caption(work), add);
  tile.append(img, figcaption);
  return tile;
}

async function showResults(mine, q) {
  results.setAttribute("aria-busy", "true");
  moreResults.disabled = true;
  let page;
  try {
    page = await nextResults();
  } catch (error) {
    if (mine === searching) showError(error);
    return;
  } finally {
    results.removeAttribute("aria-busy");
    moreResults.disabled = false;
  }
  if (mine !== searching) return;  // a newer search was asked for meanwhile
  results.append(...page.items.map(resultTile));
  moreResults.hidden = page.done;
  if (!results.children.length) {
    const none = document.createElement("p");
    none.className = "muted";
    none.textContent = q ? interpolate(gettext("No public work has “%(query)s” in its title."), { query: q })
      : gettext("The gallery has no public works yet.");
    results.append(none);
    return;
  }
  markResults(follower.live.ex);
}

function search(q) {
  nextResults = worksPages("gallery", { q, limit: 12, kind: "" });  // every kind hangs
  results.replaceChildren();
  return showResults(++searching, q);
}
moreResults.addEventListener("click", () => showResults(searching, $("[data-search]").elements.q.value.trim()));

$("[data-search]").addEventListener("submit", (event) => {
  event.preventDefault();
  search(new FormData(event.target).get("q").trim());
});

// -- breeding rounds ---------------------------------------------------------------------

const parentSelect = $("[data-round-parent]");

function renderParents(ex) {
  const chosen = parentSelect.value;
  const options = [];
  if (ex.round?.winner) options.push(["", gettext("The last round's winner")]);
  // A round breeds children of a bred picture: videos and published works are not offered.
  for (const item of ex.items) {
    if (!item.work.video && !item.work.media) options.push([item.work.id, titleOf(item.work)]);
  }
  parentSelect.replaceChildren(...options.map(([value, label]) => new Option(label, value)));
  if (options.some(([value]) => value === chosen)) parentSelect.value = chosen;
  $("[data-round-start]").disabled = options.length === 0 || ex.round?.status === "voting";
  $("[data-round-end]").disabled = ex.round?.status !== "voting";
}

$("[data-round-form]").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const start = $("[data-round-start]");
  const message = { type: "round.start", n: Number(form.get("n")), seconds: Number(form.get("seconds")) };
  if (form.get("work")) message.work = form.get("work");
  start.disabled = true;
  start.textContent = gettext("Breeding…");
  try {
    await send(message);
  } catch { /* said */ }
  start.textContent = gettext("Start a round");
  renderParents(follower.live.ex);
});
$("[data-round-end]").addEventListener("click", () => send({ type: "round.end" }).catch(() => {}));

const round = roundPanel($("[data-round]"), {
  vote: (number, position) => follower.request({ type: "vote", round: number, candidate: position }),
});

const follower = followExhibition(initial, {
  change(event, live) {
    const ex = live.ex;
    if (event.type === "snapshot" || event.type.startsWith("item.") || event.type === "tour") renderItems(ex);
    if (event.type === "snapshot" || event.type.startsWith("round.")) {
      round.render(ex.round);
      renderParents(ex);
    }
    if (event.type === "snapshot" || event.type === "edited") $("[data-ex-title]").textContent = ex.title;
    if (["snapshot", "open", "closed", "unpublished"].includes(event.type)) statusBadge($("[data-ex-status]"), ex.status);
  },
  problem: (sentence) => toast(sentence, { kind: "error" }),
}, $("[data-socket-state]"));

list.replaceChildren();
renderItems(initial.exhibition);
round.render(initial.exhibition.round);
search("");
