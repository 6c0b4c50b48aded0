// The recording view: spectrogram and waveform of a span, events drawn over them, pan and
// zoom, playback with a moving cursor, and annotation (drag, click, double-click, keys).
import { $, api, status, labels, colour, chooseLabel, fmt } from "./common.js";

const KINDS = ["annotated", "detected", "predicted", "missed", "mistaken", "clustered"];
// The server serves at most this many seconds at once (MAX_SPAN_S).
const MAX_SPAN_S = 600;
export const view = {
  recordings: [], rec: null, start: 0, dur: 5, events: [], selected: null,
  hidden: new Set(["clustered"]), audio: null,
};

const px = () => $("#spectrogram").clientWidth || 800;
const py = () => $("#spectrogram").clientHeight || 300;
const nyquist = () => view.rec.sr / 2;
const timeAt = (x) => view.start + (x / px()) * view.dur;
const freqAt = (y) => nyquist() * (1 - y / py());
const xOf = (t) => ((t - view.start) / view.dur) * px();
const yOf = (f) => (1 - f / nyquist()) * py();

export async function initView() {
  view.recordings = await api("api/recordings");
  const select = $("#recording");
  select.replaceChildren(...view.recordings.map((r) => new Option(r.path, r.id)));
  select.onchange = () => openRecording(Number(select.value));
  const kinds = $("#kind-filters");
  for (const kind of KINDS) {
    const label = document.createElement("label");
    const box = Object.assign(document.createElement("input"), { type: "checkbox", checked: !view.hidden.has(kind) });
    box.dataset.kind = kind;
    box.onchange = () => { box.checked ? view.hidden.delete(kind) : view.hidden.add(kind); drawEvents(); };
    label.append(box, " " + kind + " ");
    kinds.append(label);
  }
  $("#label-filter").onchange = drawEvents;
  $("#source-filter").onchange = drawEvents;
  $("#channel").onchange = () => render();
  $("#zoom-in").onclick = () => zoom(0.5);
  $("#zoom-out").onclick = () => zoom(2);
  $("#pan-left").onclick = () => pan(-0.25);
  $("#pan-right").onclick = () => pan(0.25);
  $("#play").onclick = () => play();
  $("#spectrogram").addEventListener("wheel", onWheel, { passive: false });
  $("#spectrogram").addEventListener("mousedown", onMouseDown);
  labels.listeners.push((label) => {
    if (view.selected != null && document.querySelector("#view.active")) relabel(view.selected, label);
  });
  if (view.recordings.length) await openRecording(view.recordings[0].id);
  window.addEventListener("resize", () => render());
}

export async function openRecording(id, start = 0, dur = null) {
  view.rec = view.recordings.find((r) => r.id === id);
  if (!view.rec) return;
  $("#recording").value = String(id);
  view.dur = Math.min(dur ?? Math.min(5, view.rec.duration_s), view.rec.duration_s);
  view.start = Math.max(0, Math.min(start, view.rec.duration_s - view.dur));
  view.selected = null;
  // Ultrasound is slowed down to be heard: ten times puts 20-100 kHz at 2-10 kHz.
  $("#slow").value = view.rec.sr > 96000 ? 10 : 1;
  const video = $("#video");
  video.hidden = !view.rec.video;
  if (view.rec.video) video.src = `api/recordings/${id}/video`;
  else video.removeAttribute("src");
  await render();
}

export async function render() {
  if (!view.rec) return;
  const id = view.rec.id;
  const stop = view.start + view.dur;
  const channel = Number($("#channel").value) || 0;
  const width = Math.min(4000, Math.max(100, Math.round(px() / 100) * 100));
  $("#spec-img").src = `api/recordings/${id}/spectrogram.png?start_s=${view.start.toFixed(4)}&stop_s=${stop.toFixed(4)}&channel=${channel}&width=${width}`;
  $("#span-text").textContent = `${fmt(view.start)}–${fmt(stop)} s of ${fmt(view.rec.duration_s)} s`;
  drawWaveform(id, channel, stop);
  await loadEvents();
}

async function drawWaveform(id, channel, stop) {
  const canvas = $("#waveform");
  canvas.width = canvas.clientWidth || 800;
  const n = canvas.width;
  const buffer = await api(`api/recordings/${id}/waveform?start_s=${view.start}&stop_s=${stop}&channel=${channel}&n=${n}`);
  const env = new Float32Array(buffer);
  const ctx = canvas.getContext("2d");
  const h = canvas.height;
  let peak = 1e-9;
  for (const v of env) peak = Math.max(peak, Math.abs(v));
  ctx.clearRect(0, 0, n, h);
  ctx.strokeStyle = "#8cf";
  ctx.beginPath();
  for (let i = 0; i < n; i++) {
    ctx.moveTo(i + 0.5, h / 2 - (env[2 * i + 1] / peak) * h / 2);
    ctx.lineTo(i + 0.5, h / 2 - (env[2 * i] / peak) * h / 2 + 1);
  }
  ctx.stroke();
}

