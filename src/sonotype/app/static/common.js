// Shared by every tab: requests, the current label, colours, and the live change stream.

export const $ = (selector) => document.querySelector(selector);

export function status(text, error = false) {
  const el = $("#status");
  el.textContent = text;
  el.style.color = error ? "#b00" : "#333";
}

export async function api(path, options = {}) {
  const init = { ...options, headers: { ...(options.headers || {}) } };
  if (options.json !== undefined) {
    init.body = JSON.stringify(options.json);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail; } catch (e) { /* not JSON */ }
    const message = typeof detail === "string" ? detail : JSON.stringify(detail);
    status(message, true);
    throw new Error(message);
  }
  const type = response.headers.get("content-type") || "";
  if (type.includes("application/json")) return response.json();
  if (type.includes("octet-stream")) return response.arrayBuffer();
  return response.text();
}

// Labels: the current one is used by every tab (keys 1-9 pick the first nine).
export const labels = { list: [], current: null, listeners: [] };

export function setLabels(list) {
  labels.list = list;
  if (!labels.current || !list.includes(labels.current)) labels.current = list[0] || null;
  drawLabels();
}

export function chooseLabel(label) {
  if (!labels.list.includes(label)) labels.list.push(label);
  labels.current = label;
  drawLabels();
  labels.listeners.forEach((f) => f(label));
}

function drawLabels() {
  const box = $("#labels");
  box.replaceChildren();
  labels.list.forEach((label, i) => {
    const b = document.createElement("button");
    b.textContent = (i < 9 ? `${i + 1}:` : "") + label;
    b.dataset.label = label;
    b.style.background = colour(label);
    b.className = label === labels.current ? "current" : "";
    b.onclick = () => chooseLabel(label);
    box.append(b);
  });
}

// Colours: a fixed palette by first appearance, so a label keeps its colour on every tab.
const PALETTE = ["#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0",
  "#f032e6", "#bcf60c", "#fabebe", "#008080", "#e6beff", "#9a6324", "#fffac8", "#800000",
  "#aaffc3", "#808000", "#ffd8b1", "#000075", "#808080"];
const assigned = new Map();
export function colour(name) {
  if (!assigned.has(name)) assigned.set(name, PALETTE[assigned.size % PALETTE.length]);
  return assigned.get(name);
}
export function rgb(name) {
  const hex = colour(name);
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

// The change stream: every edit anywhere (another tab, the command line, a job).
const changeListeners = [];
export function onChange(f) { changeListeners.push(f); }
export function listenForChanges() {
  const source = new EventSource("api/changes");
  source.addEventListener("edit", (e) => {
    const data = JSON.parse(e.data);
    changeListeners.forEach((f) => f(data));
  });
  return source;
}

export function fmt(seconds) {
  return seconds < 10 ? seconds.toFixed(3) : seconds.toFixed(2);
}
