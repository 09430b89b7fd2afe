// The small live bar of an exhibition: how many are watching, "Follow the tour", and the
// reaction buttons, with the reactions of everyone floating up.
import { floatReaction } from "./exhibition-live.js";
import { formatNumber, gettext, interpolate } from "./i18n.js";
import { toast } from "./toast.js";

export function liveBar({ reactions, react, onFollow }) {
  const bar = document.querySelector("[data-live-bar]");
  const layer = document.querySelector("[data-floats]");
  const follow = bar.querySelector("[data-follow]");
  const box = bar.querySelector("[data-reactions]");
  let following = true;
  bar.hidden = false;

  const setFollowing = (on) => {
    following = on;
    follow.setAttribute("aria-pressed", String(on));
    follow.textContent = on ? gettext("Following the tour") : gettext("Follow the tour");
  };
  follow.addEventListener("click", () => {
    setFollowing(!following);
    onFollow?.(following);
  });
  setFollowing(true);

  for (const emoji of reactions) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "reaction";
    button.textContent = emoji;
    button.setAttribute("aria-label", interpolate(gettext("React %(emoji)s"), { emoji }));
    button.addEventListener("click", async () => {
      try {
        await react(emoji);
      } catch (error) {
        toast(error.message, { timeout: 3000 });
      }
    });
    box.append(button);
  }

  return {
    following: () => following,
    viewers(n) {
      bar.querySelector("[data-viewers]").textContent = formatNumber(n);
    },
    float: (emoji) => floatReaction(layer, emoji),
    status(status) {
      box.hidden = status !== "open";  // reactions are for open exhibitions
    },
    connected(up) {
      bar.classList.toggle("offline", !up);
    },
  };
}
