// Gene sliders: the picture answers while a slider moves; "Keep this edit" saves a draft.
// Opening another picture puts the sliders back at zero.
import { api } from "../api.js";
import { gettext } from "../i18n.js";
import { swapImage } from "../pictures.js";
import { showError, toast } from "../toast.js";
import { studioUrl } from "./state.js";

// While a space's genes are being found: a sentence, the progress and the server's message.
function discovering() {
  const box = document.createElement("div");
  box.className = "discovering";
  box.dataset.discovering = "";
  const said = document.createElement("p");
  said.textContent = gettext("Mendel is still discovering this space's genes. Sliders appear here as soon as they are ready.");
  const progress = document.createElement("progress");
  Object.assign(progress, { max: 1, value: 0 });
  progress.dataset.discoveryProgress = "";
  progress.setAttribute("aria-label", gettext("Gene discovery"));
  const message = document.createElement("p");
  message.className = "hint";
  message.dataset.discoveryMessage = "";
  box.append(said, progress, message);
  return box;
}

export function setupGenes(store, { panel, stageImg, setStageStatus }) {
  const box = panel.querySelector("[data-genes]");
  const resetButton = panel.querySelector("[data-reset-genes]");
  const keepEdit = panel.querySelector("[data-keep-edit]");
  const amounts = {};
  let inFlight = false;
  let queued = false;
  let previewTimer = null;
  let sharpTimer = null;
  let pausedUntil = 0;  // after a 429, until the server says to try again
  let wantedSize = 256;

  function render(genes) {
    box.replaceChildren();
    for (const slug of Object.keys(amounts)) delete amounts[slug];
    if (!genes.length) {
      box.append(discovering());
      return;
    }
    for (const gene of genes) {
      const id = `gene-${gene.slug}`;
      const wrap = document.createElement("div");
      wrap.className = "control";
      const label = document.createElement("label");
      label.htmlFor = id;
      const output = document.createElement("output");
      output.className = "num";
      output.textContent = "0.0";
      label.append(`${gene.label} `, output);
      const input = document.createElement("input");
      const step = (gene.high - gene.low) / 100;
      Object.assign(input, { type: "range", id, min: String(gene.low), max: String(gene.high), step: String(step), value: "0" });
      input.dataset.gene = gene.slug;
      input.addEventListener("input", () => {
        amounts[gene.slug] = Number(input.value);
        output.textContent = Number(input.value).toFixed(1);
        schedulePreview(256);
        // Once the slider rests, a sharper picture of where it landed.
        clearTimeout(sharpTimer);
        sharpTimer = setTimeout(() => schedulePreview(1024, 0), 400);
      });
      wrap.append(label, input);
      box.append(wrap);
    }
  }

  const moved = () => Object.fromEntries(Object.entries(amounts).filter(([, v]) => v !== 0));

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
    resetButton.disabled = keepEdit.disabled = !any;
    const { current } = store.get();
    inFlight = true;
    try {
      const image = any
        ? (await api("POST", `/api/creations/${current.id}/preview/`, { genes, size: wantedSize })).image
        : current.images["1024"];
      if (store.get().current.id === current.id) {
        await swapImage(stageImg, image);
        stageImg.dataset.preview = any ? image : "";
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

  function zero() {
    clearTimeout(previewTimer);
    clearTimeout(sharpTimer);
    queued = false;
    for (const input of box.querySelectorAll("[data-gene]")) {
      input.value = "0";
      input.previousElementSibling.querySelector("output").textContent = "0.0";
      amounts[input.dataset.gene] = 0;
    }
    resetButton.disabled = keepEdit.disabled = true;
  }

  resetButton.addEventListener("click", () => {
    zero();
    schedulePreview(1024, 0);
  });
  store.subscribe((state, before) => {
    if (state.current.id !== before.current.id) zero();
  });

  keepEdit.addEventListener("click", async () => {
    keepEdit.disabled = true;
    try {
      const [made] = await api("POST", `/api/creations/${store.get().current.id}/edit/`, { genes: moved() });
      store.set({ drafts: [made, ...store.get().drafts] });
      toast(gettext("The edit is saved as a draft."), { action: { label: gettext("Open it"), href: studioUrl(made.id) } });
    } catch (error) {
      showError(error);
    } finally {
      keepEdit.disabled = Object.keys(moved()).length === 0;
    }
  });

  render(store.get().genes);
  return { render };
}
