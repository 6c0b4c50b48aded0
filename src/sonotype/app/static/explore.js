// Explore: a WebGL scatter of a reduction or embedding set (smooth with 200,000 points),
// coloured by any column; hover, lasso or box selection, snippets, bulk labels, similarity
// and the exemplar catalogue.
import { $, api, status, labels, rgb, colour, fmt } from "./common.js";
import { openRecording, view } from "./view.js";

export const scatter = {
  set: null, n: 0, xy: null, codes: null, categories: [], selected: [], chosen: new Set(),
  cx: 0, cy: 0, k: 1, fit: [1, 1, 0, 0], gl: null, frames: [],
};
window.scatter = scatter;  // the browser tests and the benchmark read it

export async function initExplore() {
  const sets = await api("api/explore/sets");
  const select = $("#set");
  select.replaceChildren(...sets.map((s) => new Option(`${s.id} (${s.n})`, s.id)));
  select.onchange = () => loadSet(select.value);
  $("#colour-by").onchange = () => loadColours();
  $("#label-selection").onclick = labelSelection;
  $("#exemplars").onclick = showExemplars;
  const overlay = $("#scatter-overlay");
  overlay.addEventListener("mousedown", onDown);
  overlay.addEventListener("mousemove", onHover);
  overlay.addEventListener("mouseleave", () => { $("#hover").hidden = true; });
  overlay.addEventListener("wheel", onWheel, { passive: false });
  if (sets.length && !scatter.set) await loadSet(sets[0].id);
}

export async function loadSet(id) {
  scatter.set = id;
  status(`loading ${id}...`);
  const [buffer, meta] = await Promise.all([
    api(`api/explore/${encodeURIComponent(id)}/points`),
    api(`api/explore/${encodeURIComponent(id)}/columns`),
  ]);
  setPoints(new Float32Array(buffer));
  scatter.meta = meta;
  const colourBy = $("#colour-by");
  const previous = colourBy.value;
  colourBy.replaceChildren(...Object.keys(meta.columns).map((c) => new Option(c, c)));
  const annotated = (meta.columns.annotated || []).filter((c) => c !== "").length > 0;
  colourBy.value = meta.columns[previous] ? previous : meta.columns.cluster ? "cluster" : annotated ? "annotated" : "label";
  await loadColours();
  status(`${id}: ${scatter.n} points`);
}

// Points can also be set directly (the benchmark draws 200,000 synthetic ones).
export function setPoints(xy, codes = null, categories = null) {
  scatter.xy = xy;
  scatter.n = xy.length / 2;
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < scatter.n; i++) {
    const x = xy[2 * i], y = xy[2 * i + 1];
    if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
  }
  const sx = 1.9 / Math.max(x1 - x0, 1e-9), sy = 1.9 / Math.max(y1 - y0, 1e-9);
  scatter.fit = [sx, sy, (x0 + x1) / 2, (y0 + y1) / 2];
  scatter.cx = 0; scatter.cy = 0; scatter.k = 1;
  scatter.selected = [];
  scatter.chosen.clear();
  initGL();
  upload("pos", xy);
  if (codes) setColours(codes, categories);
}

async function loadColours() {
  const column = $("#colour-by").value;
  const set = encodeURIComponent(scatter.set);
  // Categories change with edits (a new label): fetch them with the codes.
  const [buffer, meta] = await Promise.all([
    api(`api/explore/${set}/codes/${encodeURIComponent(column)}`), api(`api/explore/${set}/columns`)]);
  scatter.meta = meta;
  setColours(new Int32Array(buffer), meta.columns[column]);
}

function setColours(codes, categories) {
  scatter.codes = codes;
  scatter.categories = categories;
  const table = categories.map((c) => (c === "" || c === "-1" ? [200, 200, 200] : rgb(c)));
  const colours = new Uint8Array(scatter.n * 3);
  for (let i = 0; i < scatter.n; i++) colours.set(table[codes[i]], 3 * i);
  upload("col", colours);
  $("#legend").replaceChildren(...categories.slice(0, 60).map((c) => {
    const row = document.createElement("div");
    const swatch = document.createElement("span");
    swatch.style.background = c === "" ? "#ccc" : colour(c);
    row.append(swatch, c === "" ? "(none)" : c);
    return row;
  }));
  draw();
}

