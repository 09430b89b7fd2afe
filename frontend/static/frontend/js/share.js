// Share a work: the system share sheet on phones, the address copied elsewhere. A work only
// its owner may open is not shared: they are told how to let others see it first.
import { gettext, interpolate } from "./i18n.js";
import { toast } from "./toast.js";

const ONLY_YOU = new Set(["draft", "private"]);

export async function share({ url, title, visibility }) {
  if (ONLY_YOU.has(visibility)) {
    toast(gettext("Only you can open this work. Choose “Anyone with the link” or “Everyone” first, then share it."));
    return false;
  }
  const address = new URL(url, location.href).href;
  const phone = matchMedia("(pointer: coarse)").matches;
  if (phone && navigator.share) {
    try {
      await navigator.share({ title: title || gettext("A work on Mendel"), url: address });
      return true;
    } catch (error) {
      if (error.name === "AbortError") return false;  // the sheet was closed: nothing to say
    }
  }
  try {
    await navigator.clipboard.writeText(address);
    toast(gettext("Link copied: paste it anywhere."));
  } catch {
    toast(interpolate(gettext("Copy this link to share the work: %(address)s"), { address }), { timeout: 15000 });
  }
  return true;
}
