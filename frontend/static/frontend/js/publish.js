// The publish page: say what the work is, choose its file (or write its words) and what is
// said of it, send it. A text or a picture opens on its page at once; a video's or a
// sound's encoding is followed here, from the studio socket, to a link to its page.
import { ApiError, explain } from "./api.js";
import { formatNumber, gettext, interpolate, ngettext, pageUrl } from "./i18n.js";
import { dropZone, putInto } from "./dropzone.js";
import { followJob } from "./jobs.js";

const root = document.querySelector("[data-publish-page]");
const state = JSON.parse(document.getElementById("publish-state").textContent);
const $ = (selector) => root.querySelector(selector);

const form = $("[data-publish-form]");
const fileInput = $("[data-file]");
const dropzone = $("[data-dropzone]");
const chosen = $("[data-chosen]");
const chosenName = $("[data-chosen-name]");
const topError = $("[data-publish-error]");
const submit = $("[data-publish-submit]");
const panel = $("[data-progress-panel]");
const bar = $("[data-progress]");
const said = $("[data-progress-state]");
const cancel = $("[data-cancel]");
const openLink = $("[data-open]");
const again = $("[data-again]");

const RUNNING = ["queued", "transcoding"];
let following = state.media?.id ?? null;
let finished = false;
let chosenUrl = null;
let tooLong = "";  // the sentence about a chosen film or sound that lasts too long, if it does
// What the socket said of jobs not followed yet: a short sound may be encoded before the
// answer that names its job arrives.
const heard = new Map();

const kind = () => form.elements.kind.value;

// -- refusals, next to what they are about --------------------------------------------------

function fieldOf(name) {
  const control = form.elements[name === "techniques" ? "new_techniques" : name];
  return control instanceof RadioNodeList ? control[0] : control;
}

function showErrors(message = "", fields = null) {
  for (const box of root.querySelectorAll("[data-error-for]")) {
    box.textContent = "";
    box.hidden = true;
  }
  for (const invalid of form.querySelectorAll("[aria-invalid]")) invalid.removeAttribute("aria-invalid");
  topError.textContent = "";
  topError.hidden = true;
  let first = null;
  for (const [name, sentences] of Object.entries(fields ?? {})) {
    const box = root.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (!box) continue;
    box.textContent = [].concat(sentences).join(" ");
    box.hidden = false;
    fieldOf(name)?.setAttribute("aria-invalid", "true");
    first ??= box;
  }
  if (!first && message) {
    topError.textContent = message;
    topError.hidden = false;
    first = topError;
  }
  if (first && !form.hidden) {
    const reduced = matchMedia("(prefers-reduced-motion: reduce)").matches;
    (first.closest(".control, fieldset, .publish-file") ?? first).scrollIntoView({ block: "center", behavior: reduced ? "auto" : "smooth" });
  }
}

// -- the file ---------------------------------------------------------------------------------

const KIND_OF_TYPE = { image: "picture", video: "video", audio: "sound" };

function megabytes(bytes) {
  return formatNumber(Math.round(bytes / 2 ** 20 * 10) / 10);
}

// A file's size as its chooser reads it.
function sizeOf(bytes) {
  return bytes < 2 ** 20
    ? interpolate(gettext("%(size)s KB"), { size: formatNumber(Math.max(1, Math.round(bytes / 1024))) })
    : interpolate(gettext("%(size)s MB"), { size: megabytes(bytes) });
}

