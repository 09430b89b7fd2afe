// Infinite scroll: the "More" link at the end of a wall loads the next page's tiles in
// place when it comes into view. Without JavaScript it stays a plain link.
import { gettext } from "./i18n.js";
import { showError } from "./toast.js";

const wall = document.querySelector("[data-scroll]");

let failures = 0;

async function loadMore(link, observer) {
  observer.unobserve(link);
  link.setAttribute("aria-busy", "true");
  const url = new URL(link.href, location.href);
  url.searchParams.set("fragment", "1");
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin" });
  } catch {
    return retry(link, observer, gettext("Mendel cannot be reached. More works will load when it can."));
  }
  if (response.redirected) {  // sent to the login page: the session has ended
    link.removeAttribute("aria-busy");
    showError(new Error(gettext("Your session has expired. Log in again to see more of your library.")));
    return;
  }
  if (!response.ok) return retry(link, observer, gettext("The next works could not be loaded. Trying again shortly."));
  failures = 0;
  const template = document.createElement("template");
  template.innerHTML = await response.text();
  link.replaceWith(template.content);
  const next = wall.querySelector("[data-more]");
  if (next) observer.observe(next);
}

function retry(link, observer, message) {
  link.removeAttribute("aria-busy");
  failures += 1;
  if (failures === 1) showError(new Error(message));
  if (failures <= 5) setTimeout(() => observer.observe(link), 2000 * 2 ** failures);
}

if (wall && "IntersectionObserver" in window) {
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) if (entry.isIntersecting) loadMore(entry.target, observer);
  }, { rootMargin: "800px 0px" });
  const first = wall.querySelector("[data-more]");
  if (first) observer.observe(first);
}

// Filters that apply as soon as they change.
for (const select of document.querySelectorAll("[data-autosubmit]")) {
  select.addEventListener("change", () => select.form.submit());
}

// The library: select all drafts shown. A bulk discard asks nothing: the page that follows
// offers "Undo".
const all = document.querySelector("[data-select-drafts]");
all?.addEventListener("change", () => {
  for (const box of document.querySelectorAll('input[name="discard"]')) box.checked = all.checked;
});
