// Short messages at the corner of the screen: errors stay until dismissed, news fades.
import { isSessionExpired } from "./api.js";
import { gettext, pageUrl } from "./i18n.js";

const region = () => document.querySelector(".toasts");

export function toast(message, { kind = "info", action = null, timeout = 5000 } = {}) {
  // The same message twice (a slider's previews failing in a row) is said once.
  const same = [...(region()?.children ?? [])].find((t) => t.dataset.message === message);
  if (same) return same;
  const box = document.createElement("div");
  box.dataset.message = message;
  box.className = `toast ${kind}`;
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  const text = document.createElement("span");
  text.textContent = message;
  box.append(text);
  if (action?.href) {
    const link = document.createElement("a");
    link.href = action.href;
    link.textContent = action.label;
    box.append(link);
  } else if (action?.run) {
    const undo = document.createElement("button");
    undo.type = "button";
    undo.className = "link";
    undo.textContent = action.label;
    undo.addEventListener("click", () => { box.remove(); action.run(); });
    box.append(undo);
  }
  const close = document.createElement("button");
  close.className = "icon";
  close.type = "button";
  close.setAttribute("aria-label", gettext("Dismiss"));
  close.textContent = "×";
  close.addEventListener("click", () => box.remove());
  box.append(close);
  region()?.append(box);
  if (kind !== "error" && timeout) setTimeout(() => box.remove(), timeout);
  return box;
}

export function showError(error) {
  if (isSessionExpired(error)) {
    const next = encodeURIComponent(location.pathname);
    return toast(error.message, { kind: "error", action: { label: gettext("Log in"), href: pageUrl(`/accounts/login/?next=${next}`) } });
  }
  return toast(error.message ?? String(error), { kind: "error" });
}
