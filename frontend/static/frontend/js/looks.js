// Works that look like your picture: the chosen or dropped picture is shown in the drop
// zone before it is sent (the form itself posts without JavaScript too).
import { dropZone, putInto } from "./dropzone.js";

const form = document.querySelector("[data-looks-form]");
const input = form.querySelector("[data-file]");
const preview = form.querySelector("[data-chosen]");
const name = form.querySelector("[data-chosen-name]");

function show(file) {
  if (!file) return;
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.src = URL.createObjectURL(file);
  preview.hidden = false;
  name.textContent = file.name;
}

input.addEventListener("change", () => show(input.files[0]));
dropZone(form.querySelector("[data-dropzone]"), (files) => {
  if (!files.length) return;
  putInto(input, files[0]);
  show(files[0]);
});