export async function loadEvents() {
  if (!view.rec) return;
  const stop = view.start + view.dur;
  view.events = await api(`api/events?recording=${encodeURIComponent(view.rec.path)}&start_s=${view.start}&stop_s=${stop}`);
  drawEvents();
  loadCounts();
}

function visible(e) {
  if (view.hidden.has(e.kind) || e.channel !== (Number($("#channel").value) || 0)) return false;
  const label = $("#label-filter").value, source = $("#source-filter").value;
  return (!label || e.label === label) && (!source || e.source === source);
}

export function drawEvents() {
  const overlay = $("#overlay");
  overlay.replaceChildren();
  for (const e of view.events) {
    if (!visible(e)) continue;
    const div = document.createElement("div");
    const point = e.stop_s === e.start_s;
    div.className = `event kind-${e.kind}` + (point ? " tick" : "") + (e.id === view.selected ? " selected" : "");
    div.dataset.id = e.id;
    div.dataset.kind = e.kind;
    div.dataset.label = e.label;
    const left = xOf(e.start_s);
    div.style.left = `${left}px`;
    if (!point) div.style.width = `${Math.max(2, xOf(e.stop_s) - left)}px`;
    const boxed = e.low_hz != null && e.high_hz != null;
    div.style.top = `${boxed ? yOf(e.high_hz) : 0}px`;
    div.style.height = `${boxed ? Math.max(2, yOf(e.low_hz) - yOf(e.high_hz)) : py()}px`;
    div.style.borderColor = colour(e.label);
    div.title = `${e.label} (${e.kind}, ${e.source}) ${fmt(e.start_s)}–${fmt(e.stop_s)} s`;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = e.label;
    div.append(name);
    div.addEventListener("mousedown", (ev) => { ev.stopPropagation(); select(e.id); });
    div.addEventListener("dblclick", (ev) => { ev.stopPropagation(); accept(e); });
    overlay.append(div);
  }
}

function select(id) {
  view.selected = id;
  const e = view.events.find((x) => x.id === id);
  $("#event-info").textContent = e ? `#${e.id} ${e.label} · ${e.kind} · ${e.source} · ${fmt(e.start_s)}–${fmt(e.stop_s)} s` +
    (e.score != null ? ` · score ${e.score.toFixed(3)}` : "") : "";
  // Mark it without redrawing: a redraw between the clicks of a double-click loses it.
  document.querySelectorAll("#overlay .event").forEach((d) => d.classList.toggle("selected", Number(d.dataset.id) === id));
}

async function loadCounts() {
  const rows = await api(`api/counts?recording=${encodeURIComponent(view.rec.path)}`);
  const kinds = [...new Set(rows.map((r) => r.kind))].sort();
  const byLabel = new Map();
  for (const r of rows) {
    if (!byLabel.has(r.label)) byLabel.set(r.label, {});
    byLabel.get(r.label)[r.kind] = r.n;
  }
  const table = $("#counts");
  table.tHead.rows[0].replaceChildren(...["label", ...kinds].map((k) => Object.assign(document.createElement("th"), { textContent: k })));
  table.tBodies[0].replaceChildren(...[...byLabel].map(([label, n]) => {
    const tr = document.createElement("tr");
    tr.append(Object.assign(document.createElement("td"), { textContent: label }));
    for (const k of kinds) tr.append(Object.assign(document.createElement("td"), { textContent: n[k] || "" }));
    return tr;
  }));
}

// -- pan and zoom ----------------------------------------------------------------------------

export function zoom(factor, at = null) {
  const centre = at ?? view.start + view.dur / 2;
  const dur = Math.min(view.rec.duration_s, MAX_SPAN_S, Math.max(0.05, view.dur * factor));
  view.start = Math.max(0, Math.min(centre - (centre - view.start) * (dur / view.dur), view.rec.duration_s - dur));
  view.dur = dur;
  render();
}

export function pan(fraction) {
  view.start = Math.max(0, Math.min(view.start + fraction * view.dur, view.rec.duration_s - view.dur));
  render();
}

function onWheel(ev) {
  ev.preventDefault();
  if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
    pan(Math.sign(ev.deltaX || ev.deltaY) * 0.1);
  } else {
    const rect = $("#spectrogram").getBoundingClientRect();
    zoom(ev.deltaY > 0 ? 1.25 : 0.8, timeAt(ev.clientX - rect.left));
  }
}

// -- annotating ------------------------------------------------------------------------------

