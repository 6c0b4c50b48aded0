// The page: tabs, labels, undo and redo, keys, and the live change stream.
import { $, api, status, labels, setLabels, chooseLabel, listenForChanges, onChange } from "./common.js";
import { initView, loadEvents, viewKeys, view } from "./view.js";
import { initReview, loadQueue, reviewKeys } from "./review.js";
import { initExplore, exploreKeys } from "./explore.js";
import { initJobs, activateJobs } from "./jobs.js";

let tab = "view";
const started = new Set();

async function showTab(name) {
  tab = name;
  document.querySelectorAll("nav button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll(".tab").forEach((s) => s.classList.toggle("active", s.id === name));
  if (name === "review") await loadQueue();
  if (name === "explore" && !started.has("explore")) { started.add("explore"); await initExplore(); }
  if (name === "jobs") activateJobs();
}

async function undo(redo = false) {
  const done = await api(redo ? "api/redo" : "api/undo", { method: "POST" });
  const edits = redo ? done.redone : done.undone;
  status(edits.length ? `${redo ? "redid" : "undid"}: ${edits[0].description}` : `nothing to ${redo ? "redo" : "undo"}`);
  await refresh();
}

async function refresh() {
  await loadEvents();
  if (tab === "review") await loadQueue();
}

async function loadLabels() {
  const found = await api("api/labels");
  setLabels([...new Set([...labels.list, ...found.labels])]);
  const sources = await api("api/sources");
  const select = $("#source-filter");
  const kept = select.value;
  select.replaceChildren(new Option("all", ""), ...[...new Set(sources.map((s) => s.source))].map((s) => new Option(s, s)));
  select.value = kept;
  const labelFilter = $("#label-filter");
  const keptLabel = labelFilter.value;
  labelFilter.replaceChildren(new Option("all", ""), ...labels.list.map((l) => new Option(l, l)));
  labelFilter.value = keptLabel;
}

window.addEventListener("DOMContentLoaded", async () => {
  document.querySelectorAll("nav button").forEach((b) => { b.onclick = () => showTab(b.dataset.tab); });
  $("#undo").onclick = () => undo(false);
  $("#redo").onclick = () => undo(true);
  $("#new-label").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && ev.target.value.trim()) { chooseLabel(ev.target.value.trim()); ev.target.value = ""; }
  });
  document.addEventListener("keydown", (ev) => {
    // Keys typed into a text field are text; a focused checkbox or button keeps the keys.
    if (ev.target.matches("input:not([type=checkbox]):not([type=radio]), select, textarea")) return;
    if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === "z") { ev.preventDefault(); undo(ev.shiftKey); return; }
    if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === "y") { ev.preventDefault(); undo(true); return; }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (/^[1-9]$/.test(ev.key) && labels.list[Number(ev.key) - 1]) { chooseLabel(labels.list[Number(ev.key) - 1]); return; }
    const handled = tab === "view" ? viewKeys(ev) : tab === "review" ? reviewKeys(ev) : tab === "explore" ? exploreKeys(ev) : false;
    if (handled) ev.preventDefault();
  });
  await loadLabels();
  await initView();
  await initReview();
  initJobs();
  listenForChanges();
  // Another tab, a terminal or a job changed the events: show them (within a quarter second).
  onChange(async () => { await loadLabels(); await refresh(); });
  document.body.dataset.ready = "1";
  status(`${view.recordings.length} recordings`);
});
