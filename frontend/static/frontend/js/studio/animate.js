// Animate: a morph video through keyframes (or a camera move over this picture), a quick
// preview in the page, then the full render as a job whose progress comes by the socket.
import { api, apiBlob } from "../api.js";
import { formatNumber, gettext, interpolate, ngettext, pageUrl } from "../i18n.js";
import { picture } from "../pictures.js";
import { showError, toast } from "../toast.js";

const MAX_KEYFRAMES = 16;

export function setupAnimate(store, { panel, pick, space, announce }) {
  const $ = (selector) => panel.querySelector(selector);
  const list = $("[data-keyframes]");
  const form = $("[data-animate-form]");
  const length = $("[data-anim-length]");
  const player = $("[data-anim-player]");
  const progress = $("[data-anim-progress]");
  const bar = progress.querySelector("progress");
  const status = $("[data-anim-status]");
  const done = $("[data-anim-done]");
  const previewButton = $("[data-anim-preview]");
  const renderButton = $("[data-anim-render]");
  let mode = "morph";
  let rendering = null;  // the id of the video being rendered
  let previewUrl = null;

  const keyframes = () => store.get().keyframes;
  const setKeyframes = (next) => store.set({ keyframes: next });

  function body() {
    const f = form.elements;
    const shared = {
      fps: Number(f.fps.value), size: Number(f.size.value), easing: f.easing.value,
      title: store.get().current.title
        ? interpolate(gettext("%(title)s, in motion"), { title: store.get().current.title }) : "",
    };
    if (mode !== "morph") {
      return { ...shared, keyframes: [store.get().current.id], camera: mode,
               duration: Number(f.seconds.value), zoom: Number(f.zoom.value) };
    }
    return { ...shared, keyframes: keyframes().map((k) => k.id), seconds_per_step: Number(f.seconds.value),
             loop: f.loop.checked, even_speed: f.even.checked };
  }

  // What the video will be: its length and frames, said before anything is rendered.
  function describe() {
    const b = body();
    const n = b.keyframes.length;
    const seconds = mode === "morph" ? b.seconds_per_step * (b.loop ? n : n - 1) : b.duration;
    const frames = Math.round(b.fps * seconds) + (mode === "morph" && b.loop ? 0 : 1);
    const ready = mode !== "morph" || n >= 2;
    length.textContent = ready
      ? interpolate(ngettext("%(seconds)s s · %(count)s frame at %(size)s px",
        "%(seconds)s s · %(count)s frames at %(size)s px", frames),
      { seconds: formatNumber(Math.round(seconds * 10) / 10), count: formatNumber(frames), size: b.size })
      : gettext("Add at least one more keyframe.");
    previewButton.disabled = renderButton.disabled = !ready || rendering !== null;
  }

  function keyframeRow(item, index) {
    const li = document.createElement("li");
    li.className = "keyframe";
    li.dataset.id = item.id;
    const name = item.title || gettext("Untitled");
    const number = formatNumber(index + 1);
    li.append(picture(item.images["64"] ?? item.images["256"],
      interpolate(gettext("Keyframe %(number)s: %(name)s"), { number, name }), 64));
    const controls = document.createElement("span");
    controls.className = "keyframe-controls";
    const button = (text, label, action, disabled = false) => {
      const b = document.createElement("button");
      Object.assign(b, { type: "button", className: "button small quiet", textContent: text, disabled });
      b.setAttribute("aria-label", label);
      b.addEventListener("click", action);
      controls.append(b);
    };
    const move = (step) => () => {
      const next = [...keyframes()];
      [next[index], next[index + step]] = [next[index + step], next[index]];
      setKeyframes(next);
      // Focus stays on the keyframe that moved (its rows were drawn anew).
      const [up, down] = list.children[index + step].querySelectorAll("button");
      const same = step < 0 ? up : down;
      (same.disabled ? (step < 0 ? down : up) : same).focus();
    };
    button("↑", interpolate(gettext("Move keyframe %(number)s earlier"), { number }), move(-1), index === 0);
    button("↓", interpolate(gettext("Move keyframe %(number)s later"), { number }), move(1), index === keyframes().length - 1);
    button(gettext("Remove"), interpolate(gettext("Remove keyframe %(number)s"), { number }),
      () => setKeyframes(keyframes().filter((_, i) => i !== index)));
    li.append(controls);
    return li;
  }

  function add(item) {
    // the same picture twice in a row is a still, not a step (and the first keyframe is
    // the picture open when the studio opened: "Add this picture" would double it)
    if (keyframes().at(-1)?.id === item.id) {
      toast(gettext("This picture is already the last keyframe. Open or pick another picture to add it."));
      return;
    }
    if (keyframes().length >= MAX_KEYFRAMES) {
      toast(interpolate(gettext("A video takes at most %(count)s keyframes."), { count: formatNumber(MAX_KEYFRAMES) }),
        { kind: "error" });
      return;
    }
    setKeyframes([...keyframes(), item]);
    announce(interpolate(gettext("Keyframe %(number)s added."), { number: formatNumber(keyframes().length) }));
  }

  store.subscribe((state, before) => {
    if (state.keyframes !== before.keyframes) {
      list.replaceChildren(...state.keyframes.map(keyframeRow));
      describe();
    }
  });

  // Morph, or a camera move over the current picture.
  for (const b of panel.querySelectorAll("[data-anim-mode]")) {
    b.addEventListener("click", () => {
      mode = b.dataset.animMode;
      for (const other of panel.querySelectorAll("[data-anim-mode]")) {
        other.setAttribute("aria-pressed", String(other === b));
      }
      for (const el of panel.querySelectorAll("[data-morph-only]")) el.hidden = mode !== "morph";
      for (const el of panel.querySelectorAll("[data-camera-only]")) el.hidden = mode === "morph";
      $("[data-seconds-label]").textContent = mode === "morph" ? gettext("Seconds per step") : gettext("Seconds");
      describe();
    });
  }
  form.addEventListener("input", describe);
  form.addEventListener("submit", (event) => event.preventDefault());
  $("[data-add-current]").addEventListener("click", () => add(store.get().current));
  $("[data-add-keyframe]").addEventListener("click", () => pick(gettext("Add a keyframe"), add));

  previewButton.addEventListener("click", async () => {
    previewButton.disabled = true;
    previewButton.textContent = gettext("Making a preview…");
    try {
      const blob = await apiBlob("POST", "/api/videos/preview/", body());
      if (previewUrl) URL.revokeObjectURL(previewUrl);
      previewUrl = URL.createObjectURL(blob);
      player.src = previewUrl;
      player.hidden = false;
      await player.play().catch(() => {});
      announce(gettext("The preview plays."));
    } catch (error) {
      showError(error);
    } finally {
      previewButton.textContent = gettext("Preview");
      describe();
    }
  });

  function showProgress(video) {
    progress.hidden = false;
    bar.value = video.fraction ?? 0;
    if (video.status === "queued") status.textContent = gettext("Waiting for a worker…");
    else if (video.status === "rendering") {
      const values = {
        done: formatNumber(video.frames_done), total: formatNumber(video.frames_total),
        seconds: formatNumber(Math.max(1, Math.round(video.eta_s))),
      };
      status.textContent = video.eta_s
        ? interpolate(gettext("Frame %(done)s of %(total)s · about %(seconds)s s left"), values)
        : interpolate(gettext("Frame %(done)s of %(total)s"), values);
    }
  }

  function finished(video) {
    rendering = null;
    progress.hidden = true;
    if (video.status === "done") {
      const link = done.querySelector("a");
      link.href = pageUrl(`/w/${encodeURIComponent(video.creation)}/`);
      done.hidden = false;
      announce(gettext("Your video is ready."));
      toast(gettext("Your video is ready."), { action: { label: gettext("Open it"), href: link.href } });
    } else if (video.status === "failed") {
      // the server's sentence, in its owner's language
      toast(video.error || gettext("The video could not be made."), { kind: "error" });
    }
    describe();
  }

  renderButton.addEventListener("click", async () => {
    renderButton.disabled = true;
    done.hidden = true;
    try {
      const video = await api("POST", "/api/videos/", body());
      rendering = video.id;
      showProgress(video);
      announce(gettext("The video is being made. You can go on breeding meanwhile."));
    } catch (error) {
      showError(error);
    } finally {
      describe();
    }
  });

  $("[data-anim-cancel]").addEventListener("click", async () => {
    if (!rendering) return;
    try {
      finished(await api("POST", `/api/videos/${rendering}/cancel/`));
      announce(gettext("The video was cancelled."));
    } catch (error) {
      showError(error);
    }
  });

  list.replaceChildren(...keyframes().map(keyframeRow));
  if (!space.can_move_camera) panel.querySelector("[data-camera-modes]").hidden = true;
  describe();

  // What the studio socket says of videos.
  return function onVideo(message) {
    if (message.video !== rendering) return;
    const video = { ...message, id: message.video };
    if (message.status === "done" || message.status === "failed" || message.status === "cancelled") finished(video);
    else showProgress(video);
  };
}