function onMouseDown(ev) {
  if (ev.button !== 0 || !view.rec) return;
  const rect = $("#spectrogram").getBoundingClientRect();
  const x0 = ev.clientX - rect.left, y0 = ev.clientY - rect.top;
  const box = $("#drag-box");
  const boxes = $("#box-mode").checked;
  const move = (m) => {
    const x = m.clientX - rect.left, y = m.clientY - rect.top;
    Object.assign(box.style, {
      display: "block", left: `${Math.min(x, x0)}px`, width: `${Math.abs(x - x0)}px`,
      top: boxes ? `${Math.min(y, y0)}px` : "0px", height: boxes ? `${Math.abs(y - y0)}px` : `${py()}px`,
    });
  };
  const up = async (m) => {
    window.removeEventListener("mousemove", move);
    window.removeEventListener("mouseup", up);
    box.style.display = "none";
    const x1 = Math.max(0, Math.min(px(), m.clientX - rect.left));
    const y1 = Math.max(0, Math.min(py(), m.clientY - rect.top));
    if (!labels.current) { status("add a label first (type it in 'new label')", true); return; }
    const event = { recording: view.rec.path, label: labels.current, channel: Number($("#channel").value) || 0 };
    if (Math.abs(x1 - x0) < 4) {
      event.start_s = event.stop_s = timeAt(x0);
    } else {
      event.start_s = timeAt(Math.min(x0, x1));
      event.stop_s = timeAt(Math.max(x0, x1));
      if (boxes && Math.abs(y1 - y0) >= 4) {
        event.low_hz = freqAt(Math.max(y0, y1));
        event.high_hz = freqAt(Math.min(y0, y1));
      }
    }
    const made = await api("api/events", { method: "POST", json: { events: [event] } });
    status(made.edit.description);
    view.selected = made.ids[0];
    await loadEvents();
  };
  window.addEventListener("mousemove", move);
  window.addEventListener("mouseup", up);
}

async function accept(e) {
  if (!["detected", "predicted", "missed", "mistaken", "clustered"].includes(e.kind)) return;
  const label = labels.current || e.label;
  const done = await api("api/events", { method: "PATCH", json: { ids: [e.id], changes: { kind: "annotated", label, source: "app" }, description: `accepted ${e.kind} event ${e.id} as ${label}` } });
  status(done.edit.description);
  await loadEvents();
}

async function relabel(id, label) {
  const e = view.events.find((x) => x.id === id);
  if (!e || e.label === label) return;
  const done = await api("api/events", { method: "PATCH", json: { ids: [id], changes: { label } } });
  status(done.edit.description);
  await loadEvents();
}

export async function deleteSelected() {
  if (view.selected == null) return;
  const done = await api(`api/events?ids=${view.selected}`, { method: "DELETE" });
  status(done.edit.description);
  view.selected = null;
  $("#event-info").textContent = "";
  await loadEvents();
}

// -- playback --------------------------------------------------------------------------------

export function play(span = null) {
  if (view.audio) { view.audio.pause(); view.audio = null; $("#cursor").style.display = "none"; return; }
  const e = view.events.find((x) => x.id === view.selected);
  let [start, stop] = span ?? (e && e.stop_s > e.start_s ? [e.start_s, e.stop_s] : [view.start, view.start + view.dur]);
  const slow = Math.max(1, Number($("#slow").value) || 1);
  const channel = Number($("#channel").value) || 0;
  const audio = new Audio(`api/recordings/${view.rec.id}/audio.wav?start_s=${start}&stop_s=${stop}&channel=${channel}&slow=${slow}`);
  view.audio = audio;
  window.lastAudio = audio;  // for the browser tests
  const cursor = $("#cursor");
  const video = $("#video");
  const tick = () => {
    if (view.audio !== audio) return;
    const t = start + audio.currentTime / slow;
    cursor.style.display = "block";
    cursor.style.left = `${xOf(t)}px`;
    if (!audio.ended) requestAnimationFrame(tick);
    else { cursor.style.display = "none"; view.audio = null; }
  };
  audio.addEventListener("playing", () => {
    if (!video.hidden && video.src) { video.currentTime = start; video.playbackRate = 1 / slow; video.play().catch(() => {}); }
    requestAnimationFrame(tick);
  });
  audio.addEventListener("ended", () => { if (!video.hidden) video.pause(); });
  audio.play().catch((err) => status(`cannot play: ${err.message}`, true));
}

export function viewKeys(ev) {
  if (ev.key === "ArrowLeft") pan(-0.25);
  else if (ev.key === "ArrowRight") pan(0.25);
  else if (ev.key === "+" || ev.key === "=") zoom(0.5);
  else if (ev.key === "-") zoom(2);
  else if (ev.key === " ") { ev.preventDefault(); play(); }
  else if (ev.key === "Delete" || ev.key === "Backspace") deleteSelected();
  else if (ev.key === "Escape") select(null);
  else return false;
  return true;
}

export { chooseLabel };
