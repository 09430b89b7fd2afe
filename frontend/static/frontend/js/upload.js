// The upload page: choose or drop a picture, send it, watch it projected, open the result.
import { ApiError, explain } from "./api.js";
import { formatNumber, gettext, interpolate, ngettext, pageUrl } from "./i18n.js";
import { dropZone, putInto } from "./dropzone.js";
import { followJob } from "./jobs.js";

const page = document.querySelector("[data-upload-page]");
const state = JSON.parse(document.getElementById("upload-state").textContent);
const $ = (selector) => page.querySelector(selector);

const form = $("[data-upload-form]");
const fileInput = $("[data-file]");
const dropzone = $("[data-dropzone]");
const chosen = $("[data-chosen]");
const chosenName = $("[data-chosen-name]");
const errorBox = $("[data-upload-error]");
const submit = $("[data-upload-submit]");
const panel = $("[data-projection]");
const original = $("[data-original]");
const preview = $("[data-preview]");
const previewWait = $("[data-preview-wait]");
const bar = $("[data-progress]");
const said = $("[data-projection-state]");
const cancel = $("[data-cancel]");

let following = state.upload?.id ?? null;
let finished = false;
let chosenUrl = null;

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

function choose(files) {
  showError("");
  if (files.length > 1) {
    showError(interpolate(ngettext(
      "Only one picture can be uploaded at a time, and %(count)s file was dropped.",
      "Only one picture can be uploaded at a time, and %(count)s files were dropped.", files.length),
    { count: formatNumber(files.length) }));
    return false;
  }
  const file = files[0];
  if (!file) return false;
  if (file.size > state.max_bytes) {
    const mb = (file.size / 2 ** 20).toFixed(1);
    showError(interpolate(gettext("This file is %(size)s MB, and a picture may be at most %(most)s MB: "
      + "make it smaller and upload it again."), { size: mb, most: formatNumber(Math.floor(state.max_bytes / 2 ** 20)) }));
    return false;
  }
  if (chosenUrl) URL.revokeObjectURL(chosenUrl);
  chosenUrl = URL.createObjectURL(file);
  chosen.src = chosenUrl;
  chosen.hidden = false;
  chosenName.textContent = file.name;
  return true;
}

fileInput.addEventListener("change", () => choose(fileInput.files));
// A file the browser cannot show (not a picture at all, say) shows its name only.
chosen.addEventListener("error", () => { chosen.hidden = true; });

dropZone(dropzone, (files) => {
  if (choose(files)) putInto(fileInput, files[0]);
});

async function send(data) {
  let response;
  try {
    response = await fetch("/api/uploads/", {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Accept": "application/json",
        "X-CSRFToken": document.querySelector('meta[name="csrf-token"]')?.content ?? "",
      },
      body: data,
    });
  } catch {
    throw new ApiError(gettext("Mendel cannot be reached. Check your connection and try again."), 0);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: a proxy's error page, say
  }
  if (!response.ok) throw new ApiError(explain(response.status, body), response.status);
  return body;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!fileInput.files.length) {
    showError(gettext("No picture was chosen: choose one picture to upload."));
    return;
  }
  submit.disabled = true;
  submit.textContent = gettext("Uploading…");
  showError("");
  try {
    const upload = await send(new FormData(form));
    follow(upload);
    history.replaceState(null, "", `?id=${encodeURIComponent(upload.id)}`);
  } catch (error) {
    showError(error.message);
  } finally {
    submit.disabled = false;
    submit.textContent = gettext("Upload and project");
  }
});

function seconds(s) {
  if (s == null) return "";
  if (s < 1.5) return gettext("a moment left");
  return interpolate(gettext("about %(seconds)s s left"), { seconds: formatNumber(Math.round(s)) });
}

function render(upload) {
  const fraction = upload.status === "done" ? 1 : upload.fraction ?? 0;
  bar.value = fraction;
  if (upload.preview) {
    preview.src = upload.preview;
    preview.hidden = false;
    previewWait.hidden = true;
  }
  cancel.hidden = !["queued", "projecting"].includes(upload.status);
  switch (upload.status) {
    case "queued":
      said.textContent = gettext("Waiting for a worker…");
      break;
    case "projecting":
      // One number that only grows (the whole job's), and the time left as measured.
      said.textContent = fraction > 0
        ? interpolate(gettext("Projecting: %(percent)s % · %(left)s"), { percent: Math.floor(fraction * 100), left: seconds(upload.eta_s) })
        : gettext("Projecting…");
      break;
    case "done":
      said.textContent = gettext("Done. Opening it in the studio…");
      break;
    case "cancelled":
      said.textContent = gettext("Cancelled. Upload another picture when you like.");
      break;
    case "failed":
      said.textContent = upload.error || gettext("This picture could not be projected.");
      break;
  }
}

function settle(upload) {
  if (finished) return;
  if (upload.status === "done" && upload.creation) {
    finished = true;
    location.assign(pageUrl(`/studio/${encodeURIComponent(upload.creation)}/`));
  } else if (upload.status === "failed" || upload.status === "cancelled") {
    finished = true;
    form.hidden = false;
  }
}

function follow(upload) {
  following = upload.id;
  finished = false;
  form.hidden = true;
  panel.hidden = false;
  original.src = upload.thumb;
  preview.hidden = true;
  previewWait.hidden = false;
  $("[data-projection-title]").textContent = upload.title || gettext("Your picture");
  render(upload);
  settle(upload);
}

followJob({
  type: "upload", path: "/api/uploads/", following: () => following, finished: () => finished,
  update: (upload) => {
    render(upload);
    settle(upload);
  },
  stateLine: document.querySelector("[data-socket-state]"),
}).cancelWith(cancel, said);

if (state.upload) {
  render(state.upload);
  // Back on the page of an upload already done: say so, and leave the way to the studio.
  if (state.upload.status === "done") finished = true;
  else settle(state.upload);
}
