// The current picture: the stage, its title, who sees it, its downloads and links.
import { api } from "../api.js";
import { gettext, interpolate, pageUrl } from "../i18n.js";
import { swapImage } from "../pictures.js";
import { share } from "../share.js";
import { showError, toast } from "../toast.js";
import { updateItem } from "./state.js";

const DOWNLOADS = [["png", 1024], ["png", 2048], ["webp", 1024], ["webp", 2048]];

// As Django's slugify: what the file of a download is called.
export function slugify(text) {
  return text.normalize("NFKD").replace(/[^\x00-\x7f]/g, "").toLowerCase()
    .replace(/[^\w\s-]/g, "").trim().replace(/[-\s]+/g, "-").replace(/^[-_]+|[-_]+$/g, "");
}

export function setupCurrent(store, root) {
  const $ = (selector) => root.querySelector(selector);
  const stageImg = $("[data-current]");
  const stageStatus = $("[data-stage-status]");
  const title = $("[data-title]");
  const visibility = $("[data-visibility]");
  const keepButton = $("[data-keep-current]");

  function setStageStatus(text) {
    stageStatus.hidden = !text;
    stageStatus.textContent = text ?? "";
  }
  stageImg.addEventListener("error", () => setStageStatus(gettext("This picture failed to render. Reload to try again.")));

  function paintDownloads(current) {
    const base = current.images["1024"].replace(/1024\.webp$/, "");
    const name = slugify(current.title || "") || current.id;
    for (const [fmt, size] of DOWNLOADS) {
      const link = $(`[data-download="${fmt}-${size}"]`);
      if (!link) continue;
      link.href = `${base}${size}.${fmt}`;
      link.download = `${name}-${size}.${fmt}`;
    }
  }

  function paintVisibility(current) {
    visibility.value = current.visibility;
    const draftOption = visibility.querySelector('option[value="draft"]');
    draftOption.hidden = current.visibility !== "draft";
    keepButton.hidden = current.visibility !== "draft";
  }

  function paint(state, before) {
    const { current, mine } = state;
    const name = current.title || gettext("Untitled");
    document.title = interpolate(gettext("Studio · %(title)s · Mendel"), { title: name });
    paintDownloads(current);
    if (before && before.current.id === current.id) {
      if (before.current.visibility !== current.visibility) paintVisibility(current);
      return;
    }
    // Another picture: the small one shows until the large one arrives.
    if (before) {
      stageImg.alt = interpolate(gettext("%(title)s by %(owner)s"), { title: name, owner: current.owner });
      stageImg.style.backgroundImage = `url(${JSON.stringify(current.images["256"])})`;
      stageImg.dataset.preview = "";
      setStageStatus(null);
      swapImage(stageImg, current.images["1024"]).catch((error) => setStageStatus(error.message));
    }
    $("[data-mine]").hidden = !mine;
    $("[data-theirs]").hidden = mine;
    if (mine) {
      if (document.activeElement !== title) title.value = current.title;
      paintVisibility(current);
    } else {
      $("[data-their-title]").textContent = name;
      $("[data-their-owner]").textContent = current.owner;
      $("[data-copy-form]").action = pageUrl(`/w/${encodeURIComponent(current.id)}/breed/`);
    }
    // Where a picture started from words came from: the breeder's own phrase, as text.
    const origin = $("[data-origin-words]");
    const fromWords = current.origin === "words" && Boolean(current.phrase);
    origin.hidden = !fromWords;
    origin.textContent = fromWords ? interpolate(gettext("Started from the words “%(phrase)s”."), { phrase: current.phrase }) : "";
    $("[data-link-lineage]").href = pageUrl(`/w/${encodeURIComponent(current.id)}/lineage/`);
    $("[data-link-work]").href = pageUrl(`/w/${encodeURIComponent(current.id)}/`);
  }
  store.subscribe(paint);
  paint(store.get(), null);

  title.addEventListener("change", async () => {
    const { id } = store.get().current;
    const value = title.value.trim();
    try {
      await api("PATCH", `/api/creations/${id}/`, { title: value });
      updateItem(store, id, { title: value });
      toast(gettext("Title saved."));
    } catch (error) {
      showError(error);
    }
  });
  title.addEventListener("keydown", (event) => { if (event.key === "Enter") title.blur(); });

  async function setVisibility(value) {
    const { current } = store.get();
    const before = current.visibility;
    try {
      const saved = await api("PATCH", `/api/creations/${current.id}/`, { visibility: value });
      updateItem(store, current.id, { visibility: saved.visibility });
      toast(saved.visibility === "public" ? gettext("Published: it is in the public gallery now.")
        : before === "draft" ? gettext("Kept in your library.") : gettext("Saved."));
    } catch (error) {
      visibility.value = before;  // the page says what is true
      showError(error);
    }
  }
  visibility.addEventListener("change", () => setVisibility(visibility.value));
  $("[data-share]").addEventListener("click", () => {
    const { current } = store.get();
    share({ url: pageUrl(`/w/${encodeURIComponent(current.id)}/`), title: current.title, visibility: current.visibility });
  });
  keepButton.addEventListener("click", () => setVisibility("private"));

  return { stageImg, setStageStatus };
}