function clock(seconds) {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

// How long a film or a sound lasts, as the browser reads it (null when it cannot).
function durationOf(file, k) {
  return new Promise((resolve) => {
    const element = document.createElement(k === "video" ? "video" : "audio");
    const url = URL.createObjectURL(file);
    let timer = null;
    const done = (seconds) => {
      clearTimeout(timer);
      element.onloadedmetadata = element.onerror = null;
      element.removeAttribute("src");
      URL.revokeObjectURL(url);
      resolve(Number.isFinite(seconds) ? seconds : null);
    };
    element.preload = "metadata";
    element.muted = true;
    element.onloadedmetadata = () => done(element.duration);
    element.onerror = () => done(null);
    timer = setTimeout(() => done(null), 4000);
    element.src = url;
  });
}

// The refusal of the chosen file that the page can tell before sending it, or "".
function checkFile() {
  const file = fileInput.files[0];
  const k = kind();
  if (!file || k === "text") return "";
  const most = state.limits[k].bytes;
  if (file.size > most) {
    return interpolate(gettext("This file is %(size)s MB, more than the %(most)s MB Mendel takes for this kind of work."),
      { size: megabytes(file.size), most: formatNumber(state.limits[k].mb) });
  }
  return k === "picture" ? "" : tooLong;
}

async function choose(files) {
  showErrors();
  tooLong = "";
  if (files.length > 1) {
    showErrors("", { file: [gettext("Publish one file at a time.")] });
    return false;
  }
  const file = files[0];
  if (!file) return false;
  const guessed = KIND_OF_TYPE[file.type.split("/")[0]];
  if (guessed && guessed !== kind()) {
    form.querySelector(`[data-kind-choice][value="${guessed}"]`).checked = true;
    kindChanged();
  }
  if (chosenUrl) URL.revokeObjectURL(chosenUrl);
  chosenUrl = null;
  chosen.hidden = true;
  if (kind() === "picture") {
    chosenUrl = URL.createObjectURL(file);
    chosen.src = chosenUrl;
    chosen.hidden = false;
  }
  chosenName.textContent = `${file.name} · ${sizeOf(file.size)}`;
  let refusal = checkFile();
  if (!refusal && (kind() === "video" || kind() === "sound")) {
    const k = kind();
    const seconds = await durationOf(file, k);
    if (fileInput.files[0] !== file) return true;  // another was chosen meanwhile
    if (seconds !== null) {
      chosenName.textContent = `${file.name} · ${sizeOf(file.size)} · ${clock(seconds)}`;
      if (seconds > state.limits[k].seconds + 0.5) {
        tooLong = interpolate(gettext("This file lasts %(length)s; this kind of work may last at most %(most)s."),
          { length: clock(seconds), most: state.limits[k].length });
        refusal = tooLong;
      }
    }
  }
  if (refusal) showErrors("", { file: [refusal] });
  return true;
}

fileInput.addEventListener("change", () => choose(fileInput.files));
// A file the browser cannot show shows its name only.
chosen.addEventListener("error", () => { chosen.hidden = true; });

dropZone(dropzone, (files) => {
  if (files.length !== 1) {
    choose(files);
    return;
  }
  putInto(fileInput, files[0]);
  choose(fileInput.files);
});

// -- what the work is -------------------------------------------------------------------------

function kindChanged() {
  const k = kind();
  if (state.accept[k]) fileInput.accept = state.accept[k];
  if (k === "picture" && chosenUrl) chosen.hidden = false;
  if (k !== "picture") chosen.hidden = true;
  const refusal = checkFile();
  showErrors("", refusal ? { file: [refusal] } : null);
}

for (const radio of form.querySelectorAll("[data-kind-choice]")) radio.addEventListener("change", kindChanged);

// -- sending ------------------------------------------------------------------------------------

// Sent with XMLHttpRequest rather than fetch: a film of hundreds of MB takes minutes to
// send, and only XMLHttpRequest says how far it has gone (``onSent(fraction)``).
function send(data, onSent) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", "/api/media/");
    request.withCredentials = true;
    request.setRequestHeader("X-CSRFToken", document.querySelector('meta[name="csrf-token"]')?.content ?? "");
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onSent(event.loaded / event.total);
    });
    request.addEventListener("error", () => reject(new ApiError(
      gettext("Mendel cannot be reached. Check your connection and try again."), 0)));
    request.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        // not JSON: a proxy's error page, say
      }
      if (request.status < 200 || request.status >= 300) {
        reject(new ApiError(explain(request.status, body), request.status, body?.fields ?? null));
      } else {
        resolve(body);
      }
    });
    request.send(data);
  });
}

