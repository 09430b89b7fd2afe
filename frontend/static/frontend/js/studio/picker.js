// The picker: a work from your library or the public gallery, for the cross's parents
// and the video's keyframes. Each work shows its title; a search finds one by its title,
// and "More" brings the next page.
import { gettext, interpolate } from "../i18n.js";
import { picture } from "../pictures.js";
import { caption, TEXT as WORKS, worksPages } from "../works.js";

// Every sentence the picker shows, in one place, in the page's language.
const TEXT = {
  loading: () => gettext("Loading…"),
  emptyLibrary: () => gettext("Nothing in your library yet."),
  emptyGallery: () => gettext("No public works in this space yet."),
  noMatch: (q) => interpolate(gettext("No work has “%(query)s” in its title."), { query: q }),
  alt: (item) => (item.owner
    ? interpolate(gettext("%(title)s by %(owner)s"), { title: item.title || WORKS.untitled, owner: item.owner })
    : item.title || WORKS.untitled),
};

export function setupPicker(picker, space) {
  const grid = picker.querySelector("[data-picker-grid]");
  const heading = picker.querySelector("#picker-title");
  const search = picker.querySelector("[data-picker-search]");
  const query = search.elements.q;
  const moreButton = picker.querySelector("[data-picker-more]");
  let onPick = () => {};
  let source = "library";
  let load = 0;  // which list is shown: answers for an older one are dropped
  let nextPage = null;
  const note = (text) => {
    const p = document.createElement("p");
    p.className = "muted picker-note";
    p.textContent = text;
    grid.replaceChildren(p);
  };

  function tile(item) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "pick-tile";
    b.dataset.id = item.id;
    b.append(picture(item.images["256"], TEXT.alt(item)), caption(item, { mine: source === "library" }));
    b.addEventListener("click", () => { onPick(item); picker.close(); });
    return b;
  }

  async function more(mine) {
    moreButton.disabled = true;
    try {
      const { items, done } = await nextPage();
      if (mine !== load) return;
      grid.querySelector(".picker-note")?.remove();
      grid.append(...items.map(tile));
      moreButton.hidden = done;
      if (!grid.children.length) {
        const q = query.value.trim();
        note(q ? TEXT.noMatch(q) : source === "library" ? TEXT.emptyLibrary() : TEXT.emptyGallery());
      }
    } catch (error) {
      if (mine === load) note(error.message);  // toasts would sit behind the dialog
    } finally {
      moreButton.disabled = false;
    }
  }

  let typing = null;  // a search waiting for the typing to pause
  function show(chosen = source) {
    clearTimeout(typing);
    source = chosen;
    for (const b of picker.querySelectorAll("[data-source]")) b.setAttribute("aria-current", String(b.dataset.source === source));
    nextPage = worksPages(source, { space, q: query.value.trim() });
    moreButton.hidden = true;
    note(TEXT.loading());
    return more(++load);
  }

  for (const b of picker.querySelectorAll("[data-source]")) b.addEventListener("click", () => show(b.dataset.source));
  moreButton.addEventListener("click", () => more(load));
  // The list follows the search as it is typed (after a pause), and at once on Enter.
  search.addEventListener("submit", (event) => {
    event.preventDefault();
    show();
  });
  query.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => show(), 250);
  });

  // Open the picker titled ``title``; ``then(item)`` receives the work picked.
  return function pick(title, then) {
    heading.textContent = title;
    onPick = then;
    query.value = "";
    picker.showModal();
    show("library");
  };
}
