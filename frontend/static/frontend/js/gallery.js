// The gallery's search: "In titles" or "By words" (in a space that knows words). Choosing
// one says what the box takes and, with words in the box, searches again at once. Without
// JavaScript the form's own button does the same.
const by = document.querySelector("[data-search-by]");
const box = by?.form.querySelector('input[name="q"]');
const label = by?.form.querySelector("[data-search-label]");

if (by && box) {
  by.addEventListener("change", () => {
    const words = by.value === "words";
    box.placeholder = words ? box.dataset.placeholderWords : box.dataset.placeholderTitles;
    if (label) label.textContent = words ? label.dataset.words : label.dataset.titles;
    if (box.value.trim()) by.form.submit();
    else box.focus();
  });
}
