// The family tree: zoom with the buttons, the wheel (with Ctrl) or + and -; pan by scrolling
// or dragging. The current work starts in view.
const frame = document.querySelector("[data-tree]");
const svg = frame?.querySelector("svg");

if (frame && svg) {
  const width = svg.viewBox.baseVal.width;
  const height = svg.viewBox.baseVal.height;
  let scale = 1;
  // Thumbnails are 256 px renders in 96 px squares: zoomed further than they hold (on this
  // screen's pixels), each takes its 1024 px render instead of magnifying blur.
  const TILE = 96;
  const THUMB = 256;
  let sharp = false;
  const apply = () => {
    svg.setAttribute("width", String(Math.round(width * scale)));
    svg.setAttribute("height", String(Math.round(height * scale)));
    if (!sharp && scale * TILE * devicePixelRatio > THUMB) {
      sharp = true;
      for (const image of svg.querySelectorAll("image[data-large]")) image.setAttribute("href", image.dataset.large);
    }
  };
  const zoom = (factor) => {
    const cx = (frame.scrollLeft + frame.clientWidth / 2) / scale;
    const cy = (frame.scrollTop + frame.clientHeight / 2) / scale;
    scale = Math.min(3, Math.max(0.25, scale * factor));
    apply();
    frame.scrollLeft = cx * scale - frame.clientWidth / 2;
    frame.scrollTop = cy * scale - frame.clientHeight / 2;
  };
  const fit = () => {
    // The whole tree where it fits; never so small that the pictures become specks.
    scale = Math.max(0.5, Math.min(1, frame.clientWidth / width, frame.clientHeight / height));
    apply();
  };
  for (const b of frame.querySelectorAll("[data-zoom]")) {
    b.addEventListener("click", () => {
      if (b.dataset.zoom === "in") zoom(1.25);
      else if (b.dataset.zoom === "out") zoom(0.8);
      else fit();
    });
  }
  frame.addEventListener("wheel", (event) => {
    if (!event.ctrlKey) return;
    event.preventDefault();
    zoom(event.deltaY < 0 ? 1.1 : 0.9);
  }, { passive: false });
  frame.addEventListener("keydown", (event) => {
    if (event.key === "+" || event.key === "=") zoom(1.25);
    if (event.key === "-") zoom(0.8);
  });
  let drag = null;
  frame.addEventListener("pointerdown", (event) => {
    if (event.target.closest("a, button")) return;
    drag = { x: event.clientX, y: event.clientY, left: frame.scrollLeft, top: frame.scrollTop };
    frame.setPointerCapture(event.pointerId);
  });
  frame.addEventListener("pointermove", (event) => {
    if (!drag) return;
    frame.scrollLeft = drag.left - (event.clientX - drag.x);
    frame.scrollTop = drag.top - (event.clientY - drag.y);
  });
  frame.addEventListener("pointerup", () => { drag = null; });
  fit();
  const root = svg.querySelector(".node.root");
  if (root) {
    const box = root.getBBox();
    const m = root.transform.baseVal.consolidate()?.matrix;
    const x = ((m?.e ?? 0) + box.width / 2) * scale;
    const y = ((m?.f ?? 0) + box.height / 2) * scale;
    frame.scrollLeft = x - frame.clientWidth / 2;
    frame.scrollTop = y - frame.clientHeight / 2;
  }
}
