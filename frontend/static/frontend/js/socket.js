// The studio socket: reconnects by itself and says so while it is away.

export function studioSocket(onEvent, stateEl) {
  let socket = null;
  let delay = 500;
  let everOpen = false;

  const show = (text) => {
    if (!stateEl) return;
    stateEl.hidden = !text;
    stateEl.textContent = text ?? "";
  };

  const connect = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/studio/`);
    socket.addEventListener("open", () => {
      everOpen = true;
      window.__mendelSocketOpen = true;  // for tests and the curious
      delay = 500;
      show(null);
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
      window.__mendelSocketOpen = false;
      if (event.code === 4401) {
        show("Your session has expired. Log in again to go on breeding.");
        return;
      }
      if (everOpen) show("Reconnecting…");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    });
  };
  connect();
  return { get socket() { return socket; } };
}
