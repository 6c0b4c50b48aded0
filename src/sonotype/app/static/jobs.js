// Jobs: start detect, discover, embed, train, classify or ethogram; follow them; cancel.
import { $, api, status } from "./common.js";

let shownLog = null;
let timer = null;

export function initJobs() {
  $("#job-start").onclick = start;
}

export function activateJobs() {
  refresh();
  if (!timer) timer = setInterval(refresh, 1000);
}

// Split an argument line as a shell would for simple quoting ("a b" and 'a b').
function splitArgs(text) {
  const out = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m;
  while ((m = re.exec(text))) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

async function start() {
  const job = await api("api/jobs", { method: "POST", json: { command: $("#job-command").value, args: splitArgs($("#job-args").value) } });
  status(`started job ${job.id}: ${job.command}`);
  shownLog = job.id;
  refresh();
}

async function refresh() {
  if (!document.querySelector("#jobs.active")) return;
  const jobs = await api("api/jobs");
  $("#job-table").tBodies[0].replaceChildren(...jobs.map((job) => {
    const tr = document.createElement("tr");
    const state = job.running ? (job.run_status || "starting") : (job.run_status || `exit ${job.exit_code}`);
    const steps = job.steps ? `${job.steps.computed} computed, ${job.steps.cached} cached, ${job.steps.failed} failed` : "";
    for (const v of [job.id, `${job.command} ${job.args.join(" ")}`, state, `${steps} (${job.seconds} s)`]) tr.insertCell().textContent = v;
    const cell = tr.insertCell();
    const log = Object.assign(document.createElement("button"), { textContent: "log" });
    log.onclick = () => { shownLog = job.id; refresh(); };
    cell.append(log);
    if (job.running) {
      const cancel = Object.assign(document.createElement("button"), { textContent: "cancel" });
      cancel.onclick = async () => { await api(`api/jobs/${job.id}/cancel`, { method: "POST" }); refresh(); };
      cell.append(cancel);
    }
    return tr;
  }));
  if (shownLog != null) $("#job-log").textContent = await api(`api/jobs/${shownLog}/log?tail=20000`);
  const runs = await api("api/runs?limit=20");
  $("#run-table").tBodies[0].replaceChildren(...runs.map((run) => {
    const tr = document.createElement("tr");
    const steps = run.steps ? `${run.steps.computed}/${run.steps.cached}/${run.steps.failed}` : "";
    for (const v of [run.id, run.command, run.name ?? "", run.status, run.started_at, steps]) tr.insertCell().textContent = v;
    return tr;
  }));
}
