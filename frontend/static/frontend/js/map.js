// The map of a space: every public work a point, drawn with WebGL (PixPlot's approach).
//
// The points come once as a binary file (order, x, y, mean colour; gallery/map_api.py) and
// go to the GPU once, as instances of one quad. Far out each is a dot of its colour; nearer,
// its thumbnail from an atlas page of the smallest cell size that holds its size on screen.
// Works are laid in the atlases along a Z-order curve, so a page covers a compact place, and
// only the pages whose box meets the view are fetched, a few at a time, kept in a small LRU
// of textures. Pan by dragging (or the arrow keys), zoom with the wheel, a pinch, the
// buttons or + and −. A click on a work opens it; on an empty place it offers to breed there.
import { api, apiWorks } from "./api.js";
import { formatNumber, gettext, interpolate, ngettext, pageUrl } from "./i18n.js";
import { showError } from "./toast.js";

const root = document.querySelector("[data-map]");

// Cells of the atlases, px, and how large a page is (the contract with gallery/maps.py).
const PAGE = 2048;
// Below this many CSS px a work is a dot; from here up, a picture.
const PICTURE_PX = 7;
// The least size of a dot on screen (CSS px), and of a marked one (yours, a search's).
const DOT_PX = 2;
// Dots up to this size are drawn as GL points.
const POINT_PX = 24;
const MARK_PX = 6;
// Textures held at once: a 2048² page is 16 MiB of GPU memory.
const TEXTURES = matchMedia("(max-width: 600px)").matches ? 10 : 20;
const FETCHES = 3;  // atlas pages asked for at once
const SETTLE_MS = 250;  // a cell size wanted this long is fetched
const POLL_MS = 30000;
// The canvas as drawn holds while the view is at most this much closer (MapPage.paint).
const CACHE_ZOOM = 1.8;
// ... or this much when drawing it again is slow: more than SLOW_POINTS works in it (what
// software GL takes SLOW_MS or more for).
const CACHE_ZOOM_SLOW = 2.5;
const SLOW_POINTS = 20000;
const SLOW_MS = 50;
// The most pixels the canvas may have (4 bytes each, twice over for the compositor).
const CANVAS_PIXELS = 24e6;
const POLL_BUILDING_MS = 5000;
// Flags per point (a byte): yours, a match of the search.
const MINE = 1, MATCH = 2;

// One quad a work: six vertices that carry its place, colour (+ flags) and order; which
// corner each is comes from gl_VertexID. Not instanced: software GL (SwiftShader, what a
// machine without a GPU draws with) sets up every instance as a draw of its own, 50 µs each.
const VERTEX = `#version 300 es
in vec2 a_pos;
in vec4 a_color;   // rgb: the mean colour; a: the flags (a byte)
in float a_order;
uniform vec2 u_center;
uniform float u_scale;
uniform vec2 u_view;
uniform float u_size;
uniform float u_dot;
uniform int u_pass;       // 0 dots, 1 pictures, 2 marks
uniform float u_first;    // the first order of the atlas page
uniform float u_per_row;  // cells in a row of the page
uniform float u_cell;     // px of a cell
uniform uint u_show;      // which flags are drawn as marks
uniform bool u_points;    // drawn as points (a vertex a work) rather than quads
out vec2 v_uv;
out vec2 v_local;
out vec3 v_color;
out float v_px;
flat out uint v_flags;
const vec2 CORNERS[6] = vec2[6](vec2(0, 0), vec2(1, 0), vec2(0, 1), vec2(0, 1), vec2(1, 0), vec2(1, 1));
void main() {
  vec2 corner = u_points ? vec2(0.5) : CORNERS[gl_VertexID % 6];
  uint flags = uint(a_color.a * 255.0 + 0.5) & u_show;
  float px = max(u_size * u_scale, u_pass == 2 ? ${MARK_PX.toFixed(1)} * u_dot / ${DOT_PX.toFixed(1)} : u_dot);
  vec2 screen = (a_pos - u_center) * u_scale + (corner - 0.5) * px;
  gl_Position = vec4(screen.x * 2.0 / u_view.x, -screen.y * 2.0 / u_view.y, 0.0, 1.0);
  gl_PointSize = px;
  float slot = a_order - u_first;
  vec2 cell = vec2(mod(slot, u_per_row), floor(slot / u_per_row));
  // half a texel in from the cell's edge: no bleeding from the neighbour
  v_uv = (cell + clamp(corner, 0.5 / u_cell, 1.0 - 0.5 / u_cell)) / u_per_row;
  v_local = corner;
  v_color = a_color.rgb;
  v_px = px;
  v_flags = flags;
}`;

const FRAGMENT = `#version 300 es
precision highp float;
precision highp int;
in vec2 v_uv;
in vec2 v_local;
in vec3 v_color;
in float v_px;
flat in uint v_flags;
uniform sampler2D u_atlas;
uniform int u_pass;
uniform bool u_points;
uniform bool u_dim;       // a search is on: what does not match steps back
uniform vec3 u_mine;
uniform vec3 u_match;
out vec4 colour;
void main() {
  vec2 d = (u_points ? gl_PointCoord : v_local) - 0.5;
  if (u_pass == 2) {
    vec3 mark = (v_flags & ${MATCH}u) != 0u ? u_match : u_mine;
    // small: a round spot of the mark's colour; large: a ring around the picture
    if (v_px < 14.0) {
      if (length(d) > 0.5) discard;
    } else if ((0.5 - max(abs(d.x), abs(d.y))) * v_px > 2.5) {
      discard;
    }
    colour = vec4(mark, 1.0);
    return;
  }
  vec3 c = u_pass == 1 ? texture(u_atlas, v_uv).rgb : v_color;
  if (u_pass == 0 && v_px < 12.0 && length(d) > 0.5) discard;
  if (u_dim && (v_flags & ${MATCH}u) == 0u) c *= 0.3;
  colour = vec4(c, 1.0);
}`;

// The dots alone, as GL points: the least a vertex can cost (software GL spends its time on
// vertices: 100k of them each time the map is drawn far out).
const DOT_VERTEX = `#version 300 es
in vec2 a_pos;
in vec4 a_color;
uniform vec2 u_center;
uniform float u_scale;
uniform vec2 u_view;
uniform float u_px;
uniform bool u_dim;
out vec3 v_color;
void main() {
  vec2 screen = (a_pos - u_center) * u_scale;
  gl_Position = vec4(screen.x * 2.0 / u_view.x, -screen.y * 2.0 / u_view.y, 0.0, 1.0);
  gl_PointSize = u_px;
  bool dim = u_dim && (uint(a_color.a * 255.0 + 0.5) & ${MATCH}u) == 0u;
  v_color = dim ? a_color.rgb * 0.3 : a_color.rgb;
}`;

const DOT_FRAGMENT = `#version 300 es
precision highp float;
in vec3 v_color;
uniform float u_px;
out vec4 colour;
void main() {
  if (u_px >= 4.0 && length(gl_PointCoord - 0.5) > 0.5) discard;
  colour = vec4(v_color, 1.0);
}`;

// -- the points --------------------------------------------------------------------------

