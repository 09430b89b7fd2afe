// Words in the page's language. The strings come from Django's JavaScript catalogue (the
// same catalogue as the templates: locale/*/LC_MESSAGES/djangojs.po), loaded by base.html
// before any module as `django`; without it (a test page) the English is said as written.
// Mark every sentence a person sees: gettext("…"), ngettext("one …", "%(count)s …", n),
// then interpolate(…, {count: n}). makemessages finds them by these names.

const catalog = globalThis.django;

export const lang = document.documentElement.lang || "en";

export function gettext(text) {
  return catalog ? catalog.gettext(text) : text;
}

export function ngettext(singular, plural, count) {
  return catalog ? catalog.ngettext(singular, plural, count) : (count === 1 ? singular : plural);
}

export function pgettext(context, text) {
  return catalog ? catalog.pgettext(context, text) : text;
}

// "%(name)s" placeholders filled from `values` (Python's named format, as in the .po files).
export function interpolate(format, values) {
  return format.replace(/%\((\w+)\)s/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// The same for a sentence with elements in it (a link): what to append(...), the values'
// nodes in place of their placeholders. Each node is used once.
export function interpolateNodes(format, values) {
  return format.split(/(%\(\w+\)s)/).filter(Boolean).map((part) => {
    const name = /^%\((\w+)\)s$/.exec(part)?.[1];
    if (name === undefined || !(name in values)) return part;
    return values[name] instanceof Node ? values[name] : String(values[name]);
  });
}

const numbers = new Intl.NumberFormat(lang);
export const formatNumber = (n) => numbers.format(n);

export function formatDate(date, options = { day: "numeric", month: "short", year: "numeric" }) {
  return new Date(date).toLocaleDateString(lang, options);
}

export function formatDateTime(date) {
  return new Date(date).toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
}

const relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
const STEPS = [["year", 365 * 86400], ["month", 30 * 86400], ["week", 7 * 86400], ["day", 86400],
  ["hour", 3600], ["minute", 60], ["second", 1]];

// "3 minutes ago", "3分钟前": how long ago `date` was, in the page's language.
export function timeAgo(date, now = Date.now()) {
  const seconds = (new Date(date).getTime() - now) / 1000;
  for (const [unit, size] of STEPS) {
    if (Math.abs(seconds) >= size || unit === "second") return relative.format(Math.round(seconds / size), unit);
  }
  return "";
}

// A page's address in the page's language: "/zh-hans/studio/…" on a Chinese page that has
// the prefix, "/studio/…" otherwise (base.html writes the prefix the page's own links use).
const PREFIX = document.documentElement.dataset.prefix ?? "";
export const pageUrl = (path) => PREFIX + path;
