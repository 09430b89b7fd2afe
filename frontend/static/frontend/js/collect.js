// A work page's "Add to collection": the breeder's collections with a box each (ticked where
// the work is in it), and a new collection made with the work in it, without leaving the page.
import { api } from "./api.js";
import { gettext, interpolate, ngettext, formatNumber, pageUrl } from "./i18n.js";
import { showError, toast } from "./toast.js";

const box = document.querySelector("[data-collect]");

if (box) {
  const work = box.dataset.collect;
  const toggle = box.querySelector("[data-collect-toggle]");
  const panel = box.querySelector("[data-collect-panel]");
  const list = panel.querySelector("[data-collect-list]");
  const status = panel.querySelector("[data-collect-status]");
  const form = panel.querySelector("[data-collect-new]");
  let loaded = false;

  const worksIn = (n) => interpolate(ngettext("%(count)s work", "%(count)s works", n), { count: formatNumber(n) });
  const about = (c) => (c.public ? worksIn(c.count)
    : interpolate(gettext("Private · %(works)s"), { works: worksIn(c.count) }));
  const added = (c) => interpolate(gettext("Added to “%(title)s”."), { title: c.title });

  function row(collection) {
    const item = document.createElement("li");
    const label = document.createElement("label");
    const check = document.createElement("input");
    check.type = "checkbox";
    check.checked = Boolean(collection.holds);
    const title = document.createElement("span");
    title.className = "collect-title";
    title.textContent = collection.title;
    const meta = document.createElement("span");
    meta.className = "muted collect-meta";
    meta.textContent = about(collection);
    label.append(check, title, meta);
    const open = document.createElement("a");
    open.href = pageUrl(`/c/${collection.id}/`);
    open.textContent = gettext("Open");
    open.setAttribute("aria-label", interpolate(gettext("Open %(title)s"), { title: collection.title }));
    item.append(label, open);
    check.addEventListener("change", async () => {
      const adding = check.checked;
      check.disabled = true;
      try {
        const now = adding
          ? await api("POST", `/api/collections/${collection.id}/works/`, { work })
          : await api("DELETE", `/api/collections/${collection.id}/works/${work}/`);
        meta.textContent = about(now);
        toast(adding ? added(now) : interpolate(gettext("Taken out of “%(title)s”."), { title: now.title }),
          adding ? { action: { label: gettext("Open"), href: pageUrl(`/c/${now.id}/`) } } : {});
      } catch (error) {
        check.checked = !adding;
        showError(error);
      } finally {
        check.disabled = false;
      }
    });
    return item;
  }

  async function load() {
    status.hidden = false;
    status.textContent = gettext("Loading your collections…");
    try {
      const mine = await api("GET", `/api/collections/?work=${encodeURIComponent(work)}`);
      list.replaceChildren(...mine.map(row));
      loaded = true;
      status.hidden = mine.length > 0;
      status.textContent = mine.length ? "" : gettext("You have no collections yet: name your first one.");
    } catch (error) {
      status.textContent = gettext("Your collections could not be loaded.");
      showError(error);
    }
  }

  function show(open) {
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    // Focus stays on the button (the panel is next in tab order): no phone keyboard
    // springs up over the list.
    if (open && !loaded) load();
  }

  toggle.addEventListener("click", () => show(panel.hidden));
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      show(false);
      toggle.focus();
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const made = await api("POST", "/api/collections/", {
        title: form.elements.title.value, public: form.elements.public.checked,
      });
      const now = await api("POST", `/api/collections/${made.id}/works/`, { work });
      list.prepend(row({ ...now, holds: true }));
      status.hidden = true;
      form.reset();
      toast(added(now), { action: { label: gettext("Open"), href: pageUrl(`/c/${now.id}/`) } });
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = false;
    }
  });
}
