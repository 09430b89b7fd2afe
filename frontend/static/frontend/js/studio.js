// The breeding studio: children, crosses, gene sliders, drafts. Everything goes through
// the REST API; the studio socket brings progress of long work (gene discovery).
import { api } from "./api.js";
import "./placeholder.js";
import { picture, swapImage } from "./pictures.js";
import { studioSocket } from "./socket.js";
import { showError, toast } from "./toast.js";
import { makeRandom } from "./start.js";

const state = JSON.parse(document.getElementById("studio-state").textContent);
const current = state.creation;
const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

const stageImg = $("[data-current]");
const stageStatus = $("[data-stage-status]");

function studioUrl(id) {
  return `/studio/${encodeURIComponent(id)}/`;
}

function setStageStatus(text) {
  stageStatus.hidden = !text;
  stageStatus.textContent = text ?? "";
}

// -- tabs -------------------------------------------------------------------------------

const tabs = $$('[role="tab"]');
function selectTab(tab) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
  }
}
for (const tab of tabs) {
  tab.addEventListener("click", () => selectTab(tab));
  tab.addEventListener("keydown", (event) => {
    const i = tabs.indexOf(tab);
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const next = tabs[(i + step + tabs.length) % tabs.length];
    selectTab(next);
    next.focus();
  });
}

// -- tiles of drafts ------------------------------------------------------------------

// A draft tile: opens its studio; Keep and Discard buttons; Enter keeps, Delete discards.
function tile(item) {
  const figure = document.createElement("figure");
  figure.className = "tile draft-tile";
  figure.tabIndex = 0;
  figure.dataset.id = item.id;
  figure.draggable = true;
  figure.setAttribute("aria-label", `Draft ${item.title || item.id}`);
  const link = document.createElement("a");
  link.href = studioUrl(item.id);
  link.append(picture(item.images["256"], `Draft ${item.title || item.id}`));
  figure.append(link);
  const bar = document.createElement("figcaption");
  bar.className = "tile-actions";
  const kept = item.visibility && item.visibility !== "draft";
  const keep = iconButton("✓", kept ? "Kept" : "Keep", "keep");
  keep.disabled = kept;
  const discard = iconButton("✕", "Discard", "discard");
  bar.append(keep, discard);
  bar.append(iconButton("+", "Add to the cross", "add-parent"));
  figure.append(bar);
  keep.addEventListener("click", () => keepDraft(item.id, figure));
  discard.addEventListener("click", () => discardDraft(item.id, figure));
  figure.querySelector('[data-action="add-parent"]')?.addEventListener("click", () => addParent(item));
  figure.addEventListener("keydown", (event) => {
    if (event.target !== figure) return;
    if (event.key === "Enter") { event.preventDefault(); keepDraft(item.id, figure); }
    if (event.key === "Delete") { event.preventDefault(); discardDraft(item.id, figure); }
  });
  figure.addEventListener("dragstart", (event) => {
    event.dataTransfer.setData("application/x-mendel-work", JSON.stringify(item));
    event.dataTransfer.effectAllowed = "copy";
  });
  return figure;
}

function iconButton(symbol, label, action) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "icon";
  b.dataset.action = action;
  b.textContent = symbol;
  b.title = label;
  b.setAttribute("aria-label", label);
  return b;
}

function button(label, action) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "button small quiet";
  b.dataset.action = action;
  b.textContent = label;
  return b;
}

async function keepDraft(id, figure) {
  try {
    await api("PATCH", `/api/creations/${id}/`, { visibility: "private" });
    for (const f of $$(`.draft-tile[data-id="${CSS.escape(id)}"]`)) {
      f.classList.add("kept");
      const keep = f.querySelector('[data-action="keep"]');
      if (keep) { keep.title = "Kept"; keep.setAttribute("aria-label", "Kept"); keep.disabled = true; }
    }
    toast("Kept in your library.", { action: { label: "Open", href: studioUrl(id) } });
  } catch (error) {
    showError(error);
  }
  figure?.focus();
}

async function discardDraft(id, figure) {
  const next = figure?.nextElementSibling ?? figure?.previousElementSibling;
  try {
    await api("DELETE", `/api/creations/${id}/`);
    for (const f of $$(`.draft-tile[data-id="${CSS.escape(id)}"]`)) f.remove();
    const parent = parents.find((p) => p.item.id === id);
    if (parent) removeParent(parent);
    next?.focus?.();
    toast("Draft discarded.", { action: { label: "Undo", run: () => restoreDraft(id) }, timeout: 8000 });
  } catch (error) {
    showError(error);
  }
}

