// Pages of works to choose from (the studio's pickers, the curator's search): your library
// or the public gallery, found by title, one page after another.
import { api } from "./api.js";
import { gettext, interpolate, pgettext, timeAgo } from "./i18n.js";

export const PAGE = 48;

// Every sentence this module shows, in one place, in the page's language.
export const TEXT = {
  get untitled() { return gettext("Untitled"); },
  by: (owner) => interpolate(gettext("by %(owner)s"), { owner }),
  // who sees a work, as its caption says it
  visibility: (value) => ({
    draft: pgettext("who sees a work", "draft"),
    private: pgettext("who sees a work", "only you"),
    unlisted: pgettext("who sees a work", "with the link"),
    public: pgettext("who sees a work", "public"),
  })[value] ?? value,
};

// A reader of one list: each call brings its next page, ``{ items, done }``. ``source`` is
// "library" (``/api/creations/``, paged by ``before``) or "gallery" (``/api/gallery/``, by
// its cursor). Videos and published works are left out of the library's: the studio's
// pickers take pictures to breed. The gallery's are of one ``kind`` (pictures unless told:
// "" for every kind) and ``made`` one way ("bred", "published", or "" for both).
export function worksPages(source, { space = "", q = "", limit = PAGE, kind = "pictures", made = "" } = {}) {
  let before = "";
  let next = "";
  let done = false;
  return async function nextPage() {
    if (done) return { items: [], done };
    const params = new URLSearchParams({ limit: String(limit) });
    if (space) params.set("space", space);
    if (q) params.set("q", q);
    if (source === "library") {
      if (before) params.set("before", before);
      const items = await api("GET", `/api/creations/?${params}`);
      done = items.length < limit;
      before = items.at(-1)?.id ?? before;
      return { items: items.filter((item) => item.origin !== "video" && item.origin !== "media"), done };
    }
    if (kind) params.set("kind", kind);
    if (made) params.set("made", made);
    // the next page's address, as a path of this site (the answer gives it absolute)
    const url = next || `/api/gallery/?${params}`;
    const page = await api("GET", url);
    next = page.next ? (({ pathname, search }) => pathname + search)(new URL(page.next, location.href)) : "";
    done = !next;
    return { items: page.results, done };
  };
}

// "3 minutes ago", in the page's language. A work is never made in the future: a browser
// whose clock is behind the server's says "now", not "in 2 minutes".
export const ago = (iso) => timeAgo(iso, Math.max(Date.now(), new Date(iso).getTime()));

// A work's caption: its title (or "Untitled"), and who made it or, for one's own, who
// sees it and when it was made.
export function caption(item, { mine = false } = {}) {
  const box = document.createElement("span");
  box.className = "work-caption";
  const title = document.createElement("span");
  title.className = "title";
  title.textContent = item.title || TEXT.untitled;
  title.title = title.textContent;
  const about = document.createElement("span");
  about.className = "about";
  about.textContent = mine
    ? [TEXT.visibility(item.visibility), item.created ? ago(item.created) : ""].filter(Boolean).join(" · ")
    : TEXT.by(item.owner);
  box.append(title, about);
  return box;
}
