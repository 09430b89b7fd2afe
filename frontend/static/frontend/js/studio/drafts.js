// Drafts: the film strip, and keeping or discarding a draft wherever its tile is shown.
// A discarded draft remembers where it was in each list, so Undo puts it back there.
import { api } from "../api.js";
import { gettext } from "../i18n.js";
import { showError, toast } from "../toast.js";
import { renderTiles, focusTile } from "./tiles.js";
import { studioUrl, updateItem } from "./state.js";

const LISTS = ["children", "crossed", "drafts"];

export function setupDrafts(store, row) {
  store.subscribe((state, before) => {
    if (state.drafts !== before.drafts) renderTiles(row, state.drafts);
  });
  renderTiles(row, store.get().drafts);

  async function keep(item) {
    const focused = document.activeElement;
    try {
      const saved = await api("PATCH", `/api/creations/${item.id}/`, { visibility: "private" });
      updateItem(store, item.id, { visibility: saved.visibility });
      toast(gettext("Kept in your library."), { action: { label: gettext("Open"), href: studioUrl(item.id) } });
    } catch (error) {
      showError(error);
    }
    if (focused?.isConnected) focused.focus();
  }

  async function discard(item) {
    // Where it is now, to put it back there; and which tile takes the focus meanwhile.
    const state = store.get();
    const where = Object.fromEntries(LISTS.map((key) => [key, state[key].findIndex((i) => i.id === item.id)]));
    const childrenOf = state.current.id;
    const focusedRow = document.activeElement?.closest?.("[role=row]");
    const cell = focusedRow?.querySelector(`.draft-tile[data-id="${CSS.escape(item.id)}"]`);
    const neighbour = (cell?.nextElementSibling ?? cell?.previousElementSibling)?.dataset?.id;
    try {
      await api("DELETE", `/api/creations/${item.id}/`);
    } catch (error) {
      showError(error);
      return;
    }
    const now = store.get();
    const patch = {};
    for (const key of LISTS) patch[key] = now[key].filter((i) => i.id !== item.id);
    patch.parents = now.parents.filter((p) => p.item.id !== item.id);
    store.set(patch);
    if (focusedRow && neighbour) focusTile(focusedRow, neighbour);
    toast(gettext("Draft discarded."), {
      action: { label: gettext("Undo"), run: () => restore(item, where, childrenOf, focusedRow) },
      timeout: 8000,
    });
  }

  async function restore(item, where, childrenOf, row) {
    let back;
    try {
      back = await api("POST", `/api/creations/${item.id}/restore/`);
    } catch (error) {
      showError(error);
      return;
    }
    const now = store.get();
    const patch = {};
    for (const key of LISTS) {
      if (where[key] < 0 || (key !== "drafts" && now.current.id !== childrenOf)) continue;
      const list = [...now[key]];
      list.splice(Math.min(where[key], list.length), 0, { ...item, ...back });
      patch[key] = list;
    }
    if (!("drafts" in patch)) patch.drafts = [back, ...now.drafts];
    store.set(patch);
    if (!(row?.isConnected && focusTile(row, item.id))) focusTile(document.querySelector("[data-drafts]"), item.id);
  }

  return { keep, discard };
}