async function restoreDraft(id) {
  try {
    const item = await api("POST", `/api/creations/${id}/restore/`);
    addDrafts([item]);
    draftStrip.querySelector(`.draft-tile[data-id="${CSS.escape(id)}"]`)?.focus();
  } catch (error) {
    showError(error);
  }
}

const draftStrip = $("[data-drafts]");
function addDrafts(items) {
  for (const item of [...items].reverse()) draftStrip.prepend(tile(item));
}
addDrafts(state.drafts);

// -- children -------------------------------------------------------------------------

const chaos = $("[data-chaos]");
const chaosValue = $("[data-chaos-value]");
const childrenGrid = $("[data-children]");
const breedButton = $("[data-breed]");
const moreButton = $("[data-more]");

chaos.addEventListener("input", () => { chaosValue.textContent = Number(chaos.value).toFixed(2); });

async function breed(append) {
  breedButton.disabled = moreButton.disabled = true;
  const pending = placeholders(childrenGrid, 8, append);
  try {
    const made = await api("POST", `/api/creations/${current.id}/children/`, { n: 8, chaos: Number(chaos.value) });
    fill(pending, made);
    addDrafts(made);
    moreButton.hidden = false;
  } catch (error) {
    for (const p of pending) p.remove();
    showError(error);
  } finally {
    breedButton.disabled = moreButton.disabled = false;
  }
}
breedButton.addEventListener("click", () => breed(false));
moreButton.addEventListener("click", () => breed(true));

function placeholders(grid, n, append) {
  if (!append) grid.replaceChildren();
  const out = [];
  for (let i = 0; i < n; i++) {
    const slot = document.createElement("figure");
    slot.className = "tile slot";
    slot.setAttribute("aria-busy", "true");
    grid.append(slot);
    out.push(slot);
  }
  return out;
}

function fill(slots, made) {
  made.forEach((item, i) => {
    const t = tile(item);
    if (slots[i]) slots[i].replaceWith(t); else slots[0]?.parentElement?.append(t);
  });
  for (const extra of slots.slice(made.length)) extra.remove();
}

// -- cross ----------------------------------------------------------------------------

const parentsList = $("[data-parents]");
const crossButton = $("[data-cross]");
const mutation = $("[data-mutation]");
const mutationValue = $("[data-mutation-value]");
const crossResults = $("[data-cross-results]");
const parents = [];

mutation.addEventListener("input", () => { mutationValue.textContent = Number(mutation.value).toFixed(2); });

function addParent(item) {
  if (parents.some((p) => p.item.id === item.id)) {
    toast("That picture is already a parent.");
    return;
  }
  if (parents.length >= 6) {
    toast("A cross takes at most 6 parents.", { kind: "error" });
    return;
  }
  const row = document.createElement("li");
  row.className = "parent";
  row.dataset.id = item.id;
  const label = item.title || item.id;
  row.append(picture(item.images["64"] ?? item.images["256"], `Parent ${label}`, 64));
  const sliders = document.createElement("div");
  sliders.className = "parent-sliders";
  const entry = { item, content: 1, style: 1, row };
  for (const kind of ["content", "style"]) {
    const id = `${kind}-${item.id}`;
    const wrap = document.createElement("div");
    wrap.className = "control tight";
    wrap.append(labelWithOutput(id, kind === "content" ? "Content" : "Style", "1.00"));
    const input = document.createElement("input");
    Object.assign(input, { type: "range", min: "0", max: "1", step: "0.05", value: "1", id });
    input.dataset.weight = kind;
    input.setAttribute("aria-label", `${kind === "content" ? "Content" : "Style"} weight of ${label}`);
    input.addEventListener("input", () => {
      entry[kind] = Number(input.value);
      wrap.querySelector("output").textContent = entry[kind].toFixed(2);
    });
    wrap.append(input);
    sliders.append(wrap);
  }
  const remove = button("Remove", "remove-parent");
  remove.setAttribute("aria-label", `Remove ${label} from the cross`);
  remove.addEventListener("click", () => removeParent(entry));
  row.append(sliders, remove);
  parentsList.append(row);
  parents.push(entry);
  updateCross();
  if (parents.length > 1) selectTab($("#tab-cross"));
}

function removeParent(entry) {
  parents.splice(parents.indexOf(entry), 1);
  entry.row.remove();
  updateCross();
}

function labelWithOutput(forId, text, value) {
  const label = document.createElement("label");
  label.htmlFor = forId;
  const output = document.createElement("output");
  output.className = "num";
  output.textContent = value;
  label.append(`${text} `, output);
  return label;
}

function updateCross() {
  crossButton.disabled = parents.length < 2;
  crossButton.textContent = parents.length < 2 ? "Cross (add another parent)" : `Cross ${parents.length} parents`;
}

