// Talking to Mendel's REST API: one place that turns every failure into a sentence.
import { gettext } from "./i18n.js";
import { expectPicture, pictureArrived } from "./pictures.js";

export class ApiError extends Error {
  constructor(message, status, fields = null) {
    super(message);
    this.status = status;
    this.fields = fields;
  }
}

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

export async function api(method, url, body) {
  return request(method, url, body, (response) => response.json().catch(() => null));
}

// The same, for an answer that is a file (a video preview): a Blob.
export async function apiBlob(method, url, body) {
  return request(method, url, body, (response) => response.blob());
}

// New works with their ``size`` px pictures in the same answer (breeding/delivery.py):
// resolves to the works as soon as they are made; their pictures arrive after, each as it
// is painted, and every <img> of one of them (pictures.js) shows it without asking its
// address. A picture that does not come this way is asked for at its address.
export async function apiWorks(url, body, size) {
  return (await apiWorksWith(url, body, size)).works;
}

// The same, resolving to the whole first line of the answer: the works and what else it
// says about them (``reading``: what a phrase was read as).
export async function apiWorksWith(url, body, size) {
  const asked = `${url}${url.includes("?") ? "&" : "?"}pictures=${size}`;
  return request("POST", asked, body, (response) => readWorks(response, size));
}

function readWorks(response, size) {
  return new Promise((resolve, reject) => {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const addresses = new Map();  // work id -> its picture's address, not yet arrived
    let works = null;
    let buffer = "";
    const take = (line) => {
      const item = JSON.parse(line);
      if (works === null) {
        works = item.works;
        for (const work of works) {
          addresses.set(work.id, work.images[String(size)]);
          expectPicture(work.images[String(size)]);
        }
        resolve(item);
      } else if (item.id && addresses.has(item.id)) {
        pictureArrived(addresses.get(item.id), item.webp ? `data:image/webp;base64,${item.webp}` : null);
        addresses.delete(item.id);
      }
    };
    (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          for (let end = buffer.indexOf("\n"); end >= 0; end = buffer.indexOf("\n")) {
            const line = buffer.slice(0, end);
            buffer = buffer.slice(end + 1);
            if (line) take(line);
          }
        }
      } catch {
        // cut off: what has not arrived is asked for at its address below
      }
      if (works === null) reject(new Error("cut off"));
      for (const address of addresses.values()) pictureArrived(address, null);
    })();
  });
}

async function request(method, url, body, read) {
  let response;
  try {
    response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(gettext("Mendel cannot be reached. Check your connection and try again."), 0);
  }
  if (response.status === 204) return null;
  if (response.ok) {
    try {
      return await read(response);
    } catch {
      throw new ApiError(gettext("The answer was cut off. Try again."), response.status);
    }
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // an answer that is not JSON: a proxy's error page, say
  }
  const error = new ApiError(explain(response.status, data), response.status, data?.fields);
  error.sessionExpired = sessionEnded(response.status, data);
  error.retryAfter = data?.retry_after ?? response.headers.get("Retry-After");
  throw error;
}

// Whether an answer says the session is gone. The server's sentence is in the reader's
// language: "Log in first" is 登录 in Chinese.
function sessionEnded(status, data) {
  return status === 401 || (status === 403 && /credentials|authenticat|log in|登录|认证/i.test(data?.error ?? ""));
}

// The sentence for a failed answer: the server's own (already in the reader's language)
// where it has one that helps, else ours.
export function explain(status, data) {
  const said = data?.error;
  if (sessionEnded(status, data)) return gettext("Your session has expired. Log in again to go on breeding.");
  if (status === 403 && /csrf/i.test(said ?? "")) return gettext("This page is out of date. Reload it and try again.");
  if (status === 429) return said ?? gettext("You are going very fast. Wait a moment and try again.");
  if (status === 413) return said ?? gettext("That request is too large.");
  if (status >= 500 || status === 0) return gettext("Something went wrong on our side. Try again shortly.");
  return said ?? gettext("That did not work. Try again.");
}

export function isSessionExpired(error) {
  return error instanceof ApiError && Boolean(error.sessionExpired);
}
