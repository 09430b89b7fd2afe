// Tiles of drafts in a grid with one tab stop (a roving tabindex): arrow keys, Home and End
// move; Enter opens the picture in the studio, K keeps, Delete discards, + adds it to the
// cross. Each tile is a link and, beside it, the same actions as buttons for the mouse
// (out of the tab order: the keys do what they do).
import { gettext, interpolate } from "../i18n.js";
import { picture } from "../pictures.js";
import { studioUrl } from "./state.js";

// What a tile is called, kept or not.
const label = (item, kept) => interpolate(kept ? gettext("Draft %(name)s, kept") : gettext("Draft %(name)s"),
  { name: item.title || item.id });

function iconButton(symbol, text, action) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "icon";
  b.tabIndex = -1;
  b.dataset.action = action;
  b.textContent = symbol;
  b.title = text;
  b.setAttribute("aria-label", text);
  return b;
}

function makeTile(item) {
  const cell = document.createElement("div");
  cell.setAttribute("role", "gridcell");
  cell.className = "tile draft-tile";
  cell.dataset.id = item.id;
  cell.draggable = true;
  const link = document.createElement("a");
  link.className = "tile-open";
  link.href = studioUrl(item.id);
  link.tabIndex = -1;
  link.append(picture(item.images["256"], ""));
  const bar = document.createElement("div");
  bar.className = "tile-actions";
  bar.append(iconButton("✓", gettext("Keep"), "keep"), iconButton("✕", gettext("Discard"), "discard"),
    iconButton("+", gettext("Add to the cross"), "add-parent"));
  cell.append(link, bar);
  return cell;
}

function paint(cell, item) {
  const kept = Boolean(item.visibility) && item.visibility !== "draft";
  cell.classList.toggle("kept", kept);
  cell.querySelector(".tile-open").setAttribute("aria-label", label(item, kept));
  const keep = cell.querySelector('[data-action="keep"]');
  keep.disabled = kept;
  keep.title = kept ? gettext("Kept") : gettext("Keep");
  keep.setAttribute("aria-label", keep.title);
}

// Show ``items`` in ``row``, reusing the tiles already there (their pictures stay loaded,
// and a focused tile keeps its focus unless it goes).
export function renderTiles(row, items) {
  const existing = new Map([...row.querySelectorAll(":scope > .draft-tile")].map((c) => [c.dataset.id, c]));
  const wanted = items.map((item) => {
    const cell = existing.get(item.id) ?? makeTile(item);
    existing.delete(item.id);
    cell.item = item;
    paint(cell, item);
    return cell;
  });
  for (const gone of existing.values()) gone.remove();
  for (const slot of row.querySelectorAll(":scope > .slot")) slot.remove();
  wanted.forEach((cell, i) => {
    if (row.children[i] !== cell) row.insertBefore(cell, row.children[i] ?? null);
  });
  sync(row);
  // Tabbing in lands on the newest picture, unless the breeder is in this grid now.
  rove(row, row.contains(document.activeElement) ? null : row.querySelector(":scope > .draft-tile > .tile-open"));
}

// Exactly one tile of a grid is in the tab order: the focused one, else the first.
function rove(row, to = null) {
  const links = [...row.querySelectorAll(":scope > .draft-tile > .tile-open")];
  const chosen = to ?? links.find((l) => l.tabIndex === 0) ?? links[0];
  for (const l of links) l.tabIndex = l === chosen ? 0 : -1;
  return chosen;
}

// A grid without pictures is hidden (a grid must hold cells); one waiting for its pictures
// is busy.
function sync(row) {
  const grid = row.closest('[role="grid"]');
  const slots = row.querySelectorAll(":scope > .slot").length;
  grid.hidden = row.children.length === 0;
  if (slots) grid.setAttribute("aria-busy", "true");
  else grid.removeAttribute("aria-busy");
}

export function placeholders(row, n, { append }) {
  if (!append) row.replaceChildren();
  const out = [];
  for (let i = 0; i < n; i++) {
    const slot = document.createElement("div");
    slot.className = "tile slot";
    slot.setAttribute("aria-hidden", "true");
    row.append(slot);
    out.push(slot);
  }
  sync(row);
  return out;
}

export function removeSlots(row) {
  for (const slot of row.querySelectorAll(":scope > .slot")) slot.remove();
  sync(row);
}

// Keys, clicks and drags of the tiles in ``row``: actions are { open, keep, discard, addParent },
// each called with the tile's item.
export function wireGrid(row, actions) {
  const cells = () => [...row.querySelectorAll(":scope > .draft-tile")];
  const focusCell = (cell) => {
    if (!cell) return;
    rove(row, cell.querySelector(".tile-open")).focus();
  };
  row.addEventListener("click", (event) => {
    const cell = event.target.closest(".draft-tile");
    if (!cell) return;
    const button = event.target.closest("button[data-action]");
    if (button) {
      const run = { keep: actions.keep, discard: actions.discard, "add-parent": actions.addParent }[button.dataset.action];
      run?.(cell.item);
      return;
    }
    const link = event.target.closest(".tile-open");
    if (link && !(event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || event.button)) {
      event.preventDefault();  // opened here, in place; a new tab still opens as a link does
      rove(row, link);
      actions.open(cell.item);
    }
  });
  row.addEventListener("focusin", (event) => {
    if (event.target.classList.contains("tile-open")) rove(row, event.target);
  });
  row.addEventListener("keydown", (event) => {
    const cell = event.target.closest(".draft-tile");
    if (!cell || !event.target.classList.contains("tile-open")) return;
    const all = cells();
    const i = all.indexOf(cell);
    const columns = Math.max(1, all.filter((c) => c.offsetTop === all[0].offsetTop).length);
    const move = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns }[event.key];
    if (move !== undefined) {
      event.preventDefault();
      focusCell(all[Math.min(all.length - 1, Math.max(0, i + move))]);
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      focusCell(event.key === "Home" ? all[0] : all.at(-1));
    } else if (event.key === "k" || event.key === "K") {
      event.preventDefault();
      actions.keep(cell.item);
    } else if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      actions.discard(cell.item);
    } else if (event.key === "+") {
      event.preventDefault();
      actions.addParent(cell.item);
    }
  });
  row.addEventListener("dragstart", (event) => {
    const cell = event.target.closest?.(".draft-tile");
    if (!cell) return;
    event.dataTransfer.setData("application/x-mendel-work", JSON.stringify(cell.item));
    event.dataTransfer.effectAllowed = "copy";
  });
}

// Focus the tile of ``id`` in ``row`` (after a discard, its neighbour; after an undo, itself).
export function focusTile(row, id) {
  const cell = row.querySelector(`:scope > .draft-tile[data-id="${CSS.escape(id)}"]`);
  if (cell) rove(row, cell.querySelector(".tile-open")).focus();
  return Boolean(cell);
}