// -- WebGL (a 2-D canvas where WebGL is missing) ---------------------------------------------

const VERTEX = `attribute vec2 pos; attribute vec3 col; uniform vec4 fit; uniform vec3 view;
uniform float size; varying vec3 c;
void main() { vec2 p = (pos - fit.zw) * fit.xy; p = (p - view.xy) * view.z;
  gl_Position = vec4(p, 0.0, 1.0); gl_PointSize = size; c = col; }`;
const FRAGMENT = `precision mediump float; varying vec3 c; uniform float alpha;
void main() { vec2 d = gl_PointCoord - vec2(0.5); if (dot(d, d) > 0.25) discard;
  gl_FragColor = vec4(c, alpha); }`;

function initGL() {
  if (scatter.gl !== null) return;
  const canvas = $("#scatter");
  const gl = canvas.getContext("webgl", { antialias: false, preserveDrawingBuffer: true });
  if (!gl) { scatter.gl = false; return; }
  const shader = (type, source) => {
    const s = gl.createShader(type);
    gl.shaderSource(s, source);
    gl.compileShader(s);
    return s;
  };
  const program = gl.createProgram();
  gl.attachShader(program, shader(gl.VERTEX_SHADER, VERTEX));
  gl.attachShader(program, shader(gl.FRAGMENT_SHADER, FRAGMENT));
  gl.linkProgram(program);
  gl.useProgram(program);
  scatter.gl = gl;
  scatter.program = program;
  scatter.buffers = { pos: gl.createBuffer(), col: gl.createBuffer(), sel: gl.createBuffer() };
  gl.enable(gl.BLEND);
  gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
}

function upload(name, data) {
  const gl = scatter.gl;
  if (!gl) { scatter[name + "Data"] = data; return; }
  gl.bindBuffer(gl.ARRAY_BUFFER, scatter.buffers[name]);
  gl.bufferData(gl.ARRAY_BUFFER, data, gl.STATIC_DRAW);
}

// Frame intervals while panning, for benchmarks/app.py.
let panPending = false;
function panFrame() {
  if (panPending) return;
  panPending = true;
  requestAnimationFrame((t) => {
    panPending = false;
    if (scatter.lastPan !== undefined && t - scatter.lastPan < 1000) scatter.panFrames.push(t - scatter.lastPan);
    scatter.lastPan = t;
  });
}
scatter.panFrames = [];

let pending = false;
export function draw() {
  if (pending) return;
  pending = true;
  requestAnimationFrame((t) => {
    pending = false;
    const last = scatter.lastFrame;
    scatter.lastFrame = t;
    if (last !== undefined) scatter.frames.push(t - last);
    if (scatter.frames.length > 1000) scatter.frames.shift();
    paint();
  });
}

