// Gene sliders: the picture answers while a slider moves; "Keep this edit" saves a draft.
// Opening another picture puts the sliders back at zero.
import { api, isSessionExpired } from "../api.js";
import { gettext, interpolate } from "../i18n.js";
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

export function setupGenes(store, { panel, stageImg, setStageStatus, space }) {
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

  // A gene's slider; a gene made from a word is named by its word, in quotes.
  function slider(gene) {
    const id = `gene-${gene.slug}`;
    const wrap = document.createElement("div");
    wrap.className = "control";
    const label = document.createElement("label");
    label.htmlFor = id;
    const output = document.createElement("output");
    output.className = "num";
    const name = gene.source === "word" ? interpolate(gettext("“%(word)s”"), { word: gene.label }) : gene.label;
    label.append(`${name} `, output);
    const input = document.createElement("input");
    const step = (gene.high - gene.low) / 100;
    const amount = amounts[gene.slug] ?? 0;
    Object.assign(input, { type: "range", id, min: String(gene.low), max: String(gene.high), step: String(step), value: String(amount) });
    output.textContent = amount.toFixed(1);
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
    if (gene.source === "word") wrap.append(removeButton(gene, wrap));
    return wrap;
  }

  // A gene from a word leaves this breeder's Genes tab (others who added it keep it).
  function removeButton(gene, wrap) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button quiet small";
    button.dataset.removeGene = gene.slug;
    button.textContent = gettext("Remove");
    button.setAttribute("aria-label", interpolate(gettext("Remove the gene “%(word)s” from your genes"), { word: gene.label }));
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await api("DELETE", `/api/spaces/${encodeURIComponent(space)}/genes/words/${encodeURIComponent(gene.slug)}/`);
        const wasMoved = (amounts[gene.slug] ?? 0) !== 0;
        delete amounts[gene.slug];
        wrap.remove();
        if (wasMoved) schedulePreview(1024, 0);
      } catch (error) {
        showError(error);
        button.disabled = false;
      }
    });
    return button;
  }

  // The sliders of ``genes``; where a gene was shown already its amount stays (the list
  // comes again when discovery ends, and holds the genes made from words meanwhile).
  function render(genes) {
    box.replaceChildren();
    for (const slug of Object.keys(amounts)) {
      if (!genes.some((gene) => gene.slug === slug)) delete amounts[slug];
    }
    if (!genes.length) {
      box.append(discovering());
      return;
    }
    for (const gene of genes) box.append(slider(gene));
  }

  // A gene from a word ("more cat"): asked for, then a slider like any other, moved to one
  // step of the word's way and previewed as a slider move would be.
  function addGene(gene, sign) {
    let input = box.querySelector(`[data-gene="${CSS.escape(gene.slug)}"]`);
    if (!input) {
      box.querySelector("[data-discovering]")?.remove();
      box.append(slider(gene));
      input = box.querySelector(`[data-gene="${CSS.escape(gene.slug)}"]`);
    }
    const now = Number(input.value);
    if (now === 0 || Math.sign(now) !== sign) {
      input.value = String(Math.min(gene.high, Math.max(gene.low, sign)));
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }
    input.scrollIntoView({ block: "nearest" });
    input.focus();
  }

  const wordForm = panel.querySelector("[data-word-gene]");
  if (wordForm) {
    const word = wordForm.querySelector('input[name="word"]');
    const add = wordForm.querySelector('button[type="submit"]');
    const refusal = wordForm.querySelector("[data-word-gene-error]");
    const help = wordForm.querySelector("[data-word-gene-help]");
    const helpText = help.textContent;
    const clear = () => {
      refusal.textContent = "";
      word.removeAttribute("aria-invalid");
    };
    wordForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      clear();
      const asked = word.value.trim();
      if (!asked) {
        refusal.textContent = gettext("Type a word, such as “more cat” or “less smile”.");
        word.setAttribute("aria-invalid", "true");
        return;
      }
      add.disabled = true;
      wordForm.setAttribute("aria-busy", "true");
      help.textContent = interpolate(gettext("Checking “%(word)s”…"), { word: asked });
      try {
        const { gene, sign } = await api("POST", `/api/spaces/${encodeURIComponent(space)}/genes/words/`, { word: asked });
        word.value = "";
        addGene(gene, sign);
      } catch (error) {
        if (isSessionExpired(error)) showError(error);
        refusal.textContent = error.message;
        word.setAttribute("aria-invalid", "true");
      } finally {
        add.disabled = false;
        wordForm.removeAttribute("aria-busy");
        help.textContent = helpText;
      }
    });
    word.addEventListener("input", () => { if (refusal.textContent) clear(); });
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
