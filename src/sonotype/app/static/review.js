// Review queues: step through predicted, missed, mistaken (or detected) events one key each.
import { $, api, status, labels, fmt } from "./common.js";
import { view } from "./view.js";

const review = { queue: [], i: 0, audio: null };
const CONTEXT_S = 0.5;

export async function initReview() {
  $("#queue").onchange = loadQueue;
  $("#review-accept").onclick = () => act("accept");
  $("#review-relabel").onclick = () => act("relabel");
  $("#review-reject").onclick = () => act("reject");
  $("#review-skip").onclick = () => step(1);
  $("#review-play").onclick = () => playCurrent();
}

export async function loadQueue() {
  review.queue = await api(`api/review/${$("#queue").value}`);
  review.i = Math.min(review.i, Math.max(0, review.queue.length - 1));
  show();
}

function current() { return review.queue[review.i]; }

function show() {
  const card = $("#review-card");
  const e = current();
  $("#queue-pos").textContent = review.queue.length ? `${review.i + 1} of ${review.queue.length}` : "queue empty";
  if (!e) { card.replaceChildren(); return; }
  const rec = view.recordings.find((r) => r.path === e.recording);
  if (!rec) { card.textContent = `recording ${e.recording} is not indexed`; return; }
  const start = Math.max(0, e.start_s - CONTEXT_S), stop = Math.min(rec.duration_s, e.stop_s + CONTEXT_S);
  const ctx = document.createElement("div");
  ctx.className = "ctx";
  const img = document.createElement("img");
  img.src = `api/recordings/${rec.id}/spectrogram.png?start_s=${start.toFixed(4)}&stop_s=${stop.toFixed(4)}&width=1000`;
  const mark = document.createElement("div");
  mark.className = "mark";
  mark.style.left = `${((e.start_s - start) / (stop - start)) * 100}%`;
  mark.style.width = `${Math.max(0.3, ((e.stop_s - e.start_s) / (stop - start)) * 100)}%`;
  ctx.append(img, mark);
  const info = document.createElement("p");
  info.id = "review-info";
  info.dataset.id = e.id;
  info.textContent = `#${e.id} ${e.label} (${e.kind}, ${e.source}) in ${e.recording} at ${fmt(e.start_s)}–${fmt(e.stop_s)} s` +
    (e.score != null ? `, score ${e.score.toFixed(3)}` : "") + ` · current label: ${labels.current ?? "none"}`;
  card.replaceChildren(info, ctx);
  playCurrent();
}

function playCurrent() {
  const e = current();
  if (!e) return;
  const rec = view.recordings.find((r) => r.path === e.recording);
  if (review.audio) review.audio.pause();
  const slow = rec.sr > 96000 ? 10 : 1;
  const start = Math.max(0, e.start_s - 0.1), stop = Math.min(rec.duration_s, Math.max(e.stop_s, e.start_s + 0.05) + 0.1);
  review.audio = new Audio(`api/recordings/${rec.id}/audio.wav?start_s=${start}&stop_s=${stop}&slow=${slow}`);
  review.audio.play().catch(() => { /* the page has not been interacted with yet */ });
}

function step(by) {
  review.i = Math.max(0, Math.min(review.queue.length - 1, review.i + by));
  show();
}

async function act(action) {
  const e = current();
  if (!e) return;
  const body = { action };
  if (action === "relabel") {
    if (!labels.current) { status("choose a label first", true); return; }
    body.label = labels.current;
  }
  const done = await api(`api/review/event/${e.id}`, { method: "POST", json: body });
  status(done.edit.description);
  review.queue.splice(review.i, 1);
  review.i = Math.min(review.i, Math.max(0, review.queue.length - 1));
  show();
}

export function reviewKeys(ev) {
  const actions = { a: () => act("accept"), r: () => act("relabel"), x: () => act("reject"),
    s: () => step(1), ArrowRight: () => step(1), ArrowLeft: () => step(-1), p: playCurrent };
  const f = actions[ev.key];
  if (!f) return false;
  f();
  return true;
}
