// The breeding studio: the store and its parts, wired together. Everything goes through
// the REST API; the studio socket brings progress of long work (gene discovery).
import { api } from "../api.js";
import { formatNumber, interpolate, ngettext } from "../i18n.js";
import "../placeholder.js";
import { studioSocket } from "../socket.js";
import { makeRandom } from "../start.js";
import { showError, toast } from "../toast.js";
import { setupAnimate } from "./animate.js";
import { setupChildren } from "./children.js";
import { setupCross } from "./cross.js";
import { setupCurrent } from "./current.js";
import { setupDrafts } from "./drafts.js";
import { setupGenes } from "./genes.js";
import { remembered, setupHistory } from "./history.js";
import { setupPicker } from "./picker.js";
import { createStore } from "./state.js";
import { wireGrid } from "./tiles.js";

const root = document.querySelector("[data-studio]");
const data = JSON.parse(document.getElementById("studio-state").textContent);
const announcer = document.querySelector("[data-announce]");
// One sentence per event for screen readers ("8 children bred."), not one per picture.
const announce = (text) => { announcer.textContent = text; };

const store = createStore({
  current: data.creation,
  mine: data.mine,
  genes: data.genes,
  drafts: data.drafts,
  crossed: [],
  parents: [{ item: data.creation, content: 1, style: 1 }],
  keyframes: [data.creation],
  ...remembered(data.creation.id, { chaos: 0.3, mutation: 0.1 }),
});

// Tabs: Children · Cross · Genes · Animate.
const tabs = [...root.querySelectorAll('[role="tab"]')];
function selectTab(name) {
  for (const t of tabs) {
    const on = t.id === `tab-${name}`;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
  }
}
for (const tab of tabs) {
  const name = tab.id.replace("tab-", "");
  tab.addEventListener("click", () => selectTab(name));
  tab.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
    selectTab(next.id.replace("tab-", ""));
    next.focus();
  });
}

const { stageImg, setStageStatus } = setupCurrent(store, root);
const { open } = setupHistory(store, { user: data.user, announce });
const { keep, discard } = setupDrafts(store, root.querySelector("[data-drafts]"));
const children = setupChildren(store, { panel: root.querySelector("#panel-children"), announce });
const pick = setupPicker(document.querySelector("[data-picker]"), data.space.slug);
const cross = setupCross(store, { panel: root.querySelector("#panel-cross"), pick, announce, selectTab });
const onVideo = setupAnimate(store, { panel: root.querySelector("#panel-animate"), pick, space: data.space, announce });
const genes = setupGenes(store, { panel: root.querySelector("#panel-genes"), stageImg, setStageStatus, space: data.space.slug });

const actions = { open, keep, discard, addParent: cross.addParent };
for (const row of [children.row, cross.row, root.querySelector("[data-drafts]")]) wireGrid(row, actions);

for (const b of root.querySelectorAll("[data-random]")) {
  b.addEventListener("click", () => makeRandom(b.dataset.random, b));
}

// The socket: progress of long work.
studioSocket((message) => {
  if (message.type === "video") {
    onVideo(message);
    return;
  }
  if (message.task !== "genes" || message.space !== data.space.slug) return;
  if (message.type === "progress") {
    const bar = root.querySelector("[data-discovery-progress]");
    if (bar) bar.value = message.fraction;
    const text = root.querySelector("[data-discovery-message]");
    if (text) text.textContent = message.message ?? "";  // the server's, in the page's language
  }
  if (message.type === "done") {
    api("GET", `/api/spaces/${data.space.slug}/genes/`).then((list) => {
      genes.render(list);
      if (list.length) {
        toast(interpolate(ngettext("%(count)s gene is ready.", "%(count)s genes are ready.", list.length),
          { count: formatNumber(list.length) }));
      }
    }).catch(showError);
  }
}, document.querySelector("[data-socket-state]"));
