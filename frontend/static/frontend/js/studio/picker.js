// The picker: a work from your library or the public gallery, for the cross's parents
// and the video's keyframes.
import { api } from "../api.js";
import { picture } from "../pictures.js";

export function setupPicker(picker, space) {
  const grid = picker.querySelector("[data-picker-grid]");
  const heading = picker.querySelector("#picker-title");
  let onPick = () => {};
  let load = 0;
  const note = (text) => {
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = text;
    grid.replaceChildren(p);
  };

  async function show(source) {
    for (const b of picker.querySelectorAll("[data-source]")) b.setAttribute("aria-current", String(b.dataset.source === source));
    const mine = ++load;
    note("Loading…");
    try {
      const items = source === "library"
        ? await api("GET", `/api/creations/?space=${encodeURIComponent(space)}`)
        : (await api("GET", `/api/gallery/?space=${encodeURIComponent(space)}&kind=pictures&limit=48`)).results;
      if (mine !== load) return;  // another source was picked meanwhile
      const pictures = items.filter((item) => item.origin !== "video");
      grid.replaceChildren();
      if (!pictures.length) {
        note(source === "library" ? "Nothing in your library yet." : "No public works in this space yet.");
      }
      for (const item of pictures) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "pick-tile";
        b.dataset.id = item.id;
        b.append(picture(item.images["256"], `${item.title || "Untitled"}${item.owner ? ` by ${item.owner}` : ""}`));
        b.addEventListener("click", () => { onPick(item); picker.close(); });
        grid.append(b);
      }
    } catch (error) {
      if (mine === load) note(error.message);  // toasts would sit behind the dialog
    }
  }
  for (const b of picker.querySelectorAll("[data-source]")) b.addEventListener("click", () => show(b.dataset.source));

  // Open the picker titled ``title``; ``then(item)`` receives the work picked.
  return function pick(title, then) {
    heading.textContent = title;
    onPick = then;
    picker.showModal();
    show("library");
  };
}
