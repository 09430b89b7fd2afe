// Where the breeder has been: opening a child makes it the current picture in place, with
// its own address (/studio/<id>/), so Back and Forward step through the pictures opened.
// What a visit leaves behind survives going back and reloading, in this tab's
// sessionStorage: each picture's last children, and the breeding sliders.
import { api } from "../api.js";
import { gettext, interpolate } from "../i18n.js";
import { showError } from "../toast.js";
import { studioUrl } from "./state.js";

const SLIDERS = "mendel.studio.sliders";
const childrenKey = (id) => `mendel.studio.children.${id}`;

function read(key, fallback) {
  try {
    return JSON.parse(sessionStorage.getItem(key) ?? "null") ?? fallback;
  } catch {
    return fallback;
  }
}

function write(key, value) {
  try {
    sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    // storage full or refused (private windows): the studio works without it
  }
}

// The remembered sliders and children of ``id``, to start the store with.
export function remembered(id, defaults) {
  const sliders = read(SLIDERS, {});
  const pick = (name) => (Number.isFinite(sliders[name]) ? sliders[name] : defaults[name]);
  return { chaos: pick("chaos"), mutation: pick("mutation"), children: read(childrenKey(id), []) };
}

export function setupHistory(store, { user, announce }) {
  const known = new Map([[store.get().current.id, store.get().current]]);

  store.subscribe((state, before) => {
    if (state.chaos !== before.chaos || state.mutation !== before.mutation) {
      write(SLIDERS, { chaos: state.chaos, mutation: state.mutation });
    }
    if (state.children !== before.children && state.current.id === before.current.id) {
      write(childrenKey(state.current.id), state.children);
    }
    if (state.current !== before.current) known.set(state.current.id, state.current);
  });

  async function creation(id) {
    if (known.has(id)) return known.get(id);
    const item = await api("GET", `/api/creations/${encodeURIComponent(id)}/`);
    known.set(id, item);
    return item;
  }

  function show(current) {
    const state = store.get();
    const parents = state.parents.length === 1 && state.parents[0].item.id === state.current.id
      ? [{ item: current, content: 1, style: 1 }]  // the current picture is the first parent
      : state.parents;
    store.set({
      current,
      mine: current.owner === user,
      children: read(childrenKey(current.id), []),
      parents,
    });
  }

  let opening = 0;
  async function open(item) {
    if (item.id === store.get().current.id) return;
    const ticket = ++opening;
    try {
      const current = await creation(item.id);
      if (ticket !== opening) return;
      history.pushState({ studio: current.id }, "", studioUrl(current.id));
      show(current);
      announce(current.title ? interpolate(gettext("Now breeding from %(title)s."), { title: current.title })
        : gettext("Now breeding from an untitled draft."));
      window.scrollTo({ top: 0 });
    } catch (error) {
      showError(error);
    }
  }

  addEventListener("popstate", async (event) => {
    const id = event.state?.studio ?? location.pathname.match(/^\/studio\/([^/]+)\/$/)?.[1];
    if (!id) return;
    const ticket = ++opening;
    try {
      const current = await creation(decodeURIComponent(id));
      if (ticket === opening) show(current);
    } catch (error) {
      showError(error);
    }
  });
  history.replaceState({ studio: store.get().current.id }, "", studioUrl(store.get().current.id));
  return { open };
}
