// The live breeding round of an exhibition: its candidates with vote buttons, a countdown
// to ends_at, and once it closes the winner and the votes, for everyone.
import { picture } from "./pictures.js";
import { titleOf, workUrl } from "./exhibition-live.js";
import { formatNumber, gettext, interpolate, interpolateNodes, ngettext, pgettext } from "./i18n.js";

const voted = new Map();  // round number -> the position this browser voted for

const voteFor = (position) => interpolate(gettext("Vote for %(number)s"), { number: formatNumber(position + 1) });

function left(endsAt) {
  const seconds = Math.max(0, Math.ceil((new Date(endsAt) - Date.now()) / 1000));
  const m = Math.floor(seconds / 60);
  return { seconds, text: `${m}:${String(seconds % 60).padStart(2, "0")}` };
}

export function roundPanel(panel, { vote }) {
  let ticking = null;
  let shown = null;  // "number/status" of what is on screen

  const say = (text, kind = "error") => {
    const line = panel.querySelector("[data-round-say]");
    if (!line) return;
    line.textContent = text ?? "";
    line.className = kind === "error" ? "form-error" : "muted";
    line.hidden = !text;
  };

  const tick = (round) => {
    const clock = panel.querySelector("[data-countdown]");
    if (!clock) return;
    const { seconds, text } = left(round.ends_at);
    clock.textContent = seconds > 0 ? interpolate(gettext("%(time)s left to vote"), { time: text })
      : gettext("Counting the votes…");
    if (seconds <= 0) {
      for (const b of panel.querySelectorAll("[data-vote]")) b.disabled = true;
    }
  };

  function render(round) {
    clearInterval(ticking);
    if (!round) {
      panel.hidden = true;
      panel.replaceChildren();
      shown = null;
      return;
    }
    panel.hidden = false;
    const key = `${round.number}/${round.status}`;
    if (key === shown) return;  // nothing new: keep what the visitor sees (and any sentence)
    shown = key;
    const closed = round.status === "closed";
    panel.replaceChildren();
    panel.classList.toggle("closed", closed);

    const head = document.createElement("div");
    head.className = "round-head";
    const h = document.createElement("h2");
    h.id = "round-title";
    h.textContent = interpolate(gettext("Live breeding · round %(number)s"), { number: formatNumber(round.number) });
    const sub = document.createElement("p");
    sub.className = "muted";
    if (round.parent) {
      const parentLink = document.createElement("a");
      parentLink.href = workUrl(round.parent.id);
      parentLink.textContent = titleOf(round.parent);
      sub.append(...interpolateNodes(gettext("Children of %(parent)s."), { parent: parentLink }));
    } else {
      sub.append(gettext("Children of a work no longer shown."));
    }
    if (!closed) {
      // the tie rule is the server's sentence, in the page's language already
      sub.append(` ${gettext("Vote for the one that should live on; you can change your vote until the end.")} ${round.tie_rule ?? ""} `);
    }
    if (!closed) {
      const clock = document.createElement("span");
      clock.className = "countdown num";
      clock.dataset.countdown = "";
      clock.setAttribute("role", "timer");
      sub.append(clock);
    }
    head.append(h, sub);

    const result = document.createElement("p");
    result.className = "round-result";
    result.dataset.roundResult = "";
    if (closed) {
      const winner = round.candidates.find((c) => c.work.id === round.winner);
      const total = (round.votes ?? []).reduce((a, b) => a + b, 0);
      const tie = round.tie ?? [];
      const n = winner ? round.votes[winner.position] : 0;
      const numbers = tie.map((p) => formatNumber(p + 1));
      // "1, 2 and 3"
      const tiedWords = numbers.length > 1
        ? interpolate(gettext("%(pictures)s and %(last)s"), {
          pictures: numbers.slice(0, -1).join(pgettext("between the items of a list", ", ")),
          last: numbers.at(-1),
        })
        : numbers.join("");
      const title = winner ? titleOf(winner.work) : "";
      result.textContent = !winner ? gettext("The round is over.")
        : !total ? gettext("Nobody voted, so the first picture goes on.")
        : tie.length ? [
          interpolate(ngettext("A tie: pictures %(pictures)s had %(count)s vote each.",
            "A tie: pictures %(pictures)s had %(count)s votes each.", n), { pictures: tiedWords, count: formatNumber(n) }),
          round.tie_rule ?? "",
          interpolate(gettext("“%(title)s” goes on and now hangs at the end of the walls."), { title }),
        ].join(" ")
        : interpolate(ngettext("The audience chose “%(title)s”, with %(count)s of %(total)s vote. It now hangs at the end of the walls.",
          "The audience chose “%(title)s”, with %(count)s of %(total)s votes. It now hangs at the end of the walls.", total),
        { title, count: formatNumber(n), total: formatNumber(total) });
    }
    const list = document.createElement("ol");
    list.className = "candidates";
    for (const c of round.candidates) {
      const li = document.createElement("li");
      li.className = "candidate";
      li.dataset.candidate = c.position;
      if (closed && c.work.id === round.winner) li.classList.add("winner");
      const figure = document.createElement("figure");
      const alt = interpolate(gettext("Picture %(position)s of round %(number)s"),
        { position: formatNumber(c.position + 1), number: formatNumber(round.number) });
      figure.append(picture(c.work.images["256"], alt, 256));
      li.append(figure);
      if (closed) {
        const n = round.votes?.[c.position] ?? 0;
        const count = document.createElement("p");
        count.className = "votes num";
        const tiedHere = (round.tie ?? []).includes(c.position);
        const votes = interpolate(ngettext("%(count)s vote", "%(count)s votes", n), { count: formatNumber(n) });
        const mark = c.work.id === round.winner
          ? (tiedHere ? gettext("%(votes)s · winner of the tie") : gettext("%(votes)s · winner"))
          : (tiedHere ? gettext("%(votes)s · tied") : "%(votes)s");
        count.textContent = interpolate(mark, { votes });
        li.append(count);
      } else {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "button small";
        button.dataset.vote = c.position;
        const mine = voted.get(round.number) === c.position;
        button.textContent = mine ? gettext("Your vote") : voteFor(c.position);
        button.setAttribute("aria-pressed", String(mine));
        button.addEventListener("click", async () => {
          say(null);
          try {
            const answer = await vote(round.number, c.position);
            voted.set(round.number, c.position);
            for (const b of panel.querySelectorAll("[data-vote]")) {
              const me = Number(b.dataset.vote) === c.position;
              b.setAttribute("aria-pressed", String(me));
              b.textContent = me ? gettext("Your vote") : voteFor(Number(b.dataset.vote));
            }
            say(answer?.changed
              ? interpolate(gettext("Your vote is now for picture %(number)s."), { number: formatNumber(c.position + 1) })
              : gettext("Thank you: your vote is in. You can change it until the round ends."), "info");
          } catch (error) {
            say(error.message);
          }
        });
        li.append(button);
      }
      list.append(li);
    }
    const line = document.createElement("p");
    line.dataset.roundSay = "";
    line.setAttribute("role", "alert");
    line.hidden = true;
    panel.append(head, ...(closed ? [result] : []), list, line);
    if (!closed) {
      tick(round);
      ticking = setInterval(() => tick(round), 1000);
    }
  }

  return { render, say };
}