// points.bin: uint32 count, then per point uint32 order, float32 x, float32 y, uint32 rgba
// (r in the lowest byte), little-endian; sorted here by order so an atlas page's works are a run.
export function readPoints(buffer) {
  const view = new DataView(buffer);
  const count = buffer.byteLength >= 4 ? view.getUint32(0, true) : 0;
  const rows = [];
  for (let i = 0; i < count; i++) {
    const at = 4 + 16 * i;
    rows.push([view.getUint32(at, true), view.getFloat32(at + 4, true), view.getFloat32(at + 8, true),
      view.getUint32(at + 12, true)]);
  }
  let sorted = true;
  for (let i = 1; i < count && sorted; i++) sorted = rows[i - 1][0] <= rows[i][0];
  if (!sorted) rows.sort((a, b) => a[0] - b[0]);
  const points = {
    count,
    order: new Uint32Array(count),
    xy: new Float32Array(2 * count),
    rgba: new Uint8Array(4 * count),
    flags: new Uint8Array(count),
    index: new Map(),  // order -> index
  };
  rows.forEach(([order, x, y, rgba], i) => {
    points.order[i] = order;
    points.xy[2 * i] = x;
    points.xy[2 * i + 1] = y;
    points.rgba.set([rgba & 255, (rgba >>> 8) & 255, (rgba >>> 16) & 255, 0], 4 * i);  // a: flags
    points.index.set(order, i);
  });
  return points;
}

// A grid over the points' box for finding the one under the pointer.
function buildGrid(points) {
  const { count, xy } = points;
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < count; i++) {
    x0 = Math.min(x0, xy[2 * i]); x1 = Math.max(x1, xy[2 * i]);
    y0 = Math.min(y0, xy[2 * i + 1]); y1 = Math.max(y1, xy[2 * i + 1]);
  }
  if (!count) { x0 = y0 = 0; x1 = y1 = 1; }
  const side = Math.max(1, Math.min(256, Math.round(Math.sqrt(count / 4))));
  const w = Math.max(x1 - x0, 1e-6), h = Math.max(y1 - y0, 1e-6);
  const cellOf = (x, y) => {
    const cx = Math.min(side - 1, Math.max(0, Math.floor((x - x0) / w * side)));
    const cy = Math.min(side - 1, Math.max(0, Math.floor((y - y0) / h * side)));
    return cy * side + cx;
  };
  const start = new Uint32Array(side * side + 1);
  for (let i = 0; i < count; i++) start[cellOf(xy[2 * i], xy[2 * i + 1]) + 1]++;
  for (let c = 0; c < side * side; c++) start[c + 1] += start[c];
  const fill = start.slice(0, side * side);
  const items = new Uint32Array(count);
  for (let i = 0; i < count; i++) items[fill[cellOf(xy[2 * i], xy[2 * i + 1])]++] = i;
  const grid = { x0, y0, x1, y1, w, h, side, start, items };
  // Within ``r`` of (x, y) (Chebyshev: the quads are squares), the nearest point, or -1.
  grid.nearest = (x, y, r) => {
    const a = Math.max(0, Math.floor((x - r - x0) / w * side)), b = Math.min(side - 1, Math.floor((x + r - x0) / w * side));
    const c = Math.max(0, Math.floor((y - r - y0) / h * side)), d = Math.min(side - 1, Math.floor((y + r - y0) / h * side));
    let best = -1, bestD = Infinity;
    for (let cy = c; cy <= d; cy++) {
      for (let cx = a; cx <= b; cx++) {
        const cell = cy * side + cx;
        for (let k = start[cell]; k < start[cell + 1]; k++) {
          const i = items[k];
          const dx = Math.abs(xy[2 * i] - x), dy = Math.abs(xy[2 * i + 1] - y);
          if (dx > r || dy > r) continue;
          const dist = dx * dx + dy * dy;
          if (dist < bestD) { bestD = dist; best = i; }
        }
      }
    }
    return best;
  };
  return grid;
}

// The size of a work on the map (world units): the median distance to its nearest
// neighbour, over a sample, so that thumbnails just touch where works are typically spaced.
function quadSize(points, grid) {
  const { count, xy } = points;
  if (count < 2) return 0.2;
  const step = Math.max(1, Math.floor(count / 1500));
  const found = [];
  for (let i = 0; i < count; i += step) {
    let r = Math.max(grid.w, grid.h) / grid.side;
    for (let tries = 0; tries < 6; tries++, r *= 2) {
      let best = Infinity;
      const x = xy[2 * i], y = xy[2 * i + 1];
      const a = Math.max(0, Math.floor((x - r - grid.x0) / grid.w * grid.side)), b = Math.min(grid.side - 1, Math.floor((x + r - grid.x0) / grid.w * grid.side));
      const c = Math.max(0, Math.floor((y - r - grid.y0) / grid.h * grid.side)), d = Math.min(grid.side - 1, Math.floor((y + r - grid.y0) / grid.h * grid.side));
      for (let cy = c; cy <= d; cy++) {
        for (let cx = a; cx <= b; cx++) {
          const cell = cy * grid.side + cx;
          for (let k = grid.start[cell]; k < grid.start[cell + 1]; k++) {
            const j = grid.items[k];
            if (j === i) continue;
            const dd = Math.hypot(xy[2 * j] - x, xy[2 * j + 1] - y);
            if (dd < best) best = dd;
          }
        }
      }
      if (best <= r) { found.push(best); break; }
    }
  }
  found.sort((p, q) => p - q);
  const median = found[Math.floor(found.length / 2)] ?? 0.01;
  return Math.min(0.2, Math.max(median, 1e-5));
}

// The first index whose order is >= ``order`` (orders sorted).
function lowerBound(orders, order) {
  let lo = 0, hi = orders.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (orders[mid] < order) lo = mid + 1; else hi = mid;
  }
  return lo;
}

// -- WebGL ---------------------------------------------------------------------------------

function compile(gl, vertex = VERTEX, fragment = FRAGMENT, locations = null) {
  const shader = (type, source) => {
    const s = gl.createShader(type);
    gl.shaderSource(s, source);
    gl.compileShader(s);
    if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
    return s;
  };
  const program = gl.createProgram();
  gl.attachShader(program, shader(gl.VERTEX_SHADER, vertex));
  gl.attachShader(program, shader(gl.FRAGMENT_SHADER, fragment));
  // the same attribute places as the main program: both read the same vertex arrays
  for (const [name, at] of Object.entries(locations ?? {})) gl.bindAttribLocation(program, at, name);
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(program));
  const where = {};
  for (const name of ["a_pos", "a_color", "a_order"]) where[name] = gl.getAttribLocation(program, name);
  for (const name of ["u_center", "u_scale", "u_view", "u_size", "u_dot", "u_pass", "u_first", "u_per_row",
    "u_cell", "u_show", "u_atlas", "u_dim", "u_mine", "u_match", "u_points", "u_px"]) {
    where[name] = gl.getUniformLocation(program, name);
  }
  return { program, where };
}

// The six vertices of each of ``indices`` (all points when null): place, colour + flags, order.
function vertices(points, indices = null) {
  const n = indices ? indices.length : points.count;
  const pos = new Float32Array(12 * n), rgba = new Uint8Array(24 * n), order = new Float32Array(6 * n);
  for (let k = 0; k < n; k++) {
    const i = indices ? indices[k] : k;
    const x = points.xy[2 * i], y = points.xy[2 * i + 1], o = points.order[i];
    const r = points.rgba[4 * i], g = points.rgba[4 * i + 1], b = points.rgba[4 * i + 2], f = points.flags[i];
    for (let v = 0; v < 6; v++) {
      const at = 6 * k + v;
      pos[2 * at] = x; pos[2 * at + 1] = y;
      rgba[4 * at] = r; rgba[4 * at + 1] = g; rgba[4 * at + 2] = b; rgba[4 * at + 3] = f;
      order[at] = o;
    }
  }
  return { n, pos, rgba, order };
}

