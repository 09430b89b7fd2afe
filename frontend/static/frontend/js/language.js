// The footer's language switch (base.html): choosing a language sends the form at once. Its
// button sends it where there is no JavaScript; here it is not needed, so it steps aside.

for (const form of document.querySelectorAll("[data-language-switch]")) {
  const select = form.querySelector("[data-language-select]");
  const button = form.querySelector("[data-language-submit]");
  if (!select) continue;
  if (button) button.hidden = true;
  select.addEventListener("change", () => form.requestSubmit());
}
