// The cross: parents with content and style weights, and mutation.
import { apiWorks } from "../api.js";
import { formatNumber, gettext, interpolate, ngettext } from "../i18n.js";
import { picture } from "../pictures.js";
import { showError, toast } from "../toast.js";
import { placeholders, removeSlots, renderTiles } from "./tiles.js";

const MAX_PARENTS = 6;

function labelWithOutput(forId, text, value) {
  const label = document.createElement("label");
  label.htmlFor = forId;
  const output = document.createElement("output");
  output.className = "num";
  output.textContent = value;
  label.append(`${text} `, output);
  return label;
}

export function setupCross(store, { panel, pick, announce, selectTab }) {
  const parentsList = panel.querySelector("[data-parents]");
  const crossButton = panel.querySelector("[data-cross]");
  const mutation = panel.querySelector("[data-mutation]");
  const mutationValue = panel.querySelector("[data-mutation-value]");
  const row = panel.querySelector("[data-cross-results]");

  const paintMutation = (value) => {
    if (Number(mutation.value) !== value) mutation.value = String(value);
    mutationValue.textContent = Number(value).toFixed(2);
  };
  mutation.addEventListener("input", () => store.set({ mutation: Number(mutation.value) }));
  paintMutation(store.get().mutation);

  // A parent's weights change in its entry (an object of the parents list) without
  // redrawing the list: a slider being dragged keeps its focus.
  function parentRow(entry) {
    const { item } = entry;
    const rowEl = document.createElement("li");
    rowEl.className = "parent";
    rowEl.dataset.id = item.id;
    const name = item.title || item.id;
    rowEl.append(picture(item.images["64"] ?? item.images["256"], interpolate(gettext("Parent %(name)s"), { name }), 64));
    const sliders = document.createElement("div");
    sliders.className = "parent-sliders";
    for (const kind of ["content", "style"]) {
      const id = `${kind}-${item.id}`;
      const text = kind === "content" ? gettext("Content") : gettext("Style");
      const aria = kind === "content" ? gettext("Content weight of %(name)s") : gettext("Style weight of %(name)s");
      const wrap = document.createElement("div");
      wrap.className = "control tight";
      wrap.append(labelWithOutput(id, text, entry[kind].toFixed(2)));
      const input = document.createElement("input");
      Object.assign(input, { type: "range", min: "0", max: "1", step: "0.05", value: String(entry[kind]), id });
      input.dataset.weight = kind;
      input.setAttribute("aria-label", interpolate(aria, { name }));
      input.addEventListener("input", () => {
        entry[kind] = Number(input.value);
        wrap.querySelector("output").textContent = entry[kind].toFixed(2);
      });
      wrap.append(input);
      sliders.append(wrap);
    }
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "button small quiet";
    remove.dataset.action = "remove-parent";
    remove.textContent = gettext("Remove");
    remove.setAttribute("aria-label", interpolate(gettext("Remove %(name)s from the cross"), { name }));
    remove.addEventListener("click", () => {
      store.set({ parents: store.get().parents.filter((p) => p !== entry) });
    });
    rowEl.append(sliders, remove);
    return rowEl;
  }

  function showParents(parents) {
    const rows = new Map([...parentsList.children].map((r) => [r.entry, r]));
    parentsList.replaceChildren(...parents.map((entry) => {
      const r = rows.get(entry) ?? parentRow(entry);
      r.entry = entry;
      return r;
    }));
    crossButton.disabled = parents.length < 2;
    crossButton.textContent = parents.length < 2 ? gettext("Cross (add another parent)")
      : interpolate(ngettext("Cross %(count)s parent", "Cross %(count)s parents", parents.length),
        { count: formatNumber(parents.length) });
  }

  store.subscribe((state, before) => {
    if (state.mutation !== before.mutation) paintMutation(state.mutation);
    if (state.parents !== before.parents) showParents(state.parents);
    if (state.crossed !== before.crossed) renderTiles(row, state.crossed);
  });

  function addParent(item) {
    const { parents } = store.get();
    if (parents.some((p) => p.item.id === item.id)) {
      toast(gettext("That picture is already a parent."));
      return;
    }
    if (parents.length >= MAX_PARENTS) {
      toast(interpolate(gettext("A cross takes at most %(count)s parents."), { count: formatNumber(MAX_PARENTS) }),
        { kind: "error" });
      return;
    }
    store.set({ parents: [...parents, { item, content: 1, style: 1 }] });
    if (parents.length + 1 > 1) selectTab("cross");
  }

  crossButton.addEventListener("click", async () => {
    crossButton.disabled = true;
    const { parents, mutation: amount } = store.get();
    // Without mutation a cross has one result; with it, a few variations to choose from.
    const n = amount > 0 ? 4 : 1;
    placeholders(row, n, { append: false });
    try {
      const made = await apiWorks("/api/cross/", {
        parents: parents.map((p) => ({ id: p.item.id, content: p.content, style: p.style })),
        n,
        mutation: amount,
      }, 256);
      store.set({ crossed: made, drafts: [...made, ...store.get().drafts] });
      announce(interpolate(ngettext("%(count)s cross made.", "%(count)s crosses made.", made.length),
        { count: formatNumber(made.length) }));
    } catch (error) {
      removeSlots(row);
      renderTiles(row, store.get().crossed);
      showError(error);
    } finally {
      crossButton.disabled = store.get().parents.length < 2;
    }
  });

  // Works dragged from this page; only what a work looks like is taken.
  parentsList.addEventListener("dragover", (event) => {
    if (event.dataTransfer.types.includes("application/x-mendel-work")) {
      event.preventDefault();
      parentsList.classList.add("dropping");
    }
  });
  parentsList.addEventListener("dragleave", () => parentsList.classList.remove("dropping"));
  parentsList.addEventListener("drop", (event) => {
    event.preventDefault();
    parentsList.classList.remove("dropping");
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

  panel.querySelector("[data-add-parent]").addEventListener("click", () => pick(gettext("Add a parent"), addParent));

  showParents(store.get().parents);
  return { addParent, row };
}
