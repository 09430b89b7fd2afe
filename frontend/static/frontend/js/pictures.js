// Pictures that arrive calmly: sizes reserved, swapped only once decoded, a retry on failure.
import { gettext } from "./i18n.js";

export function swapImage(img, src, { retries = 2 } = {}) {
  // Load off-screen, then swap: the old picture stays until the new one can be shown.
  return new Promise((resolve, reject) => {
    const attempt = (left) => {
      const next = new Image();
      next.src = src;
      next.decode().then(() => {
        img.src = src;
        resolve(img);
      }).catch(() => {
        if (left > 0) setTimeout(() => attempt(left - 1), 400);
        else reject(new Error(gettext("This picture failed to render.")));
      });
    };
    attempt(retries);
  });
}

// Pictures on their way in another answer (new works with their pictures, api.js): an
// <img> made for one of them waits for it instead of asking its address, and asks the
// address if it does not come.
const coming = new Map();  // address -> what to do when it comes, or its data once come

export function expectPicture(src) {
  if (!coming.has(src)) coming.set(src, []);
}

// ``data``: the picture as a data: URL, or null when it will not come this way. Kept a
// few seconds for the <img>s made just after (a new work shows in more than one place).
export function pictureArrived(src, data) {
  const waiting = coming.get(src);
  if (!Array.isArray(waiting)) return;
  if (data) {
    coming.set(src, data);
    setTimeout(() => { if (coming.get(src) === data) coming.delete(src); }, 10000);
  } else {
    coming.delete(src);
  }
  for (const show of waiting) show(data);
}

function load(img, src) {
  const waiting = coming.get(src);
  if (Array.isArray(waiting)) {
    waiting.push((data) => { img.src = data ?? src; });
  } else if (typeof waiting === "string") {
    img.src = waiting;
  } else {
    img.src = src;
  }
}

export function picture(src, alt, size = 256) {
  // An <img> in a reserved square that fades in when ready, with a retry when it fails.
  const img = document.createElement("img");
  img.width = size;
  img.height = size;
  img.alt = alt;
  img.decoding = "async";
  img.className = "arriving";
  let tries = 0;
  img.addEventListener("load", () => img.classList.remove("arriving", "failed"));
  img.addEventListener("error", () => {
    tries += 1;
    if (tries <= 2) {
      setTimeout(() => { img.src = `${src}${src.includes("?") ? "&" : "?"}retry=${tries}`; }, 400 * tries);
    } else {
      img.classList.add("failed");
      const holder = img.closest("figure, .parent, .pick-tile") ?? img.parentElement;
      if (holder && !holder.querySelector(".failed-note")) {
        const note = document.createElement("span");
        note.className = "failed-note";
        note.textContent = gettext("This picture failed to render.");
        holder.classList.add("has-failed");
        holder.append(note);
      }
    }
  });
  load(img, src);
  return img;
}

// A video work as walls show it: silent, looping, playing by itself unless the visitor
// asks for less motion (then it waits, with controls, on its poster).
export function videoElement(video, label) {
  const el = document.createElement("video");
  const still = matchMedia("(prefers-reduced-motion: reduce)").matches;
  Object.assign(el, { muted: true, loop: true, playsInline: true, autoplay: !still, controls: still,
                      poster: video.poster, preload: "metadata", width: 1024, height: 1024 });
  el.setAttribute("aria-label", label);
  for (const [src, type] of [[video.webm, "video/webm"], [video.mp4, "video/mp4"]]) {
    const source = document.createElement("source");
    Object.assign(source, { src, type });
    el.append(source);
  }
  return el;
}

// Server-rendered wall videos: still, with controls, for visitors who ask for less motion.
for (const el of document.querySelectorAll("video[data-autoplay]")) {
  if (matchMedia("(prefers-reduced-motion: reduce)").matches) {
    el.autoplay = false;
    el.pause();
    el.controls = true;
  }
}
