// The training page: every running training polls its state and shows pictures shown,
// losses, time left and the latest sample grid as they change.
import { formatNumber, gettext, interpolate, ngettext } from "./i18n.js";

const TEXT = {
  shown: (shown, total) => interpolate(
    ngettext("%(shown)s of %(total)s picture shown", "%(shown)s of %(total)s pictures shown", total),
    { shown: formatNumber(shown), total: formatNumber(total) }),
  left: (s) => (s >= 3600
    ? interpolate(gettext("about %(hours)s h left"), { hours: formatNumber(Math.round(s / 360) / 10) })
    : interpolate(gettext("about %(minutes)s min left"), { minutes: formatNumber(Math.max(1, Math.round(s / 60))) })),
};
const EVERY_MS = 5000;

function update(item, s) {
  item.querySelector("[data-status]").textContent = s.status_label;
  item.querySelector("[data-shown]").textContent = TEXT.shown(s.pictures_shown, s.pictures_total);
  item.querySelector("[data-eta]").textContent = s.running && s.eta_s != null ? TEXT.left(s.eta_s) : "";
  item.querySelector("[data-progress]").value = s.fraction;
  if (s.losses && s.losses.g != null) {
    item.querySelector("[data-losses]").textContent = `G ${s.losses.g.toFixed(3)} · D ${s.losses.d.toFixed(3)}`;
  }
  if (s.samples_at && String(s.samples_at) !== item.dataset.samplesAt) {
    item.dataset.samplesAt = s.samples_at;
    let img = item.querySelector("[data-samples]");
    if (!img) {
      img = new Image(256, 256);
      img.dataset.samples = "";
      img.alt = "";
      item.querySelector("[data-samples-empty]")?.replaceWith(img);
    }
    img.src = `${location.pathname}${s.training}/samples.png?at=${s.samples_at}`;
  }
  if (!s.running) location.reload(); // the finished state carries links and errors
}

async function poll(item) {
  try {
    const response = await fetch(`${location.pathname}${item.dataset.training}.json`, { credentials: "same-origin" });
    if (response.ok) {
      const s = await response.json();
      update(item, s);
      if (!s.running) return;
    }
  } catch (e) {
    // offline for a moment: try again at the next tick
  }
  setTimeout(() => poll(item), EVERY_MS);
}

for (const item of document.querySelectorAll("[data-training][data-running='1']")) poll(item);