class Renderer {
  constructor(canvas) {
    const gl = canvas.getContext("webgl2", { antialias: false, alpha: false, depth: false, stencil: false,
      preserveDrawingBuffer: false, powerPreference: "high-performance" });
    if (!gl) throw new Error("no webgl2");
    this.gl = gl;
    this.canvas = canvas;
    const { program, where } = compile(gl);
    this.program = program;
    this.where = where;
    // Formats every GPU reads directly (ANGLE converts others, such as single bytes or
    // integers, on the CPU at every draw): float places and orders (exact to 2^24), four
    // normalised bytes of colour with the flags in the fourth.
    // A second way to read the same buffers: every sixth vertex, a point a work, for the
    // dots (a sixth of the vertices: what software GL spends its time on).
    const set = () => {
      const buffers = { n: 0, pos: gl.createBuffer(), rgba: gl.createBuffer(), order: gl.createBuffer() };
      for (const [key, stride] of [["vao", 1], ["pointVao", 6]]) {
        buffers[key] = gl.createVertexArray();
        gl.bindVertexArray(buffers[key]);
        for (const [name, buffer, size, type, normal, bytes] of [["a_pos", buffers.pos, 2, gl.FLOAT, false, 8],
          ["a_color", buffers.rgba, 4, gl.UNSIGNED_BYTE, true, 4], ["a_order", buffers.order, 1, gl.FLOAT, false, 4]]) {
          gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
          gl.enableVertexAttribArray(where[name]);
          gl.vertexAttribPointer(where[name], size, type, normal, stride === 1 ? 0 : stride * bytes, 0);
        }
      }
      gl.bindVertexArray(null);
      return buffers;
    };
    this.maxPoint = gl.getParameter(gl.ALIASED_POINT_SIZE_RANGE)[1];
    this.dots = compile(gl, DOT_VERTEX, DOT_FRAGMENT, { a_pos: where.a_pos, a_color: where.a_color });
    this.maxSide = Math.min(gl.getParameter(gl.MAX_TEXTURE_SIZE), ...gl.getParameter(gl.MAX_VIEWPORT_DIMS));
    this.all = set();    // every point
    this.marks = set();  // the marked ones (yours, a search's), drawn over the rest
    gl.useProgram(program);
    gl.uniform1i(where.u_atlas, 0);
    gl.uniform3f(where.u_mine, 0xe0 / 255, 0xb3 / 255, 0x6a / 255);  // --accent
    gl.uniform3f(where.u_match, 0.45, 0.85, 1.0);
    gl.clearColor(0x0c / 255, 0x0c / 255, 0x0e / 255, 1);
  }

  fill(buffers, data) {
    const gl = this.gl;
    gl.bindVertexArray(null);
    for (const name of ["pos", "rgba", "order"]) {
      gl.bindBuffer(gl.ARRAY_BUFFER, buffers[name]);
      gl.bufferData(gl.ARRAY_BUFFER, data[name], gl.STATIC_DRAW);
    }
    buffers.n = data.n;
  }

  upload(points) {
    this.flags(points);
  }

  // The flags changed: the colours' fourth byte for all, and the marks drawn over them.
  flags(points) {
    this.fill(this.all, vertices(points));
    const marked = [];
    for (let i = 0; i < points.count; i++) if (points.flags[i]) marked.push(i);
    this.fill(this.marks, vertices(points, marked));
  }

  texture(bitmap) {
    const gl = this.gl;
    const texture = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, bitmap);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    return texture;
  }

  // The map as a camera at ``view`` sees it: ``runs`` the [from, to) runs of points that may
  // be in view; ``pages`` the loaded atlas pages to draw, in order ({texture, first, from,
  // to, cell}); ``show`` the flags drawn as marks.
  draw(view, runs, pages, { size, show, dim }) {
    const { gl, where } = this;
    const width = this.canvas.width, height = this.canvas.height;
    gl.viewport(0, 0, width, height);
    gl.clear(gl.COLOR_BUFFER_BIT);
    if (!this.all.n) return;
    gl.useProgram(this.program);
    gl.uniform2f(where.u_center, view.x, view.y);
    gl.uniform1f(where.u_scale, view.scale * view.dpr);
    gl.uniform2f(where.u_view, width, height);
    gl.uniform1f(where.u_size, size);
    gl.uniform1f(where.u_dot, DOT_PX * view.dpr);
    gl.uniform1ui(where.u_show, show);
    gl.uniform1i(where.u_dim, dim ? 1 : 0);
    gl.uniform1i(where.u_pass, 0);
    // Dots up to a size as points (clipped by their centres, which a small dot never shows).
    const px = Math.max(size * view.scale * view.dpr, DOT_PX * view.dpr);
    if (px <= Math.min(POINT_PX * view.dpr, this.maxPoint)) {
      const d = this.dots.where;
      gl.useProgram(this.dots.program);
      gl.uniform2f(d.u_center, view.x, view.y);
      gl.uniform1f(d.u_scale, view.scale * view.dpr);
      gl.uniform2f(d.u_view, width, height);
      gl.uniform1f(d.u_px, px);
      gl.uniform1i(d.u_dim, dim ? 1 : 0);
      gl.bindVertexArray(this.all.pointVao);
      for (const [from, to] of runs) gl.drawArrays(gl.POINTS, from, to - from);
      gl.useProgram(this.program);
    } else {
      gl.bindVertexArray(this.all.vao);
      for (const [from, to] of runs) gl.drawArrays(gl.TRIANGLES, 6 * from, 6 * (to - from));
    }
    gl.bindVertexArray(this.all.vao);
    gl.uniform1i(where.u_pass, 1);
    gl.activeTexture(gl.TEXTURE0);
    for (const page of pages) {
      if (page.to <= page.from) continue;
      gl.bindTexture(gl.TEXTURE_2D, page.texture);
      gl.uniform1f(where.u_first, page.first);
      gl.uniform1f(where.u_per_row, PAGE / page.cell);
      gl.uniform1f(where.u_cell, page.cell);
      gl.drawArrays(gl.TRIANGLES, 6 * page.from, 6 * (page.to - page.from));
    }
    if (show && this.marks.n) {
      gl.uniform1i(where.u_pass, 2);
      gl.bindVertexArray(this.marks.vao);
      gl.drawArrays(gl.TRIANGLES, 0, 6 * this.marks.n);
    }
  }
}

// -- the page ----------------------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

const reducedMotion = matchMedia("(prefers-reduced-motion: reduce)");

class MapPage {
  constructor(root) {
    this.root = root;
    this.base = root.dataset.api;
    this.frame = root.querySelector("[data-map-frame]");
    this.canvas = root.querySelector("[data-map-canvas]");
    this.stateBox = root.querySelector("[data-map-state]");
    this.labelsBox = root.querySelector("[data-map-labels]");
    this.tip = root.querySelector("[data-map-tip]");
    this.offer = root.querySelector("[data-map-offer]");
    this.bred = root.querySelector("[data-map-bred]");
    this.said = root.querySelector("[data-map-said]");
    this.meta = null;
    this.points = null;
    this.grid = null;
    this.size = 0.01;
    this.view = { x: 0.5, y: 0.5, scale: 500, dpr: devicePixelRatio || 1 };
    this.textures = new Map();  // url -> {texture, cell, page, used, loading}
    this.inFlight = 0;
    this.works = new Map();     // order -> promise of {public_id, title, url, thumb}
    this.hover = -1;
    this.searching = false;
    this.showMine = true;
    this.frameAsked = false;
    this.motion = null;
    this.labels = [];
  }