// What the page can refuse before sending anything, by field.
function refusals() {
  const k = kind();
  if (k === "text" && !form.elements.text.value.trim()) return { text: [gettext("Write the text to publish.")] };
  if (k !== "text" && !fileInput.files.length) return { file: [gettext("No file was chosen: choose the file to publish.")] };
  const refusal = checkFile();
  if (refusal) return { file: [refusal] };
  if (!form.elements.title.value.trim()) return { title: [gettext("Give the work a title.")] };
  return null;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const refused = refusals();
  showErrors("", refused);
  if (refused) return;
  const data = new FormData(form);
  // One list of techniques: those ticked and those typed in.
  const typed = String(data.get("new_techniques") ?? "").split(/[,，、]/).map((name) => name.trim()).filter(Boolean);
  data.delete("new_techniques");
  for (const name of typed) data.append("techniques", name);
  if (kind() === "text") {
    data.delete("file");
  } else {
    data.delete("text");
    data.delete("markdown");
  }
  submit.disabled = true;
  submit.textContent = kind() === "text" ? gettext("Publishing…") : gettext("Sending…");
  const onSent = (fraction) => {
    if (kind() === "text") return;
    submit.textContent = fraction < 1
      ? interpolate(gettext("Sending: %(percent)s %"), { percent: formatNumber(Math.floor(fraction * 100)) })
      : gettext("Checking the file…");
  };
  try {
    const job = await send(data, onSent);
    if (job.creation && job.status === "done") {
      location.assign(pageUrl(`/w/${encodeURIComponent(job.creation)}/`));
      return;
    }
    follow(job);
    history.replaceState(null, "", `?id=${encodeURIComponent(job.id)}`);
  } catch (error) {
    showErrors(error.message, error.fields);
  } finally {
    submit.disabled = false;
    submit.textContent = gettext("Publish");
  }
});

// -- following an encoding ------------------------------------------------------------------------

function timeLeft(s) {
  if (s == null) return "";
  if (s < 1.5) return gettext("a moment left");
  if (s < 90) return interpolate(gettext("about %(seconds)s s left"), { seconds: formatNumber(Math.round(s)) });
  const minutes = Math.ceil(s / 60);
  return interpolate(ngettext("about %(count)s minute left", "about %(count)s minutes left", minutes),
    { count: formatNumber(minutes) });
}

function render(job) {
  const fraction = job.status === "done" ? 1 : job.fraction ?? 0;
  bar.value = Math.max(bar.value, fraction);  // progress only moves forward
  cancel.hidden = !RUNNING.includes(job.status);
  switch (job.status) {
    case "queued":
      said.textContent = gettext("Waiting for a worker…");
      break;
    case "transcoding": {
      const left = timeLeft(job.eta_s);
      said.textContent = fraction > 0
        ? interpolate(gettext("Encoding: %(percent)s %"), { percent: Math.floor(fraction * 100) }) + (left ? ` · ${left}` : "")
        : gettext("Encoding…");
      break;
    }
    case "done":
      said.textContent = gettext("Done: the work is ready.");
      break;
    case "cancelled":
      said.textContent = gettext("Cancelled. Publish another file when you like.");
      break;
    case "failed":
      said.textContent = job.error || gettext("This file could not be encoded.");
      break;
  }
}

function settle(job) {
  if (finished) return;
  if (job.status === "done" && job.creation) {
    finished = true;
    openLink.href = pageUrl(`/w/${encodeURIComponent(job.creation)}/`);
    openLink.hidden = false;
    again.hidden = false;
    openLink.focus();
  } else if (job.status === "failed" || job.status === "cancelled") {
    finished = true;
    form.hidden = false;
    if (job.status === "failed") showErrors("", { file: [job.error || gettext("This file could not be encoded.")] });
  }
}

function follow(job) {
  following = job.id;
  finished = false;
  form.hidden = true;
  panel.hidden = false;
  openLink.hidden = true;
  again.hidden = true;
  bar.value = 0;
  $("[data-progress-title]").textContent = job.title || gettext("Untitled");
  const earlier = heard.get(job.id);
  heard.clear();
  const latest = earlier && (earlier.status !== "queued" || job.status === "queued") ? earlier : job;
  render(latest);
  settle(latest);
}

followJob({
  type: "media", path: "/api/media/", following: () => following, finished: () => finished,
  update: (job) => {
    render(job);
    settle(job);
  },
  elsewhere: (id, job) => heard.set(id, job),
  stateLine: document.querySelector("[data-socket-state]"),
}).cancelWith(cancel, said);

kindChanged();
if (state.media) {
  render(state.media);
  // Back on the page of a job already done: say so, and leave the way to the work.
  if (state.media.status === "done") finished = true;
  else settle(state.media);
}