function paint() {
  const canvas = $("#scatter");
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  const overlay = $("#scatter-overlay");
  if (overlay.width !== w || overlay.height !== h) { overlay.width = w; overlay.height = h; }
  const gl = scatter.gl;
  if (!gl) return paint2d(canvas);
  gl.viewport(0, 0, w, h);
  gl.clearColor(1, 1, 1, 1);
  gl.clear(gl.COLOR_BUFFER_BIT);
  const p = scatter.program;
  const [sx, sy, ox, oy] = scatter.fit;
  const aspect = w / Math.max(h, 1);
  gl.uniform4f(gl.getUniformLocation(p, "fit"), sx / Math.max(aspect, 1), sy * Math.min(aspect, 1), ox, oy);
  gl.uniform3f(gl.getUniformLocation(p, "view"), scatter.cx, scatter.cy, scatter.k);
  const pos = gl.getAttribLocation(p, "pos"), col = gl.getAttribLocation(p, "col");
  gl.bindBuffer(gl.ARRAY_BUFFER, scatter.buffers.pos);
  gl.enableVertexAttribArray(pos);
  gl.vertexAttribPointer(pos, 2, gl.FLOAT, false, 0, 0);
  gl.bindBuffer(gl.ARRAY_BUFFER, scatter.buffers.col);
  gl.enableVertexAttribArray(col);
  gl.vertexAttribPointer(col, 3, gl.UNSIGNED_BYTE, true, 0, 0);
  const size = Math.min(12, Math.max(2, 3 * Math.sqrt(scatter.k) * (scatter.n > 50000 ? 0.7 : 1.6)));
  gl.uniform1f(gl.getUniformLocation(p, "size"), size);
  gl.uniform1f(gl.getUniformLocation(p, "alpha"), scatter.n > 50000 ? 0.6 : 0.9);
  gl.drawArrays(gl.POINTS, 0, scatter.n);
  if (scatter.selected.length) {
    // Selected points again, larger and dark, over the others.
    const xy = new Float32Array(scatter.selected.length * 2);
    scatter.selected.forEach((r, i) => { xy[2 * i] = scatter.xy[2 * r]; xy[2 * i + 1] = scatter.xy[2 * r + 1]; });
    gl.bindBuffer(gl.ARRAY_BUFFER, scatter.buffers.sel);
    gl.bufferData(gl.ARRAY_BUFFER, xy, gl.DYNAMIC_DRAW);
    gl.vertexAttribPointer(pos, 2, gl.FLOAT, false, 0, 0);
    gl.disableVertexAttribArray(col);
    gl.vertexAttrib3f(col, 0, 0, 0);
    gl.uniform1f(gl.getUniformLocation(p, "size"), size + 3);
    gl.uniform1f(gl.getUniformLocation(p, "alpha"), 1);
    gl.drawArrays(gl.POINTS, 0, scatter.selected.length);
  }
}

function paint2d(canvas) {
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const colours = scatter.colData;
  for (let i = 0; i < scatter.n; i++) {
    const [x, y] = toScreen(i);
    ctx.fillStyle = colours ? `rgb(${colours[3 * i]},${colours[3 * i + 1]},${colours[3 * i + 2]})` : "#333";
    ctx.fillRect(x - 1.5, y - 1.5, 3, 3);
  }
  ctx.fillStyle = "#000";
  for (const r of scatter.selected) { const [x, y] = toScreen(r); ctx.fillRect(x - 3, y - 3, 6, 6); }
}

// Data to screen pixels (the same transform as the vertex shader).
export function toScreen(i) {
  const canvas = $("#scatter");
  const w = canvas.clientWidth, h = canvas.clientHeight, aspect = w / Math.max(h, 1);
  const [sx, sy, ox, oy] = scatter.fit;
  const nx = ((scatter.xy[2 * i] - ox) * sx / Math.max(aspect, 1) - scatter.cx) * scatter.k;
  const ny = ((scatter.xy[2 * i + 1] - oy) * sy * Math.min(aspect, 1) - scatter.cy) * scatter.k;
  return [(nx + 1) / 2 * w, (1 - ny) / 2 * h];
}
window.scatterToScreen = toScreen;
// For benchmarks/app.py: draw given points, and paint one frame at once.
window.scatterSetPoints = setPoints;
window.scatterPaint = paint;

// -- pan, zoom, hover, select ----------------------------------------------------------------

function tool() { return document.querySelector('input[name="tool"]:checked').value; }

function onWheel(ev) {
  ev.preventDefault();
  scatter.k = Math.max(0.2, Math.min(500, scatter.k * (ev.deltaY > 0 ? 0.85 : 1.18)));
  draw();
}

