// "Make a random picture": one new draft in a space, then its studio. "Start from words":
// eight new drafts that carry a phrase, shown here as they are painted, each opening its
// studio.
import { api, apiWorksWith, isSessionExpired } from "./api.js";
import { formatNumber, gettext, interpolate, ngettext, pageUrl } from "./i18n.js";
import { picture } from "./pictures.js";
import { showError } from "./toast.js";

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

// How many pictures a phrase starts.
const FROM_WORDS = 8;

function tile(work, phrase, number) {
  const figure = document.createElement("figure");
  figure.className = "tile";
  figure.dataset.id = work.id;
  const link = document.createElement("a");
  link.href = pageUrl(`/studio/${encodeURIComponent(work.id)}/`);
  link.append(picture(work.images["256"],
    interpolate(gettext("“%(phrase)s”, picture %(number)s: open it in the studio"), { phrase, number: formatNumber(number) })));
  figure.append(link);
  return figure;
}

// Resolves once a picture has arrived (or failed: it says so itself).
function settled(img) {
  if (img.complete && img.src) return Promise.resolve();
  return new Promise((resolve) => {
    img.addEventListener("load", resolve, { once: true });
    img.addEventListener("error", resolve, { once: true });
  });
}

function slots(grid, n) {
  grid.replaceChildren();
  for (let i = 0; i < n; i++) {
    const slot = document.createElement("div");
    slot.className = "tile slot";
    slot.setAttribute("aria-hidden", "true");
    grid.append(slot);
  }
}

function setupWords(form) {
  const space = form.dataset.wordsForm;
  const input = form.querySelector('input[name="phrase"]');
  const button = form.querySelector('button[type="submit"]');
  const error = form.querySelector("[data-words-error]");
  const results = form.querySelector("[data-words-results]");
  const notes = form.querySelector("[data-words-notes]");
  const grid = form.querySelector("[data-words-grid]");
  const made = form.querySelector("[data-words-made]");
  const announcer = document.querySelector("[data-words-announce]");
  const say = (text) => { if (announcer) announcer.textContent = text; };
  let shown = [];  // the works shown, while a new phrase is on its way

  function refuse(message) {
    error.textContent = message;
    input.setAttribute("aria-invalid", "true");
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const phrase = input.value.trim();
    error.textContent = "";
    input.removeAttribute("aria-invalid");
    if (!phrase) {
      refuse(gettext("Type a few words, such as “red cat”."));
      input.focus();
      return;
    }
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    const before = [...grid.children];
    results.hidden = false;
    slots(grid, FROM_WORDS);
    made.textContent = gettext("Painting…");
    try {
      const { works, reading } = await apiWorksWith(`/api/spaces/${encodeURIComponent(space)}/words/`,
        { phrase, n: FROM_WORDS }, 256);
      shown = works;
      grid.replaceChildren(...works.map((work, i) => tile(work, reading.phrase, i + 1)));
      notes.textContent = reading.notes.join(" ");
      notes.hidden = reading.notes.length === 0;
      made.textContent = interpolate(gettext("From “%(phrase)s”: open one to breed from it; they all wait in your drafts."),
        { phrase: reading.phrase });
      say([interpolate(ngettext("%(count)s picture from “%(phrase)s”.", "%(count)s pictures from “%(phrase)s”.", works.length),
        { count: formatNumber(works.length), phrase: reading.phrase }), ...reading.notes].join(" "));
      const still = matchMedia("(prefers-reduced-motion: reduce)").matches;
      results.scrollIntoView({ block: "nearest", behavior: still ? "auto" : "smooth" });
      await Promise.all([...grid.querySelectorAll("img")].map(settled));  // working until painted
    } catch (failed) {
      // What was there stays; the reason is said next to the form, what was typed kept.
      grid.replaceChildren(...before);
      results.hidden = shown.length === 0;
      made.textContent = "";
      if (isSessionExpired(failed)) showError(failed);
      refuse(failed.message);
      input.focus();
    } finally {
      button.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });
  input.addEventListener("input", () => {
    if (!error.textContent) return;
    error.textContent = "";
    input.removeAttribute("aria-invalid");
  });
}

if (!document.querySelector("[data-studio]")) {
  for (const b of document.querySelectorAll("[data-random]")) {
    b.addEventListener("click", () => makeRandom(b.dataset.random, b));
  }
  for (const form of document.querySelectorAll("[data-words-form]")) setupWords(form);
}
