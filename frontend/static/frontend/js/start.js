// "Make a random picture": one new draft in a space, then its studio.
import { api } from "./api.js";
import { showError } from "./toast.js";
import { pageUrl } from "./i18n.js";

export async function makeRandom(space, button) {
  if (button) button.disabled = true;
  try {
    const [made] = await api("POST", `/api/spaces/${encodeURIComponent(space)}/random/`, { n: 1 });
    location.assign(pageUrl(`/studio/${encodeURIComponent(made.id)}/`));
  } catch (error) {
    showError(error);
    if (button) button.disabled = false;
  }
}

if (!document.querySelector("[data-studio]")) {
  for (const b of document.querySelectorAll("[data-random]")) {
    b.addEventListener("click", () => makeRandom(b.dataset.random, b));
  }
}
