// Comments on the work page: write, edit and delete your own, hide others' on your work,
// report one to staff, remove one (staff). The page shows the comments without this script;
// a comment's HTML always comes from the server, which escapes everything its author wrote.
import { api } from "./api.js";
import { formatDateTime, formatNumber, gettext, pageUrl } from "./i18n.js";
import { showError, toast } from "./toast.js";

const section = document.querySelector("[data-comments]");

if (section) {
  const base = `/api/creations/${section.dataset.comments}/comments/`;
  const list = section.querySelector("[data-comment-list]");
  const form = section.querySelector("[data-comment-form]");
  const template = section.querySelector("[data-comment-template]");
  const count = section.querySelector("[data-comment-count]");
  const empty = section.querySelector("[data-comments-empty]");

  const url = (item, rest = "") => `${base}${encodeURIComponent(item.dataset.comment)}/${rest}`;

  function counted(delta) {
    // the count as the page wrote it, perhaps with separators ("1,204")
    count.textContent = formatNumber(Math.max(0, Number(count.textContent.replace(/\D/g, "")) + delta));
    empty.hidden = list.children.length > 0;
  }

  // What the server says a comment is, on its element.
  function fill(item, comment) {
    item.id = `comment-${comment.id}`;
    item.dataset.comment = comment.id;
    item.dataset.text = comment.text;
    const author = item.querySelector("[data-comment-author]");
    author.textContent = comment.author;
    author.href = pageUrl(`/u/${encodeURIComponent(comment.author)}/`);
    const time = item.querySelector("[data-comment-time]");
    time.dateTime = comment.created;
    time.textContent = formatDateTime(comment.created);
    item.querySelector("[data-comment-edited]").hidden = !comment.edited;
    item.querySelector("[data-comment-text]").innerHTML = comment.html; // escaped by the server
    item.classList.toggle("is-hidden", comment.hidden);
    item.querySelector("[data-comment-hidden-badge]").hidden = !comment.hidden;
  }

  form?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const comment = await api("POST", base, { text: form.elements.text.value });
      const item = template.content.firstElementChild.cloneNode(true);
      fill(item, comment);
      list.append(item);
      counted(1);
      form.reset();
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = false;
    }
  });

  function edit(item) {
    if (item.querySelector(".comment-edit")) return;
    const text = item.querySelector("[data-comment-text]");
    const editor = document.createElement("form");
    editor.className = "comment-edit";
    const box = document.createElement("textarea");
    box.name = "text";
    box.maxLength = 2000;
    box.rows = 3;
    box.required = true;
    box.value = item.dataset.text;
    box.setAttribute("aria-label", gettext("Your comment"));
    const save = document.createElement("button");
    save.className = "button small";
    save.textContent = gettext("Save");
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "button small quiet";
    cancel.textContent = gettext("Cancel");
    const buttons = document.createElement("div");
    buttons.className = "comment-edit-buttons";
    buttons.append(save, cancel);
    editor.append(box, buttons);
    const close = () => { editor.remove(); text.hidden = false; };
    cancel.addEventListener("click", close);
    editor.addEventListener("submit", async (event) => {
      event.preventDefault();
      save.disabled = true;
      try {
        fill(item, await api("PATCH", url(item), { text: box.value }));
        close();
      } catch (error) {
        showError(error);
      } finally {
        save.disabled = false;
      }
    });
    text.hidden = true;
    text.after(editor);
    box.focus();
  }

  async function remove(item, question, done) {
    if (!confirm(question)) return;
    try {
      await api("DELETE", url(item));
      item.remove();
      counted(-1);
      toast(done);
    } catch (error) {
      showError(error);
    }
  }

  async function hide(item, button) {
    const hidden = button.getAttribute("aria-pressed") === "true";
    button.disabled = true;
    try {
      const comment = await api(hidden ? "DELETE" : "PUT", url(item, "hidden/"));
      fill(item, comment);
      button.setAttribute("aria-pressed", String(comment.hidden));
      button.textContent = comment.hidden ? section.dataset.labelShow : section.dataset.labelHide;
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = false;
    }
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    const item = button?.closest("[data-comment]");
    if (!item) return;
    if (button.matches("[data-comment-edit]")) edit(item);
    else if (button.matches("[data-comment-delete]")) remove(item, gettext("Delete your comment?"), gettext("Comment deleted."));
    else if (button.matches("[data-comment-remove]")) {
      remove(item, gettext("Remove this comment for everyone?"), gettext("Comment removed."));
    }
    else if (button.matches("[data-comment-hide]")) hide(item, button);
  });

  list.addEventListener("submit", async (event) => {
    const report = event.target.closest("[data-comment-report]");
    if (!report) return;
    event.preventDefault();
    const button = report.querySelector("button");
    button.disabled = true;
    try {
      await api("POST", url(report.closest("[data-comment]"), "report/"), { reason: report.elements.reason.value });
      report.reset();
      report.closest("details").open = false;
      toast(gettext("Thank you. Staff will look at it."));
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = false;
    }
  });
}
