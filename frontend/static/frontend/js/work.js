// The work page: like and unlike without leaving the page.
import { api } from "./api.js";
import "./placeholder.js";
import { showError, toast } from "./toast.js";

for (const button of document.querySelectorAll("[data-like]")) {
  button.addEventListener("click", async () => {
    const liked = button.getAttribute("aria-pressed") === "true";
    button.disabled = true;
    try {
      const state = await api(liked ? "DELETE" : "PUT", `/api/creations/${button.dataset.like}/like/`);
      button.setAttribute("aria-pressed", String(state.liked));
      button.querySelector("[data-like-label]").textContent = state.liked ? "Liked" : "Like";
      button.querySelector("[data-like-count]").textContent = state.like_count;
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = false;
    }
  });
}

// A video's owner names it and chooses who sees it here (videos have no studio).
const owner = document.querySelector("[data-video-owner]");
owner?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = owner.querySelector("button");
  button.disabled = true;
  try {
    const body = { title: owner.elements.title.value, visibility: owner.elements.visibility.value };
    const made = await api("PATCH", `/api/creations/${owner.dataset.videoOwner}/`, body);
    toast(made.visibility === "public" ? "Saved. The video is in the gallery." : "Saved.");
    document.querySelector(".work-info h1").textContent = made.title || "Untitled";
    const badge = document.querySelector("[data-visibility-badge]");
    badge.hidden = made.visibility === "public";
    badge.textContent = { private: "Private", unlisted: "Unlisted" }[made.visibility] ?? "";
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
});
