import { pageUrl } from "../i18n.js";
// The one owner of the studio's state. Modules read it with get(), change it with set()
// and redraw what they show in subscribe(); nothing else holds the studio's data.
//
//   current   the creation being bred from (as the API answers it)
//   mine      whether the current picture is the visitor's own
//   children  the last batch of children of the current picture (with "More", all of it)
//   crossed   the results of the last cross
//   drafts    the film strip, newest first
//   parents   the cross's parents: { item, content, style }
//   keyframes the video's keyframes, in order
//   chaos, mutation   the breeding sliders

export function createStore(initial) {
  let state = Object.freeze({ ...initial });
  const listeners = new Set();
  return {
    get: () => state,
    set(patch) {
      const before = state;
      state = Object.freeze({ ...state, ...patch });
      for (const listener of listeners) listener(state, before);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

// Items by id across the lists that hold them: a kept or renamed draft is the same work
// wherever it is shown.
export function updateItem(store, id, change) {
  const patch = {};
  for (const key of ["children", "crossed", "drafts"]) {
    const list = store.get()[key];
    if (list.some((item) => item.id === id)) {
      patch[key] = list.map((item) => (item.id === id ? { ...item, ...change } : item));
    }
  }
  if (store.get().current.id === id) patch.current = { ...store.get().current, ...change };
  store.set(patch);
}

export const studioUrl = (id) => pageUrl(`/studio/${encodeURIComponent(id)}/`);