  async start() {
    try {
      this.renderer = new Renderer(this.canvas);
    } catch (error) {
      console.warn(error);
      this.state(gettext("This browser cannot draw the map: it needs WebGL 2."), [this.listLink()]);
      return;
    }
    this.canvas.addEventListener("webglcontextlost", (event) => { event.preventDefault(); this.state(gettext("The map lost its drawing surface. Reload the page.")); });
    new ResizeObserver(() => this.resize()).observe(this.frame);
    this.resize();
    this.wire();
    await this.load();
  }

  // -- states ------------------------------------------------------------------------------

  state(text, actions = []) {
    this.stateBox.hidden = text === null;
    this.root.dataset.state = text === null ? "ready" : "waiting";
    if (text === null) return;
    this.stateBox.querySelector("[data-map-state-text]").textContent = text;
    this.stateBox.querySelector("[data-map-state-actions]").replaceChildren(...actions);
  }

  listLink() {
    return el("a", { href: this.root.querySelector(".map-list-link").href }, gettext("See the works as a list"));
  }

  async load() {
    let meta;
    try {
      meta = await api("GET", this.base);
    } catch (error) {
      const retry = el("button", { type: "button", class: "button small quiet" }, gettext("Try again"));
      retry.addEventListener("click", () => this.load());
      this.state(error.message, [retry]);
      this.poll(POLL_MS);
      return;
    }
    await this.take(meta);
  }

  async take(meta) {
    const old = this.meta;
    this.meta = meta;
    const count = this.root.querySelector("[data-map-count]");
    if (meta.layout === null || !meta.points) {  // no map yet (one may be under way)
      this.poll(meta.status === "building" ? POLL_BUILDING_MS : POLL_MS);
      if (this.points) return;
      if (meta.status === "building") {
        const progress = meta.progress === null || meta.progress === undefined ? ""
          : ` ${Math.round(100 * meta.progress)} %`;
        this.state(gettext("The map of this space is being drawn…") + progress, [this.listLink()]);
      } else {
        const actions = [this.listLink()];
        if ("staff" in this.root.dataset) {
          const build = el("button", { type: "button", class: "button small" }, gettext("Draw the map"));
          build.addEventListener("click", async () => {
            build.disabled = true;
            try {
              await api("POST", `${this.base}build/`, {});
              await this.load();
            } catch (error) {
              build.disabled = false;
              showError(error);
            }
          });
          actions.unshift(build);
        }
        this.state(gettext("This space has no map yet."), actions);
      }
      return;
    }
    count.textContent = interpolate(ngettext("%(count)s work", "%(count)s works", meta.works), { count: formatNumber(meta.works) });
    if (!old || old.layout !== meta.layout || old.state !== meta.state || !this.points) {
      await this.loadPoints(old && old.layout === meta.layout);
    }
    this.dropStaleTextures();
    this.showLabels();
    // a map being drawn anew: the one there is stays until the new one is ready
    this.poll(meta.status === "building" ? POLL_BUILDING_MS : POLL_MS);
  }

  poll(ms) {
    clearTimeout(this.polling);
    this.polling = setTimeout(async () => {
      if (document.hidden) { this.poll(ms); return; }
      try {
        await this.take(await api("GET", this.base));
      } catch {
        this.poll(ms);  // offline for a moment: the map stays as it is
      }
    }, ms);
  }

