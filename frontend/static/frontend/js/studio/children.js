// Children of the current picture: the chaos slider, "Breed 8 children" and "More".
import { apiWorks } from "../api.js";
import { formatNumber, interpolate, ngettext } from "../i18n.js";
import { showError } from "../toast.js";
import { placeholders, removeSlots, renderTiles } from "./tiles.js";

const BATCH = 8;
// The panel shows the latest two batches: what was made is always in sight, and older
// children stay in the drafts strip.
const SHOWN = 16;

export function setupChildren(store, { panel, announce }) {
  const chaos = panel.querySelector("[data-chaos]");
  const chaosValue = panel.querySelector("[data-chaos-value]");
  const row = panel.querySelector("[data-children]");
  const breedButton = panel.querySelector("[data-breed]");
  const moreButton = panel.querySelector("[data-more]");

  const paintChaos = (value) => {
    if (Number(chaos.value) !== value) chaos.value = String(value);
    chaosValue.textContent = Number(value).toFixed(2);
  };
  chaos.addEventListener("input", () => store.set({ chaos: Number(chaos.value) }));
  store.subscribe((state, before) => {
    if (state.chaos !== before.chaos) paintChaos(state.chaos);
    if (state.children !== before.children) show(state.children);
  });
  paintChaos(store.get().chaos);

  function show(children) {
    renderTiles(row, children);
    moreButton.hidden = children.length === 0;
  }
  show(store.get().children);

  async function breed(append) {
    const { current } = store.get();
    breedButton.disabled = moreButton.disabled = true;
    const shown = store.get().children;
    if (append && shown.length + BATCH > SHOWN) store.set({ children: shown.slice(shown.length + BATCH - SHOWN) });
    const slots = placeholders(row, BATCH, { append });
    // On a phone the children grow below the fold: bring the first of them into view.
    slots[0].scrollIntoView({ block: "nearest", behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth" });
    try {
      // The pictures come in the same answer, each as soon as it is painted.
      const made = await apiWorks(`/api/creations/${current.id}/children/`, { n: BATCH, chaos: store.get().chaos }, 256);
      if (store.get().current.id !== current.id) return;  // another picture was opened meanwhile
      const state = store.get();
      store.set({
        children: append ? [...state.children, ...made] : made,
        drafts: [...made, ...state.drafts],
      });
      announce(interpolate(append
        ? ngettext("%(count)s more child bred.", "%(count)s more children bred.", made.length)
        : ngettext("%(count)s child bred.", "%(count)s children bred.", made.length), { count: formatNumber(made.length) }));
    } catch (error) {
      removeSlots(row);
      show(store.get().children);
      showError(error);
    } finally {
      breedButton.disabled = moreButton.disabled = false;
    }
  }
  breedButton.addEventListener("click", () => breed(false));
  moreButton.addEventListener("click", () => breed(true));
  return { row };
}