crossButton.addEventListener("click", async () => {
  crossButton.disabled = true;
  // Without mutation a cross has one result; with it, a few variations to choose from.
  const n = Number(mutation.value) > 0 ? 4 : 1;
  const pending = placeholders(crossResults, n, false);
  try {
    const made = await api("POST", "/api/cross/", {
      parents: parents.map((p) => ({ id: p.item.id, content: p.content, style: p.style })),
      n,
      mutation: Number(mutation.value),
    });
    fill(pending, made);
    addDrafts(made);
  } catch (error) {
    for (const p of pending) p.remove();
    showError(error);
  } finally {
    updateCross();
  }
});

const dropzone = $("[data-dropzone]");
dropzone.addEventListener("dragover", (event) => {
  if (event.dataTransfer.types.includes("application/x-mendel-work")) {
    event.preventDefault();
    dropzone.classList.add("dropping");
  }
});
dropzone.addEventListener("dragleave", () => dropzone.classList.remove("dropping"));
dropzone.addEventListener("drop", (event) => {
  event.preventDefault();
  dropzone.classList.remove("dropping");
  // Only works dragged from this page are taken, and only what a work looks like.
  let item = null;
  try {
    item = JSON.parse(event.dataTransfer.getData("application/x-mendel-work") || "null");
  } catch {
    item = null;
  }
  if (item && /^[a-z0-9]{4,16}$/.test(item.id ?? "") && typeof item.images?.["256"] === "string"
      && item.images["256"].startsWith("/r/")) {
    addParent(item);
  }
});

addParent(current);

// The picker: pick a parent from your library or the public gallery.
const picker = $("[data-picker]");
const pickerGrid = $("[data-picker-grid]");
let pickerLoad = 0;
function pickerNote(text) {
  const p = document.createElement("p");
  p.className = "muted";
  p.textContent = text;
  pickerGrid.replaceChildren(p);
}
async function loadPicker(source) {
  for (const b of $$("[data-source]", picker)) b.setAttribute("aria-current", String(b.dataset.source === source));
  const load = ++pickerLoad;
  pickerNote("Loading…");
  try {
    const items = source === "library"
      ? await api("GET", `/api/creations/?space=${encodeURIComponent(state.space.slug)}`)
      : (await api("GET", `/api/gallery/?space=${encodeURIComponent(state.space.slug)}&limit=48`)).results;
    if (load !== pickerLoad) return;  // another source was picked meanwhile
    pickerGrid.replaceChildren();
    if (!items.length) {
      pickerNote(source === "library" ? "Nothing in your library yet." : "No public works in this space yet.");
    }
    for (const item of items) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "pick-tile";
      b.dataset.id = item.id;
      b.append(picture(item.images["256"], `${item.title || "Untitled"}${item.owner ? ` by ${item.owner}` : ""}`));
      b.addEventListener("click", () => { addParent(item); picker.close(); });
      pickerGrid.append(b);
    }
  } catch (error) {
    if (load === pickerLoad) pickerNote(error.message);  // toasts would sit behind the dialog
  }
}
$("[data-add-parent]").addEventListener("click", () => { picker.showModal(); loadPicker("library"); });
for (const b of $$("[data-source]", picker)) b.addEventListener("click", () => loadPicker(b.dataset.source));

// -- genes ------------------------------------------------------------------------------

const genesBox = $("[data-genes]");
const resetGenes = $("[data-reset-genes]");
const keepEdit = $("[data-keep-edit]");
const amounts = {};
const originalSrc = stageImg.src;
let inFlight = false;
let queued = false;
let previewTimer = null;
let sharpTimer = null;
let pausedUntil = 0;  // after a 429, until the server says to try again

function renderGenes(genes) {
  genesBox.replaceChildren();
  for (const slug of Object.keys(amounts)) delete amounts[slug];
  if (!genes.length) {
    genesBox.innerHTML = `<div class="discovering" data-discovering><p>Mendel is still discovering this space's genes.
      Sliders appear here as soon as they are ready.</p><progress max="1" value="0" data-discovery-progress aria-label="Gene discovery"></progress>
      <p class="hint" data-discovery-message></p></div>`;  // a fixed text: nothing from data
    return;
  }
  for (const gene of genes) {
    const id = `gene-${gene.slug}`;
    const wrap = document.createElement("div");
    wrap.className = "control";
    wrap.append(labelWithOutput(id, gene.label, "0.0"));
    const input = document.createElement("input");
    const step = (gene.high - gene.low) / 100;
    Object.assign(input, { type: "range", id, min: String(gene.low), max: String(gene.high), step: String(step), value: "0" });
    input.dataset.gene = gene.slug;
    input.addEventListener("input", () => {
      amounts[gene.slug] = Number(input.value);
      wrap.querySelector("output").textContent = Number(input.value).toFixed(1);
      schedulePreview(256);
      // Once the slider rests, a sharper picture of where it landed.
      clearTimeout(sharpTimer);
      sharpTimer = setTimeout(() => schedulePreview(1024, 0), 400);
    });
    wrap.append(input);
    genesBox.append(wrap);
  }
}
renderGenes(state.genes);