  async loadPoints(sameLayout) {
    let buffer;
    try {
      const response = await fetch(this.meta.points, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      buffer = await response.arrayBuffer();
    } catch {
      if (!this.points) {
        const retry = el("button", { type: "button", class: "button small quiet" }, gettext("Try again"));
        retry.addEventListener("click", () => this.load());
        this.state(gettext("The map's works could not be loaded. Try again."), [retry]);
      }
      return;
    }
    const points = readPoints(buffer);
    // what was marked stays marked (by order, stable within a layout)
    if (this.points && sameLayout) {
      for (let i = 0; i < this.points.count; i++) {
        const keep = this.points.flags[i] & (MINE | MATCH);
        if (!keep) continue;
        const j = points.index.get(this.points.order[i]);
        if (j !== undefined) points.flags[j] = keep;
      }
    }
    const first = !this.points;
    this.points = points;
    this.grid = buildGrid(points);
    this.size = quadSize(points, this.grid);
    this.root.dataset.size = String(this.size);
    this.root.dataset.works = String(points.count);
    this.hover = -1;
    this.renderer.upload(points);
    this.cached = null;
    if (!points.count) {
      this.state(gettext("No public work of this space is on the map yet."), [this.listLink()]);
      return;
    }
    this.state(null);
    if (first || !sameLayout) this.fit(false);
    // works came or went: yours and the search's matches asked again
    this.loadMine();
    if (this.searching) this.search(this.query);
    this.redraw();
  }

  async loadMine() {
    const button = this.root.querySelector("[data-map-mine]");
    if (!("user" in this.root.dataset) || !this.points) return;
    try {
      const { orders } = await api("GET", `${this.base}mine/`);
      this.mark(MINE, orders);
      if (button) {
        button.hidden = orders.length === 0;
        button.title = interpolate(ngettext("%(count)s of your works is on the map", "%(count)s of your works are on the map", orders.length), { count: formatNumber(orders.length) });
      }
    } catch {
      // not marked: the map is the same without
    }
  }

  mark(flag, orders) {
    const { points } = this;
    for (let i = 0; i < points.count; i++) points.flags[i] &= ~flag;
    let found = 0;
    for (const order of orders) {
      const i = points.index.get(order);
      if (i !== undefined) { points.flags[i] |= flag; found++; }
    }
    this.renderer.flags(points);
    if (this.cached) this.cached.dirty = true;
    this.redraw();
    return found;
  }

  dropStaleTextures() {
    const wanted = new Set();
    for (const level of Object.values(this.meta.atlas ?? {})) for (const page of level.pages) wanted.add(page.url);
    for (const [url, entry] of this.textures) {
      if (!wanted.has(url) && !entry.loading) {
        this.renderer.gl.deleteTexture(entry.texture);
        this.textures.delete(url);
      }
    }
  }

  // -- the camera ----------------------------------------------------------------------------

  resize() {
    const w = this.frame.clientWidth, h = this.frame.clientHeight;
    // the canvas: 1.5 times the frame each way (less on a large screen), at the screen's pixels
    // where the GPU and a memory budget allow
    const side = this.renderer.maxSide, dpr = devicePixelRatio || 1;
    let k = 1.5;
    while (k > 1.25 && k * w * dpr * k * h * dpr > CANVAS_PIXELS) k -= 0.125;
    this.canvasW = Math.round(k * w);
    this.canvasH = Math.round(k * h);
    this.canvasDpr = Math.max(0.25, Math.min(dpr, side / Math.max(1, this.canvasW), side / Math.max(1, this.canvasH),
      Math.sqrt(CANVAS_PIXELS / Math.max(1, this.canvasW * this.canvasH))));
    this.canvas.width = Math.max(1, Math.round(this.canvasW * this.canvasDpr));
    this.canvas.height = Math.max(1, Math.round(this.canvasH * this.canvasDpr));
    this.canvas.style.width = `${this.canvasW}px`;
    this.canvas.style.height = `${this.canvasH}px`;
    this.view.dpr = this.canvasDpr;
    this.width = w;
    this.height = h;
    this.cached = null;
    this.redraw();
  }

  limits() {
    const fit = this.fitScale();
    return [fit * 0.5, Math.max(fit * 2, 320 / this.size)];
  }

  fitScale() {
    const g = this.grid;
    if (!g) return this.view.scale;
    const pad = 48;
    return Math.min((this.width - pad) / Math.max(g.w + this.size, 1e-6), (this.height - pad) / Math.max(g.h + this.size, 1e-6));
  }

  fit(animate = true) {
    const g = this.grid;
    if (!g) return;
    this.go({ x: g.x0 + g.w / 2, y: g.y0 + g.h / 2, scale: this.fitScale() }, animate);
  }

  // The camera to ``to``, gliding there unless motion is unwelcome.
  go(to, animate = true) {
    const [lo, hi] = this.limits();
    to = { x: to.x, y: to.y, scale: Math.min(hi, Math.max(lo, to.scale)) };
    if (!animate || reducedMotion.matches) {
      this.motion = null;
      Object.assign(this.view, to);
      this.redraw();
      return;
    }
    this.motion = { from: { ...this.view }, to, start: performance.now(), ms: 450 };
    this.redraw();
  }

  // Zoom by ``factor`` keeping the point under (px, py) (CSS px in the frame) in place.
  zoomAt(factor, px = this.width / 2, py = this.height / 2) {
    this.motion = null;
    const v = this.view;
    const [lo, hi] = this.limits();
    const scale = Math.min(hi, Math.max(lo, v.scale * factor));
    const wx = v.x + (px - this.width / 2) / v.scale, wy = v.y + (py - this.height / 2) / v.scale;
    v.scale = scale;
    v.x = wx - (px - this.width / 2) / scale;
    v.y = wy - (py - this.height / 2) / scale;
    this.clamp();
    this.redraw();
  }

  panBy(dx, dy) {
    this.motion = null;
    this.view.x -= dx / this.view.scale;
    this.view.y -= dy / this.view.scale;
    this.clamp();
    this.redraw();
  }

  // Never lose the map off screen: its centre stays within the points' box.
  clamp() {
    const g = this.grid;
    if (!g) return;
    this.view.x = Math.min(g.x1, Math.max(g.x0, this.view.x));
    this.view.y = Math.min(g.y1, Math.max(g.y0, this.view.y));
  }

  toWorld(px, py) {
    const v = this.view;
    return [v.x + (px - this.width / 2) / v.scale, v.y + (py - this.height / 2) / v.scale];
  }

  toScreen(x, y) {
    const v = this.view;
    return [(x - v.x) * v.scale + this.width / 2, (y - v.y) * v.scale + this.height / 2];
  }

  // The work under (px, py), CSS px in the frame, or -1. ``slack``: px more around each.
  hit(px, py, slack = 0) {
    if (!this.grid || !this.points.count) return -1;
    const [x, y] = this.toWorld(px, py);
    const onScreen = Math.max(this.size * this.view.scale, DOT_PX);
    const r = (onScreen / 2 + slack) / this.view.scale;
    return this.grid.nearest(x, y, r);
  }

  // -- drawing -------------------------------------------------------------------------------

  redraw() {
    if (this.frameAsked) return;
    this.frameAsked = true;
    requestAnimationFrame((now) => this.frameAt(now));
  }

  frameAt(now) {
    this.frameAsked = false;
    if (this.motion) {
      const { from, to, start, ms } = this.motion;
      const t = Math.min(1, (now - start) / ms);
      const e = t < 0.5 ? 2 * t * t : 1 - (-2 * t + 2) ** 2 / 2;
      const ls = Math.log(from.scale) + (Math.log(to.scale) - Math.log(from.scale)) * e;
      this.view.scale = Math.exp(ls);
      this.view.x = from.x + (to.x - from.x) * e;
      this.view.y = from.y + (to.y - from.y) * e;
      if (t >= 1) this.motion = null; else this.redraw();
    }
    if (!this.points) { this.renderer.draw(this.view, [], [], { size: this.size, show: 0, dim: false }); return; }
    const pages = this.paint();
    this.placeRing();
    this.placeLabels();
    this.placeCursor();
    this.placePin();
    // What is drawn, for whoever looks from outside (tests, the frame-rate bench): the
    // detail, the cell size wanted, the atlas pages drawn and the camera.
    const data = this.root.dataset;
    data.detail = pages.length ? "pictures" : "dots";
    data.cell = String(this.wantedCell() ?? 0);
    data.pictures = String(pages.length);
    data.view = `${this.view.x} ${this.view.y} ${this.view.scale}`;
  }

  // The map on screen. The canvas is 1.5 times the frame's size each way and holds the map as
  // it was last drawn; moving and zooming move and scale the canvas (a CSS transform: the
  // compositor's work, no drawing) while it holds the view (up to CACHE_ZOOM closer), and
  // it is drawn again when it no longer does, when something in it changed, and sharp once
  // the view rests. A GPU draws 100k quads in a millisecond; software GL (SwiftShader, what
  // a machine without a GPU has) takes 100 ms or more, and then only now and then.
  paint() {
    const view = this.view;
    let c = this.cached;
    const ratio = c ? view.scale / c.scale : 1;
    const [vx0, vy0, vx1, vy1] = this.box(view, this.width, this.height, 0);
    // a canvas slow to draw (100k dots in software) is magnified further before it is
    const zoom = c && c.ms > SLOW_MS ? CACHE_ZOOM_SLOW : CACHE_ZOOM;
    const holds = c && !c.dirty && ratio <= zoom && vx0 >= c.box[0] && vy0 >= c.box[1]
      && vx1 <= c.box[2] && vy1 <= c.box[3];
    if (!holds) {
      const show = (this.showMine ? MINE : 0) | (this.searching ? MATCH : 0);
      c = this.cached = { x: view.x, y: view.y, scale: view.scale, box: this.box(view, this.canvasW, this.canvasH, 0) };
      const box = this.box(view, this.canvasW, this.canvasH);
      c.pages = this.pagesToDraw(box);
      const runs = this.runsInView(box);
      // a page's works that are in view only (a page of 16 px cells holds 16384)
      const pieces = c.pages.flatMap((page) => runs.map(([from, to]) => ({
        ...page, from: Math.max(from, page.from), to: Math.min(to, page.to) })).filter((p) => p.to > p.from));
      const started = performance.now();
      this.renderer.draw({ ...view, dpr: this.canvasDpr }, runs, pieces, { size: this.size, show, dim: this.searching });
      c.ms = performance.now() - started;  // the commands' time (the drawing itself may come after)
      if (runs.reduce((n, [from, to]) => n + to - from, 0) > SLOW_POINTS) c.ms = Math.max(c.ms, SLOW_MS + 1);
    }
    // the canvas's place: its centre where the camera it was drawn with now sees it
    const r = view.scale / c.scale;
    const tx = (c.x - view.x) * view.scale + this.width / 2 - r * this.canvasW / 2;
    const ty = (c.y - view.y) * view.scale + this.height / 2 - r * this.canvasH / 2;
    this.canvas.style.transform = `translate(${tx}px, ${ty}px) scale(${r})`;
    clearTimeout(this.sharpen);
    if (view.scale !== c.scale) this.sharpen = setTimeout(() => { c.dirty = true; this.redraw(); }, 200);
    return c.pages;
  }

  // The world box seen by a camera at ``view`` ``w`` x ``h`` CSS px, with ``margin``.
  box(view, w, h, margin = this.size) {
    const hw = w / 2 / view.scale, hh = h / 2 / view.scale;
    return [view.x - hw - margin, view.y - hh - margin, view.x + hw + margin, view.y + hh + margin];
  }

  // The runs of points (by index) that may be in view: those of the pages of the finest
  // atlas (a page is a compact place: the works are in Z order) whose box meets the view.
  runsInView(box) {
    const count = this.points.count;
    const cells = Object.keys(this.meta?.atlas ?? {}).map(Number).sort((a, b) => b - a);
    const level = cells.length ? this.meta.atlas[String(cells[0])] : null;
    if (!level || !level.pages.length) return [[0, count]];
    const [bx0, by0, bx1, by1] = box;
    const runs = [];
    const orders = this.points.order;
    level.pages.forEach((page, p) => {
      const b = page.bbox;
      if (b[0] > bx1 || b[2] < bx0 || b[1] > by1 || b[3] < by0) return;
      const from = p === 0 ? 0 : lowerBound(orders, p * level.per_page);
      const to = p === level.pages.length - 1 ? count : lowerBound(orders, (p + 1) * level.per_page);
      const last = runs[runs.length - 1];
      if (last && last[1] === from) last[1] = to; else if (to > from) runs.push([from, to]);
    });
    return runs;
  }

  // Which cell size suits the works' size on screen, or null while they are dots.
  wantedCell() {
    const px = this.size * this.view.scale;
    if (px < PICTURE_PX || !this.meta?.atlas) return null;
    const cells = (this.meta.cells ?? [16, 32, 64, 128]).filter((c) => this.meta.atlas[String(c)]);
    if (!cells.length) return null;
    return cells.find((c) => c >= px * this.view.dpr * 0.9) ?? cells[cells.length - 1];
  }

  // The loaded pages that meet the view, the wanted cell size last (on top), fetching
  // the wanted ones that are missing; fallbacks of other sizes drawn beneath meanwhile.
  pagesToDraw(box) {
    const cell = this.wantedCell();
    if (cell === null) return [];
    const [bx0, by0, bx1, by1] = box;
    const meets = (b) => b[0] <= bx1 && b[2] >= bx0 && b[1] <= by1 && b[3] >= by0;
    const now = performance.now();
    const want = [];
    const draw = [];
    for (const [key, level] of Object.entries(this.meta.atlas)) {
      const c = Number(key);
      level.pages.forEach((page, p) => {
        if (!meets(page.bbox)) return;
        const entry = this.textures.get(page.url);
        if (entry && !entry.loading) {
          entry.used = now;
          const first = p * level.per_page;
          draw.push({ texture: entry.texture, cell: c, first, rank: c === cell ? 99 : -Math.abs(Math.log2(c / cell)),
            from: lowerBound(this.points.order, first), to: lowerBound(this.points.order, first + level.per_page) });
        } else if (c === cell && !entry) {
          const [cx, cy] = [(page.bbox[0] + page.bbox[2]) / 2, (page.bbox[1] + page.bbox[3]) / 2];
          want.push({ url: page.url, cell: c, distance: Math.hypot(cx - this.view.x, cy - this.view.y) });
        }
      });
    }
    // Pages of a size are asked for once the view has wanted that size for a moment: while
    // the wheel turns through the sizes, what is loaded (or the dots) stands in, and no
    // page is fetched and uploaded (16 MiB each) only to be passed.
    if (this.wantedSince?.cell !== cell) this.wantedSince = { cell, at: now };
    if (now - this.wantedSince.at < SETTLE_MS) {
      clearTimeout(this.settling);
      this.settling = setTimeout(() => this.pagesToDraw(box), SETTLE_MS);  // fetches what is wanted then
      want.length = 0;
    }
    want.sort((a, b) => a.distance - b.distance);
    for (const w of want) {
      if (this.inFlight >= FETCHES) break;
      this.fetchPage(w.url, w.cell);
    }
    draw.sort((a, b) => a.rank - b.rank);
    return draw;
  }

  async fetchPage(url, cell) {
    const entry = { loading: true, cell, used: performance.now(), texture: null };
    this.textures.set(url, entry);
    this.inFlight++;
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      const bitmap = await createImageBitmap(await response.blob(), { premultiplyAlpha: "none", colorSpaceConversion: "none" });
      entry.texture = this.renderer.texture(bitmap);
      bitmap.close();
      entry.loading = false;
      entry.used = performance.now();
      if (this.cached) this.cached.dirty = true;
      this.evict();
    } catch {
      this.textures.delete(url);  // asked again when next wanted
      await new Promise((resolve) => setTimeout(resolve, 2000));
    } finally {
      this.inFlight--;
      this.redraw();
    }
  }

