// The work page: like and unlike without leaving the page.
import { api } from "./api.js";
import "./placeholder.js";
import { showError } from "./toast.js";

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