function moved() {
  return Object.fromEntries(Object.entries(amounts).filter(([, v]) => v !== 0));
}

let wantedSize = 256;
function schedulePreview(size, wait = 30) {
  wantedSize = size;
  clearTimeout(previewTimer);
  previewTimer = setTimeout(runPreview, wait);
}

async function runPreview() {
  // One preview at a time; while it runs, only the latest slider position is remembered.
  if (inFlight) { queued = true; return; }
  if (Date.now() < pausedUntil) {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(runPreview, pausedUntil - Date.now());
    return;
  }
  const genes = moved();
  const any = Object.keys(genes).length > 0;
  resetGenes.disabled = keepEdit.disabled = !any;
  inFlight = true;
  try {
    if (!any) {
      await swapImage(stageImg, originalSrc);
      stageImg.dataset.preview = "";
    } else {
      const { image } = await api("POST", `/api/creations/${current.id}/preview/`, { genes, size: wantedSize });
      await swapImage(stageImg, image);
      stageImg.dataset.preview = image;
    }
    setStageStatus(null);
  } catch (error) {
    if (error.status === 429) {
      pausedUntil = Date.now() + 1000 * (Number(error.retryAfter) || 5);
      queued = true;
    }
    if (error.status !== undefined) showError(error);
    else setStageStatus(error.message);
  } finally {
    inFlight = false;
    if (queued) { queued = false; runPreview(); }
  }
}

resetGenes.addEventListener("click", () => {
  for (const input of $$("[data-gene]", genesBox)) {
    input.value = "0";
    input.previousElementSibling.querySelector("output").textContent = "0.0";
    amounts[input.dataset.gene] = 0;
  }
  schedulePreview(1024, 0);
});

keepEdit.addEventListener("click", async () => {
  keepEdit.disabled = true;
  try {
    const [made] = await api("POST", `/api/creations/${current.id}/edit/`, { genes: moved() });
    addDrafts([made]);
    toast("The edit is saved as a draft.", { action: { label: "Open it", href: studioUrl(made.id) } });
  } catch (error) {
    showError(error);
  } finally {
    keepEdit.disabled = Object.keys(moved()).length === 0;
  }
});

// -- the current picture: title, visibility, keep -----------------------------------------

const title = $("[data-title]");
title?.addEventListener("change", async () => {
  try {
    await api("PATCH", `/api/creations/${current.id}/`, { title: title.value.trim() });
    toast("Title saved.");
  } catch (error) {
    showError(error);
  }
});
title?.addEventListener("keydown", (event) => { if (event.key === "Enter") title.blur(); });

const visibility = $("[data-visibility]");
async function setVisibility(value) {
  const before = current.visibility;
  try {
    const saved = await api("PATCH", `/api/creations/${current.id}/`, { visibility: value });
    current.visibility = saved.visibility;
    visibility.value = saved.visibility;
    visibility.querySelector('option[value="draft"]')?.remove();
    $("[data-keep-current]")?.remove();
    toast(saved.visibility === "public" ? "Published: it is in the public gallery now."
      : before === "draft" ? "Kept in your library." : "Saved.");
  } catch (error) {
    visibility.value = before;  // the page says what is true
    showError(error);
  }
}
visibility?.addEventListener("change", () => setVisibility(visibility.value));
$("[data-keep-current]")?.addEventListener("click", () => setVisibility("private"));

for (const b of $$("[data-random]")) {
  b.addEventListener("click", () => makeRandom(b.dataset.random, b));
}

// -- the socket: progress of long work ------------------------------------------------------

studioSocket((message) => {
  if (message.type === "progress" && message.task === "genes" && message.space === state.space.slug) {
    const bar = $("[data-discovery-progress]");
    if (bar) bar.value = message.fraction;
    const text = $("[data-discovery-message]");
    if (text) text.textContent = message.message ?? "";
  }
  if (message.type === "done" && message.task === "genes" && message.space === state.space.slug) {
    api("GET", `/api/spaces/${state.space.slug}/genes/`).then((genes) => {
      renderGenes(genes);
      if (genes.length) toast(`${genes.length} genes are ready.`);
    }).catch(showError);
  }
}, $("[data-socket-state]"));

stageImg.addEventListener("error", () => setStageStatus("This picture failed to render. Reload to try again."));
