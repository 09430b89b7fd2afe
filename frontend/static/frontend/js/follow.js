// A profile: follow and unfollow its artist without leaving the page. The button's two labels
// come from the page (translated there); the follower count is the server's answer.
import { api } from "./api.js";
import { formatNumber } from "./i18n.js";
import { showError } from "./toast.js";

for (const button of document.querySelectorAll("[data-follow]")) {
  button.addEventListener("click", async () => {
    const following = button.getAttribute("aria-pressed") === "true";
    button.disabled = true;
    try {
      const state = await api(following ? "DELETE" : "PUT",
        `/api/users/${encodeURIComponent(button.dataset.follow)}/follow/`);
      button.setAttribute("aria-pressed", String(state.following));
      button.querySelector("[data-follow-label]").textContent =
        state.following ? button.dataset.labelOn : button.dataset.labelOff;
      const count = document.querySelector("[data-followers]");
      if (count) count.textContent = formatNumber(state.followers);
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = false;
    }
  });
}
