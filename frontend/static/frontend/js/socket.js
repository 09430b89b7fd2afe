// The studio socket: reconnects by itself and says so while it is away. Its state element
// carries data-connected="true" while the socket is open. The server speaks the page's
// language (?lang=).
import { gettext, lang } from "./i18n.js";

export function studioSocket(onEvent, stateEl) {
  let socket = null;
  let delay = 500;
  let everOpen = false;

  const show = (text, connected) => {
    if (!stateEl) return;
    stateEl.dataset.connected = String(connected);
    stateEl.hidden = !text;
    stateEl.textContent = text ?? "";
  };

  const connect = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/studio/?${new URLSearchParams({ lang })}`);
    socket.addEventListener("open", () => {
      everOpen = true;
      delay = 500;
      show(null, true);
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      onEvent(message);
    });
    socket.addEventListener("close", (event) => {
      if (event.code === 4401) {
        show(gettext("Your session has expired. Log in again to go on breeding."), false);
        return;
      }
      show(everOpen ? gettext("Reconnecting…") : null, false);
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    });
  };
  connect();
  return { get socket() { return socket; } };
}
