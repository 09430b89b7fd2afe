// A collection's page, for its owner: rename it, describe it, make it public or private,
// delete it; move its works, choose the cover, take works out. Every change is the REST
// API's; the page shows what the server answered.
import { api } from "./api.js";
import { formatNumber, gettext, interpolate, ngettext, pageUrl } from "./i18n.js";
import { showError, toast } from "./toast.js";

const head = document.querySelector("[data-collection]");
const id = head.dataset.collection;
const wall = document.querySelector("[data-collection-wall]");
const form = document.querySelector("[data-collection-form]");
const editButton = document.querySelector("[data-collection-edit]");

const items = () => [...wall.querySelectorAll(".collection-item")];

function showState(collection) {
  document.querySelector("[data-collection-title]").textContent = collection.title;
  document.title = interpolate(gettext("%(title)s, a collection by %(owner)s · Mendel"),
    { title: collection.title, owner: collection.owner });
  document.querySelector("[data-collection-private]").hidden = collection.public;
  const about = document.querySelector("[data-collection-description]");
  about.textContent = collection.description;
  about.hidden = !collection.description;
  document.querySelector("[data-collection-count]").textContent = interpolate(
    ngettext("%(count)s work", "%(count)s works", collection.count), { count: formatNumber(collection.count) });
  for (const item of items()) {
    item.querySelector("[data-cover-badge]").hidden = item.dataset.work !== collection.cover?.id;
  }
  const empty = items().length === 0 && !wall.querySelector("[data-more]");
  wall.hidden = empty;
  document.querySelector("[data-collection-empty]").hidden = !empty;
  arrows();
}

// The first work cannot move earlier, nor the last later (once every page is loaded).
function arrows() {
  const all = items();
  const more = Boolean(wall.querySelector("[data-more]"));
  all.forEach((item, i) => {
    item.querySelector('[data-move="-1"]').disabled = i === 0;
    item.querySelector('[data-move="1"]').disabled = i === all.length - 1 && !more;
  });
}
arrows();
new MutationObserver(arrows).observe(wall, { childList: true });

editButton.addEventListener("click", () => {
  form.hidden = !form.hidden;
  editButton.setAttribute("aria-expanded", String(!form.hidden));
  if (!form.hidden) form.elements.title.focus();
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button:not([type])");
  button.disabled = true;
  try {
    const now = await api("PATCH", `/api/collections/${id}/`, {
      title: form.elements.title.value,
      description: form.elements.description.value,
      public: form.elements.public.checked,
    });
    showState(now);
    form.hidden = true;
    editButton.setAttribute("aria-expanded", "false");
    toast(now.public ? gettext("Saved. Anyone may open this collection.")
      : gettext("Saved. Only you can open this collection."));
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
});

form.querySelector("[data-collection-delete]").addEventListener("click", async () => {
  if (!confirm(gettext("Delete this collection? The works in it stay where they are."))) return;
  try {
    await api("DELETE", `/api/collections/${id}/`);
    location.assign(pageUrl(`/u/${encodeURIComponent(head.dataset.owner)}/`));
  } catch (error) {
    showError(error);
  }
});

// The tiles' own buttons, for tiles loaded later (infinite scroll) too.
wall.addEventListener("click", async (event) => {
  const button = event.target.closest(".tile-actions button");
  if (!button) return;
  const item = button.closest(".collection-item");
  const work = item.dataset.work;
  const base = `/api/collections/${id}/works/${work}/`;
  button.disabled = true;
  try {
    if (button.dataset.move) {
      const all = items();
      const to = all.indexOf(item) + Number(button.dataset.move);
      if (to < 0 || to >= all.length) return;
      const now = await api("PATCH", base, { position: to });
      if (Number(button.dataset.move) < 0) all[to].before(item);
      else all[to].after(item);
      showState(now);
      button.focus();
    } else if ("makeCover" in button.dataset) {
      showState(await api("PATCH", `/api/collections/${id}/`, { cover: work }));
      toast(gettext("This work is the cover now."));
    } else if ("takeOut" in button.dataset) {
      const now = await api("DELETE", base);
      item.remove();
      showState(now);
      toast(interpolate(gettext("Taken out of “%(title)s”."), { title: now.title }));
    }
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
    arrows();
    if (button.disabled && document.activeElement === document.body) {
      item.querySelector("[data-move]:not(:disabled)")?.focus();
    }
  }
});
