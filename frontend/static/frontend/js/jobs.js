// Following one of the person's jobs (an upload's projection, a published file's encoding):
// its progress arrives on the studio socket; while the socket is away (or before it opens),
// the page asks the job's address every two seconds; and a button cancels it.
import { api } from "./api.js";
import { studioSocket } from "./socket.js";

// `type`: the socket's event type, which is also the field naming the job ("upload",
// "media"); `path`: the job's API address, with its id appended; `following()` and
// `finished()`: the job followed now (or none) and whether it has ended; `update(job)`: what
// the page does with its news; `elsewhere(id, job)`: news of another job (optional).
export function followJob({ type, path, following, finished, update, elsewhere, stateLine }) {
  const socket = studioSocket((message) => {
    if (message.type !== type) return;
    if (message[type] === following()) update(message);
    else elsewhere?.(message[type], message);
  }, stateLine);
  setInterval(async () => {
    if (!following() || finished() || socket.socket?.readyState === WebSocket.OPEN) return;
    try {
      update(await api("GET", `${path}${encodeURIComponent(following())}/`));
    } catch {
      // the socket's state line says the connection is away
    }
  }, 2000);
  return {
    socket,
    // `button` cancels the job followed; a refusal is said in `said`.
    cancelWith(button, said) {
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          update(await api("POST", `${path}${encodeURIComponent(following())}/cancel/`));
        } catch (error) {
          said.textContent = error.message;
        } finally {
          button.disabled = false;
        }
      });
    },
  };
}
