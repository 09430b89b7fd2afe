// The work page: like and unlike without leaving the page (comments: comments.js).
import { api } from "./api.js";
import { formatNumber, gettext, pgettext, pageUrl } from "./i18n.js";
import "./collect.js";
import "./comments.js";
import "./placeholder.js";
import { share } from "./share.js";
import { showError, toast } from "./toast.js";

for (const button of document.querySelectorAll("[data-like]")) {
  button.addEventListener("click", async () => {
    const liked = button.getAttribute("aria-pressed") === "true";
    button.disabled = true;
    try {
      const state = await api(liked ? "DELETE" : "PUT", `/api/creations/${button.dataset.like}/like/`);
      button.setAttribute("aria-pressed", String(state.liked));
      button.querySelector("[data-like-label]").textContent = state.liked ? gettext("Liked") : gettext("Like");
      button.querySelector("[data-like-count]").textContent = formatNumber(state.like_count);
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = false;
    }
  });
}

const shareButton = document.querySelector("[data-share]");
shareButton?.addEventListener("click", () => share({
  url: pageUrl(`/w/${shareButton.dataset.share}/`),
  title: shareButton.dataset.shareTitle,
  visibility: shareButton.dataset.shareVisibility,
}));

// The owner names the work and chooses who sees it here, whatever kind of work it is (a
// picture in the studio too; a video has no studio).
const owner = document.querySelector("[data-work-owner]");
owner?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = owner.querySelector("button");
  button.disabled = true;
  try {
    const body = { title: owner.elements.title.value };
    if (owner.elements.visibility.value !== "draft") body.visibility = owner.elements.visibility.value;
    const made = await api("PATCH", `/api/creations/${owner.dataset.workOwner}/`, body);
    toast(made.visibility === "public" ? gettext("Saved. The work is in the gallery.") : gettext("Saved."));
    if (shareButton) shareButton.dataset.shareVisibility = made.visibility;
    document.querySelector(".work-info h1").textContent = made.title || gettext("Untitled");
    const badge = document.querySelector("[data-visibility-badge]");
    badge.hidden = made.visibility === "public";
    badge.textContent = {
      private: pgettext("visibility", "Private"), unlisted: pgettext("visibility", "Unlisted"),
    }[made.visibility] ?? "";
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
});