  evict() {
    const loaded = [...this.textures.entries()].filter(([, e]) => !e.loading).sort((a, b) => a[1].used - b[1].used);
    while (loaded.length > TEXTURES) {
      const [url, entry] = loaded.shift();
      this.renderer.gl.deleteTexture(entry.texture);
      this.textures.delete(url);
    }
  }

  // -- labels, the tooltip, the keyboard's cross ------------------------------------------

  showLabels() {
    const labels = this.meta.labels ?? [];
    const key = JSON.stringify(labels);
    if (key === this.labelsKey) return;
    this.labelsKey = key;
    this.labels = labels.map((label) => {
      const button = el("button", { type: "button", class: "map-label" }, label.text || gettext("Untitled"));
      button.setAttribute("aria-label", interpolate(gettext("Go to the place of works like %(title)s"), { title: label.text || gettext("Untitled") }));
      button.addEventListener("click", () => {
        if (this.dragged) { this.dragged = false; return; }  // the end of a drag that began on it
        this.go({ x: label.x, y: label.y, scale: 96 / this.size });
      });
      return { ...label, button, width: 0 };
    });
    this.labelsBox.replaceChildren(...this.labels.map((l) => l.button));
    for (const label of this.labels) label.width = label.button.offsetWidth;
    this.placedAt = null;
    this.redraw();
  }

  // Each label under its example (not over it: the example stays in view); one that would
  // overlap a denser region's label stays hidden.
  placeLabels() {
    if (!this.labels.length) return;
    const taken = [];
    const recount = this.placedAt !== this.view.scale;
    const below = Math.max(this.size * this.view.scale, DOT_PX) / 2 + 4;
    for (const label of this.labels) {
      const [sx, y] = this.toScreen(label.x, label.y);
      const sy = y + below;
      label.button.style.transform = `translate(${Math.round(sx)}px, ${Math.round(sy)}px) translate(-50%, 0)`;
      if (recount) {
        const box = [sx - label.width / 2 - 6, sy - 2, sx + label.width / 2 + 6, sy + 28];
        const clash = taken.some((t) => box[0] < t[2] && box[2] > t[0] && box[1] < t[3] && box[3] > t[1]);
        label.button.hidden = clash;
        if (!clash) taken.push(box);
      }
    }
    this.placedAt = this.view.scale;
  }