function onDown(ev) {
  const overlay = $("#scatter-overlay");
  const rect = overlay.getBoundingClientRect();
  const ctx = overlay.getContext("2d");
  const start = [ev.clientX - rect.left, ev.clientY - rect.top];
  const path = [start];
  const mode = tool();
  let moved = false;
  const move = (m) => {
    const p = [m.clientX - rect.left, m.clientY - rect.top];
    if (Math.hypot(p[0] - start[0], p[1] - start[1]) > 3) moved = true;
    if (mode === "pan") {
      // While dragging, move the drawn picture (the compositor does it, whatever the number
      // of points); the points are drawn again where they belong on release.
      path.push(p);
      $("#scatter").style.transform = `translate(${p[0] - start[0]}px, ${p[1] - start[1]}px)`;
      panFrame();
      return;
    }
    path.push(p);
    ctx.clearRect(0, 0, overlay.width, overlay.height);
    ctx.strokeStyle = "#06c";
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    if (mode === "box") ctx.rect(start[0], start[1], p[0] - start[0], p[1] - start[1]);
    else { ctx.moveTo(...path[0]); path.forEach((q) => ctx.lineTo(...q)); ctx.closePath(); }
    ctx.stroke();
  };
  const up = () => {
    window.removeEventListener("mousemove", move);
    window.removeEventListener("mouseup", up);
    ctx.clearRect(0, 0, overlay.width, overlay.height);
    if (mode === "pan" && moved) {
      const end = path[path.length - 1];
      scatter.cx -= ((end[0] - start[0]) / rect.width) * 2 / scatter.k;
      scatter.cy += ((end[1] - start[1]) / rect.height) * 2 / scatter.k;
      paint();
      $("#scatter").style.transform = "";
      return;
    }
    if (!moved) { const i = nearest(start[0], start[1]); if (i >= 0) showSimilar(i); return; }
    if (mode === "pan") return;
    const end = path[path.length - 1];
    const polygon = mode === "box"
      ? [start, [end[0], start[1]], end, [start[0], end[1]]] : path;
    select(pointsIn(polygon));
  };
  window.addEventListener("mousemove", move);
  window.addEventListener("mouseup", up);
}

export function pointsIn(polygon) {
  const inside = [];
  for (let i = 0; i < scatter.n; i++) {
    const [x, y] = toScreen(i);
    let c = false;
    for (let a = 0, b = polygon.length - 1; a < polygon.length; b = a++) {
      const [xa, ya] = polygon[a], [xb, yb] = polygon[b];
      if ((ya > y) !== (yb > y) && x < ((xb - xa) * (y - ya)) / (yb - ya) + xa) c = !c;
    }
    if (c) inside.push(i);
  }
  return inside;
}

function nearest(x, y, within = 8) {
  let best = -1, bestD = within * within;
  for (let i = 0; i < scatter.n; i++) {
    const [px, py] = toScreen(i);
    const d = (px - x) ** 2 + (py - y) ** 2;
    if (d < bestD) { bestD = d; best = i; }
  }
  return best;
}

let hoverPending = false;
function onHover(ev) {
  if (ev.buttons || hoverPending || !scatter.set) return;
  hoverPending = true;
  requestAnimationFrame(async () => {
    hoverPending = false;
    const rect = $("#scatter-overlay").getBoundingClientRect();
    const x = ev.clientX - rect.left, y = ev.clientY - rect.top;
    const i = nearest(x, y);
    const hover = $("#hover");
    if (i < 0) { hover.hidden = true; return; }
    if (hover.dataset.row !== String(i)) {
      hover.dataset.row = String(i);
      const [row] = await rows([i]);
      hover.replaceChildren(snippetImage(row), `${row.label} · ${row.annotated || "-"} · ${row.recording} ${fmt(row.start_s)} s`);
    }
    Object.assign(hover.style, { left: `${x + 12}px`, top: `${y + 12}px` });
    hover.hidden = false;
  });
}

async function rows(list) {
  if (!list.length) return [];
  return api(`api/explore/${encodeURIComponent(scatter.set)}/rows?i=${list.join(",")}`);
}

function snippetImage(row) {
  const img = document.createElement("img");
  const pad = 0.05;
  const start = Math.max(0, row.start_s - pad), stop = Math.max(row.stop_s, row.start_s + 0.05) + pad;
  img.src = `api/recordings/${row.recording_id}/spectrogram.png?start_s=${start.toFixed(4)}&stop_s=${stop.toFixed(4)}&channel=${row.channel}&width=200`;
  img.alt = row.label;
  return img;
}

