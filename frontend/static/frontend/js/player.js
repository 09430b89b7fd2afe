// The players of published films and sounds (the work page). While a player has focus, the
// keyboard drives it: Space or K plays and pauses, ← and → go 5 s back or on, M turns the
// sound off and on. A sound's waveform shows how far it has played, and is a slider: press
// or drag on it to go there (the same keys work on it).
import { gettext, interpolate } from "./i18n.js";

const STEP_S = 5;

function clock(seconds) {
  const s = Math.max(0, Math.round(seconds || 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

const known = (media) => Number.isFinite(media.duration) && media.duration > 0;

function seek(media, seconds) {
  if (!known(media)) return;
  media.currentTime = Math.min(Math.max(0, seconds), media.duration);
}

function toggle(media) {
  if (media.paused || media.ended) media.play().catch(() => {});  // refused: its own controls stay
  else media.pause();
}

const KEYS = new Set([" ", "k", "K", "ArrowLeft", "ArrowRight", "m", "M"]);

function keys(player, media) {
  // The player's own controls (inside the element) act on some of these keys too, Space as
  // it comes up: the keys are caught on their way down to them, going down and coming up.
  player.addEventListener("keyup", (event) => {
    if (KEYS.has(event.key) && !(event.altKey || event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);
  player.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    switch (event.key) {
      case " ":
      case "k":
      case "K":
        toggle(media);
        break;
      case "ArrowLeft":
        seek(media, media.currentTime - STEP_S);
        break;
      case "ArrowRight":
        seek(media, media.currentTime + STEP_S);
        break;
      case "m":
      case "M":
        media.muted = !media.muted;
        break;
      default:
        return;
    }
    event.preventDefault();
    event.stopPropagation();
  }, true);
}

function waveform(wave, media) {
  const line = wave.querySelector("[data-waveform-line]");
  wave.tabIndex = 0;
  wave.setAttribute("role", "slider");
  wave.setAttribute("aria-label", gettext("Position in the sound"));
  wave.setAttribute("aria-valuemin", "0");
  let frame = 0;

  const show = () => {
    const fraction = known(media) ? Math.min(1, media.currentTime / media.duration) : 0;
    // Through the CSSOM: the Content-Security-Policy allows no inline style attribute.
    wave.style.setProperty("--played", `${(fraction * 100).toFixed(3)}%`);
    wave.classList.toggle("started", known(media));
    line.hidden = !known(media);
    if (known(media)) {
      wave.setAttribute("aria-valuemax", String(Math.round(media.duration)));
      wave.setAttribute("aria-valuenow", String(Math.round(media.currentTime)));
      wave.setAttribute("aria-valuetext", interpolate(gettext("%(time)s of %(length)s"),
        { time: clock(media.currentTime), length: clock(media.duration) }));
    }
  };
  const follow = () => {
    show();
    frame = media.paused ? 0 : requestAnimationFrame(follow);
  };
  for (const type of ["loadedmetadata", "durationchange", "timeupdate", "seeked", "pause", "ended"]) {
    media.addEventListener(type, show);
  }
  media.addEventListener("play", () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(follow);
  });

  let dragging = false;
  const to = (event) => {
    const box = wave.getBoundingClientRect();
    if (!known(media) || box.width === 0) return;
    seek(media, ((event.clientX - box.left) / box.width) * media.duration);
    show();
  };
  wave.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    dragging = true;
    wave.setPointerCapture(event.pointerId);
    to(event);
  });
  wave.addEventListener("pointermove", (event) => { if (dragging) to(event); });
  for (const type of ["pointerup", "pointercancel"]) wave.addEventListener(type, () => { dragging = false; });
  show();
}

for (const player of document.querySelectorAll("[data-player]")) {
  const media = player.querySelector("[data-player-media]");
  if (!media) continue;
  keys(player, media);
  const wave = player.querySelector("[data-waveform]");
  if (wave) waveform(wave, media);
}