  work(order) {
    if (!this.works.has(order)) {
      const asked = api("GET", `${this.base}works/${order}/`);
      asked.catch(() => this.works.delete(order));
      this.works.set(order, asked);
    }
    return this.works.get(order);
  }

  // A ring around the work under the pointer (or the keyboard's cross).
  placeRing() {
    if (!this.ring) {
      this.ring = el("div", { class: "map-ring", "aria-hidden": "true" });
      this.labelsBox.before(this.ring);
    }
    const i = this.hover;
    this.ring.hidden = i < 0 || !this.points || i >= this.points.count;
    if (this.ring.hidden) return;
    const [sx, sy] = this.toScreen(this.points.xy[2 * i], this.points.xy[2 * i + 1]);
    const side = Math.max(this.size * this.view.scale, DOT_PX) + 6;
    this.ring.style.width = this.ring.style.height = `${side}px`;
    this.ring.style.transform = `translate(${sx - side / 2}px, ${sy - side / 2}px)`;
  }

  setHover(index, px, py) {
    const points = this.points;
    if (index !== this.hover) {
      this.hover = index;
      this.redraw();
    }
    if (index < 0) { this.tip.hidden = true; return; }
    const order = points.order[index];
    this.tipOrder = order;
    const title = this.tip.querySelector("[data-map-tip-title]");
    const img = this.tip.querySelector("[data-map-tip-img]");
    if (this.tip.hidden || this.tip.dataset.order !== String(order)) {
      this.tip.dataset.order = String(order);
      const [r, g, b] = points.rgba.subarray(4 * index, 4 * index + 3);
      img.style.backgroundColor = `rgb(${r} ${g} ${b})`;  // its colour until its picture comes
      img.removeAttribute("src");
      title.textContent = "…";
      this.work(order).then((work) => {
        if (this.tipOrder !== order) return;
        title.textContent = work.title || gettext("Untitled");
        if (work.thumb) img.src = work.thumb;
        this.said.textContent = title.textContent;
      }).catch(() => { if (this.tipOrder === order) title.textContent = gettext("This work is no longer public."); });
    }
    this.tip.hidden = false;
    const x = Math.min(px + 16, this.width - this.tip.offsetWidth - 8);
    const y = py + 16 + this.tip.offsetHeight > this.height ? py - this.tip.offsetHeight - 12 : py + 16;
    this.tip.style.transform = `translate(${Math.max(8, x)}px, ${Math.max(8, y)}px)`;
  }

  placeCursor() {
    if (!this.keyboard) return;
    const index = this.hit(this.width / 2, this.height / 2, 6);
    this.setHover(index, this.width / 2, this.height / 2);
  }

  // -- acting ----------------------------------------------------------------------------

  async open(index) {
    try {
      const work = await this.work(this.points.order[index]);
      location.href = work.url;
    } catch (error) {
      showError(error);
    }
  }

  // Clicked (tapped, Enter) at (px, py): the work there opens; an empty place offers a breed.
  act(px, py, touch = false) {
    this.closeOffer();
    const index = this.hit(px, py, touch ? 10 : 2);
    if (index >= 0) {
      // A finger on a speck cannot choose: bring the place closer first.
      if (touch && this.size * this.view.scale < PICTURE_PX) { this.zoomAt(3, px, py); return; }
      this.open(index);
      return;
    }
    // An empty place: no work within a finger's width either (there, which was meant?).
    if (this.hit(px, py, 12) >= 0 || !this.meta?.can_breed && "user" in this.root.dataset) return;
    // The map spans 0 to 1 each way: a place in the margin beyond its edge is bred at the
    // edge (the works nearest it are there), and marked there.
    const [x, y] = this.toWorld(px, py).map((v) => Math.min(1, Math.max(0, v)));
    const [sx, sy] = this.toScreen(x, y);
    this.offerAt(sx, sy, x, y);
  }

  offerAt(px, py, x, y) {
    this.place = { x, y };
    const user = "user" in this.root.dataset;
    this.offer.querySelector("[data-map-breed]").hidden = !user;
    this.offer.querySelector("[data-map-login]").hidden = user;
    this.offer.hidden = false;
    const w = this.offer.offsetWidth, h = this.offer.offsetHeight;
    const left = Math.min(Math.max(8, px - w / 2), this.width - w - 8);
    const top = py + 16 + h > this.height - 8 ? py - h - 16 : py + 16;
    this.offer.style.transform = `translate(${Math.round(left)}px, ${Math.round(Math.max(8, top))}px)`;
    this.marker(px, py);
    (user ? this.offer.querySelector("[data-map-breed]") : this.offer.querySelector("[data-map-login]")).focus({ preventScroll: true });
  }

  marker(px, py) {
    if (!this.pin) {
      this.pin = el("div", { class: "map-pin", "aria-hidden": "true" });
      this.labelsBox.after(this.pin);
    }
    this.pinAt = this.toWorld(px, py);
    this.pin.hidden = false;
    this.placePin();
  }

  placePin() {
    if (!this.pin || this.pin.hidden) return;
    const [sx, sy] = this.toScreen(...this.pinAt);
    this.pin.style.transform = `translate(${Math.round(sx)}px, ${Math.round(sy)}px)`;
  }

  closeOffer() {
    this.offer.hidden = true;
    if (this.pin && this.bred.hidden) this.pin.hidden = true;
  }

  async breed() {
    const button = this.offer.querySelector("[data-map-breed]");
    button.disabled = true;
    button.textContent = gettext("Breeding…");
    const grid = this.bred.querySelector("[data-map-bred-grid]");
    try {
      const body = { x: this.place.x, y: this.place.y, n: 8 };
      const answer = await apiWorks(`${this.base}breed/`, body, 256);
      const made = Array.isArray(answer) ? answer : answer.works;
      this.offer.hidden = true;
      grid.replaceChildren(...made.map((work) => {
        const img = el("img", { alt: work.title || gettext("Untitled"), width: "256", height: "256", loading: "eager" });
        img.src = work.images["256"];
        return el("a", { href: pageUrl(`/studio/${work.id}/`), class: "map-bred-work" }, img);
      }));
      this.bred.querySelector("[data-map-bred-text]").textContent = interpolate(ngettext(
        "%(count)s new picture, blended from the works around this place. It is a draft in your studio.",
        "%(count)s new pictures, blended from the works around this place. They are drafts in your studio.",
        made.length), { count: formatNumber(made.length) });
      if (made[0]) this.bred.querySelector("[data-map-bred-studio]").href = pageUrl(`/studio/${made[0].id}/`);
      this.bred.hidden = false;
      this.root.dataset.bred = String(made.length);
      this.bred.querySelector("[data-map-bred-close]").focus({ preventScroll: true });
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = false;
      button.textContent = gettext("Breed here");
    }
  }

  async search(q) {
    this.query = q;
    const found = this.root.querySelector("[data-map-found]");
    const asked = (this.asked = (this.asked ?? 0) + 1);
    if (q.length < 2) {
      this.searching = false;
      this.matches = [];
      found.textContent = "";
      if (this.points) this.mark(MATCH, []);
      return;
    }
    try {
      const { orders } = await api("GET", `${this.base}search/?${new URLSearchParams({ q })}`);
      if (asked !== this.asked || !this.points) return;
      this.searching = true;
      const n = this.mark(MATCH, orders);
      this.matches = orders;
      found.textContent = n ? interpolate(ngettext("%(count)s work", "%(count)s works", n), { count: formatNumber(n) })
        : gettext("No title on the map has that in it");
    } catch (error) {
      showError(error);
    }
  }

