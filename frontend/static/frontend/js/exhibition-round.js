// The live breeding round of an exhibition: its candidates with vote buttons, a countdown
// to ends_at, and once it closes the winner and the votes, for everyone.
import { picture } from "./pictures.js";
import { titleOf, workUrl } from "./exhibition-live.js";

const voted = new Map();  // round number -> the position this browser voted for

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
    clock.textContent = seconds > 0 ? `${text} left to vote` : "Counting the votes…";
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
    h.textContent = `Live breeding · round ${round.number}`;
    const sub = document.createElement("p");
    sub.className = "muted";
    sub.append("Children of ");
    if (round.parent) {
      const parentLink = document.createElement("a");
      parentLink.href = workUrl(round.parent.id);
      parentLink.textContent = titleOf(round.parent);
      sub.append(parentLink);
    } else {
      sub.append("a work no longer shown");
    }
    sub.append(closed ? "." : `. Vote for the one that should live on; you can change your vote until the end. ${round.tie_rule ?? ""} `);
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
      const numbers = tie.map((p) => p + 1);
      const tiedWords = numbers.length ? `${numbers.slice(0, -1).join(", ")} and ${numbers.at(-1)}` : "";
      result.textContent = !winner ? "The round is over."
        : !total ? "Nobody voted, so the first picture goes on."
        : tie.length ? `A tie: pictures ${tiedWords} had ${n} vote${n === 1 ? "" : "s"} each. ${round.tie_rule ?? ""} “${titleOf(winner.work)}” goes on and now hangs at the end of the walls.`
        : `The audience chose “${titleOf(winner.work)}”, with ${n} of ${total} vote${total === 1 ? "" : "s"}. It now hangs at the end of the walls.`;
    }
    const list = document.createElement("ol");
    list.className = "candidates";
    for (const c of round.candidates) {
      const li = document.createElement("li");
      li.className = "candidate";
      li.dataset.candidate = c.position;
      if (closed && c.work.id === round.winner) li.classList.add("winner");
      const figure = document.createElement("figure");
      figure.append(picture(c.work.images["256"], `Picture ${c.position + 1} of round ${round.number}`, 256));
      li.append(figure);
      if (closed) {
        const n = round.votes?.[c.position] ?? 0;
        const count = document.createElement("p");
        count.className = "votes num";
        const tiedHere = (round.tie ?? []).includes(c.position);
        count.textContent = `${n} vote${n === 1 ? "" : "s"}${c.work.id === round.winner ? (tiedHere ? " · winner of the tie" : " · winner") : (tiedHere ? " · tied" : "")}`;
        li.append(count);
      } else {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "button small";
        button.dataset.vote = c.position;
        const mine = voted.get(round.number) === c.position;
        button.textContent = mine ? "Your vote" : `Vote for ${c.position + 1}`;
        button.setAttribute("aria-pressed", String(mine));
        button.addEventListener("click", async () => {
          say(null);
          try {
            const answer = await vote(round.number, c.position);
            voted.set(round.number, c.position);
            for (const b of panel.querySelectorAll("[data-vote]")) {
              const me = Number(b.dataset.vote) === c.position;
              b.setAttribute("aria-pressed", String(me));
              b.textContent = me ? "Your vote" : `Vote for ${Number(b.dataset.vote) + 1}`;
            }
            say(answer?.changed ? `Your vote is now for picture ${c.position + 1}.`
              : "Thank you: your vote is in. You can change it until the round ends.", "info");
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
