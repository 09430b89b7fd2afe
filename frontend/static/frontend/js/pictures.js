// Pictures that arrive calmly: sizes reserved, swapped only once decoded, a retry on failure.

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
        else reject(new Error("This picture failed to render."));
      });
    };
    attempt(retries);
  });
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
        note.textContent = "This picture failed to render.";
        holder.classList.add("has-failed");
        holder.append(note);
      }
    }
  });
  img.src = src;
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