  // The view to fit the matches of the search.
  showMatches() {
    const { points } = this;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let i = 0; i < points.count; i++) {
      if (!(points.flags[i] & MATCH)) continue;
      const x = points.xy[2 * i], y = points.xy[2 * i + 1];
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
    if (x0 === Infinity) return;
    const w = x1 - x0 + 4 * this.size, h = y1 - y0 + 4 * this.size;
    this.go({ x: (x0 + x1) / 2, y: (y0 + y1) / 2, scale: Math.min(this.width / w, this.height / h, 128 / this.size) });
  }

  // -- input -----------------------------------------------------------------------------

  wire() {
    const frame = this.frame;
    const pointers = new Map();
    let gesture = null;
    const local = (event) => {
      const r = frame.getBoundingClientRect();
      return [event.clientX - r.left, event.clientY - r.top];
    };
    // The map itself, and its labels: a drag or a pinch may start on a label (a tap on one
    // is the label's own click); the other overlays let events through.
    const onMap = (event) => event.target === this.canvas || Boolean(event.target.closest?.(".map-label"));
    frame.addEventListener("pointerdown", (event) => {
      if (!onMap(event) || event.button > 0) return;
      this.keyboard = false;
      this.dragged = false;
      frame.classList.remove("keyboard");
      frame.classList.add("moved");
      const onLabel = event.target !== this.canvas;
      try {
        if (!onLabel) frame.setPointerCapture(event.pointerId);
      } catch {
        // a pointer the browser does not know (made by a script): followed all the same
      }
      pointers.set(event.pointerId, local(event));
      const [px, py] = local(event);
      gesture = pointers.size === 1 ? { px, py, moved: 0, time: performance.now(), touch: event.pointerType !== "mouse", onLabel }
        : { moved: 99 };
      frame.classList.add("dragging");
    });
    frame.addEventListener("pointermove", (event) => {
      const now = local(event);
      if (!pointers.has(event.pointerId)) {
        if (event.pointerType === "mouse" && event.target === this.canvas && this.points) this.setHover(this.hit(...now, 2), ...now);
        return;
      }
      const before = pointers.get(event.pointerId);
      if (pointers.size === 1) {
        this.panBy(now[0] - before[0], now[1] - before[1]);
        if (gesture) gesture.moved += Math.hypot(now[0] - before[0], now[1] - before[1]);
      } else if (pointers.size === 2) {
        const [other] = [...pointers.entries()].filter(([id]) => id !== event.pointerId).map(([, p]) => p);
        const d0 = Math.hypot(before[0] - other[0], before[1] - other[1]);
        const d1 = Math.hypot(now[0] - other[0], now[1] - other[1]);
        const m0 = [(before[0] + other[0]) / 2, (before[1] + other[1]) / 2];
        const m1 = [(now[0] + other[0]) / 2, (now[1] + other[1]) / 2];
        if (d0 > 0) this.zoomAt(d1 / d0, m0[0], m0[1]);
        this.panBy(m1[0] - m0[0], m1[1] - m0[1]);
      }
      pointers.set(event.pointerId, now);
      this.tip.hidden = true;
    });
    const up = (event) => {
      if (!pointers.has(event.pointerId)) return;
      pointers.delete(event.pointerId);
      if (pointers.size === 0) frame.classList.remove("dragging");
      if (gesture && pointers.size === 0) this.dragged = gesture.moved >= 6;
      if (event.type === "pointerup" && gesture && pointers.size === 0 && !this.dragged && !gesture.onLabel
          && performance.now() - gesture.time < 600) {
        this.act(gesture.px, gesture.py, gesture.touch);
      }
      if (pointers.size === 0) gesture = null;
    };
    frame.addEventListener("pointerup", up);
    frame.addEventListener("pointercancel", up);
    frame.addEventListener("pointerleave", (event) => { if (event.pointerType === "mouse" && !pointers.size) this.setHover(-1); });
    frame.addEventListener("wheel", (event) => {
      if (!onMap(event)) return;
      event.preventDefault();
      frame.classList.add("moved");
      const unit = event.deltaMode === 1 ? 40 : event.deltaMode === 2 ? 800 : 1;
      const [px, py] = local(event);
      this.zoomAt(Math.exp(-event.deltaY * unit * 0.002), px, py);
      this.closeOffer();
    }, { passive: false });
    frame.addEventListener("keydown", (event) => {
      if (event.target !== frame) return;
      const step = Math.min(this.width, this.height) * 0.2;
      const keys = {
        ArrowLeft: () => this.panBy(step, 0), ArrowRight: () => this.panBy(-step, 0),
        ArrowUp: () => this.panBy(0, step), ArrowDown: () => this.panBy(0, -step),
        "+": () => this.zoomAt(1.5), "=": () => this.zoomAt(1.5), "-": () => this.zoomAt(1 / 1.5),
        0: () => this.fit(), Enter: () => this.act(this.width / 2, this.height / 2), Escape: () => this.closeOffer(),
      };
      if (!(event.key in keys) || event.ctrlKey || event.metaKey || event.altKey) return;
      event.preventDefault();
      this.keyboard = true;
      frame.classList.add("keyboard");
      keys[event.key]();
    });
    frame.addEventListener("focus", () => {
      if (frame.matches(":focus-visible")) { this.keyboard = true; frame.classList.add("keyboard"); this.redraw(); }
    });
    frame.addEventListener("blur", () => {
      this.keyboard = false;
      frame.classList.remove("keyboard");
      this.setHover(-1);
    });
    for (const button of this.root.querySelectorAll("[data-map-zoom]")) {
      button.addEventListener("click", () => {
        frame.classList.add("moved");
        const how = button.dataset.mapZoom;
        if (how === "fit") this.fit();
        else {
          const from = this.motion ? this.motion.to : this.view;  // clicks in a row add up
          this.go({ x: from.x, y: from.y, scale: from.scale * (how === "in" ? 2 : 0.5) });
        }
      });
    }
    this.offer.querySelector("[data-map-offer-close]").addEventListener("click", () => { this.closeOffer(); frame.focus(); });
    this.offer.querySelector("[data-map-breed]").addEventListener("click", () => this.breed());
    this.offer.addEventListener("keydown", (event) => { if (event.key === "Escape") { this.closeOffer(); frame.focus(); } });
    const closeBred = () => {
      this.bred.hidden = true;
      if (this.pin) this.pin.hidden = true;
      frame.focus();
    };
    this.bred.querySelector("[data-map-bred-close]").addEventListener("click", closeBred);
    this.bred.addEventListener("keydown", (event) => { if (event.key === "Escape") closeBred(); });
    const mine = this.root.querySelector("[data-map-mine]");
    mine?.addEventListener("click", () => {
      this.showMine = !this.showMine;
      mine.setAttribute("aria-pressed", String(this.showMine));
      if (this.cached) this.cached.dirty = true;
      this.redraw();
    });
    const form = this.root.querySelector("[data-map-search]");
    const input = form.querySelector("input");
    let typing = null;
    input.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => this.search(input.value.trim()), 250);
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearTimeout(typing);
      await this.search(input.value.trim());
      if (this.searching) this.showMatches();
    });
  }
}

if (root) new MapPage(root).start();