function playRow(row) {
  const rec = view.recordings.find((r) => r.id === row.recording_id);
  const slow = rec && rec.sr > 96000 ? 10 : 1;
  const stop = Math.max(row.stop_s, row.start_s + 0.05);
  const audio = new Audio(`api/recordings/${row.recording_id}/audio.wav?start_s=${row.start_s}&stop_s=${stop}&channel=${row.channel}&slow=${slow}`);
  window.lastAudio = audio;
  audio.play().catch((e) => status(`cannot play: ${e.message}`, true));
}

async function jump(row) {
  document.querySelector('nav button[data-tab="view"]').click();
  const span = Math.max(2, (row.stop_s - row.start_s) * 4);
  await openRecording(row.recording_id, row.start_s - span / 2 + (row.stop_s - row.start_s) / 2, span);
}

function snippet(row) {
  const div = document.createElement("div");
  div.className = "snippet";
  div.dataset.row = row.row;
  const play = Object.assign(document.createElement("button"), { textContent: "▶", title: "play" });
  play.onclick = (e) => { e.stopPropagation(); playRow(row); };
  const open = Object.assign(document.createElement("button"), { textContent: "open", title: "show in the recording view" });
  open.onclick = (e) => { e.stopPropagation(); jump(row); };
  const text = document.createElement("div");
  text.textContent = `${row.label}${row.annotated ? " → " + row.annotated : ""} · ${row.recording.split("/").pop()} ${fmt(row.start_s)}`;
  div.append(snippetImage(row), play, open, text);
  div.onclick = () => {
    scatter.chosen.has(row.row) ? scatter.chosen.delete(row.row) : scatter.chosen.add(row.row);
    div.classList.toggle("chosen");
  };
  return div;
}

export async function select(list) {
  scatter.selected = list;
  scatter.chosen.clear();
  $("#selection-text").textContent = `${list.length} selected`;
  draw();
  const shown = await rows(list.slice(0, 60));
  $("#grid").replaceChildren(...shown.map(snippet));
}

async function labelSelection() {
  const chosen = [...scatter.chosen];
  const target = chosen.length ? chosen : scatter.selected;
  if (!target.length) { status("select points first (lasso or box)", true); return; }
  if (!labels.current) { status("choose a label first", true); return; }
  const done = await api(`api/explore/${encodeURIComponent(scatter.set)}/label`, { method: "POST", json: { rows: target, label: labels.current } });
  status(done.edit.description);
  await loadColours();
  await select(scatter.selected);
}

async function showSimilar(i) {
  const near = await api(`api/explore/${encodeURIComponent(scatter.set)}/similar?row=${i}&k=20`);
  const info = await rows(near.map((n) => n.row));
  const table = document.createElement("table");
  table.innerHTML = "<tr><th>row</th><th>distance</th><th>label</th><th>annotated</th><th>recording</th><th>start (s)</th><th></th></tr>";
  info.forEach((row, k) => {
    const tr = table.insertRow();
    for (const v of [row.row, near[k].distance.toFixed(3), row.label, row.annotated, row.recording, fmt(row.start_s)]) tr.insertCell().textContent = v;
    const b = Object.assign(document.createElement("button"), { textContent: "▶" });
    b.onclick = () => playRow(row);
    tr.insertCell().append(b);
  });
  const title = Object.assign(document.createElement("b"), { textContent: `Nearest to row ${i}` });
  $("#similar").replaceChildren(title, table);
  scatter.selected = near.map((n) => n.row);
  draw();
}

async function showExemplars() {
  const column = $("#colour-by").value;
  const catalogue = await api(`api/explore/${encodeURIComponent(scatter.set)}/exemplars?column=${encodeURIComponent(column)}&per_category=6`);
  const grid = $("#grid");
  grid.replaceChildren();
  for (const [category, list] of Object.entries(catalogue)) {
    const head = Object.assign(document.createElement("div"), { textContent: `${column} ${category}` });
    head.style.gridColumn = "1 / -1";
    head.style.fontWeight = "bold";
    grid.append(head, ...(await rows(list)).map(snippet));
  }
}

export function exploreKeys() { return false; }
