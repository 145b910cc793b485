// Keeps the jobs table current by polling the jobs API; the page works without it.
const POLL_MS = 3000;
const table = document.querySelector("table[data-jobs-api]");
const note = document.querySelector("[data-refresh-note]");

function cell(row, ...children) {
  const td = document.createElement("td");
  td.append(...children);
  row.append(td);
  return td;
}

function span(text, className) {
  const el = document.createElement("span");
  el.textContent = text;
  if (className) el.className = className;
  return el;
}

function percent(fraction) {
  return `${Math.round(fraction * 100)}%`;
}

function jobRow(job) {
  const row = document.createElement("tr");
  row.dataset.job = String(job.id);
  cell(row, job.kind);
  cell(row, job.subject);
  const status = cell(row, span(job.status, `flag flag-${job.status}`));
  const done = job.status === "succeeded" || job.status === "failed";
  if (job.message && !done) status.append(" ", span(job.message, "muted"));
  const bar = document.createElement("progress");
  bar.max = 1;
  bar.value = job.progress;
  bar.textContent = percent(job.progress);
  bar.setAttribute("aria-label", `Progress of job ${job.id}`);
  cell(row, bar, " ", span(percent(job.progress)));
  cell(row, `${job.attempts} / ${job.max_attempts}`);
  if (job.last_error) {
    const pre = document.createElement("pre");
    pre.className = "error-text";
    pre.textContent = job.last_error.length > 400 ? `${job.last_error.slice(0, 399)}…` : job.last_error;
    cell(row, pre);
  } else {
    cell(row, span("none", "muted"));
  }
  return row;
}

async function refresh() {
  if (document.hidden) return;
  try {
    const response = await fetch(table.dataset.jobsApi, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error(`the jobs API answered ${response.status}`);
    const page = await response.json();
    const body = document.createElement("tbody");
    if (page.results.length === 0) {
      const row = document.createElement("tr");
      cell(row, "No jobs.").colSpan = 6;
      body.append(row);
    }
    for (const job of page.results) body.append(jobRow(job));
    table.tBodies[0].replaceWith(body);
    note.textContent = `Updated ${new Date().toLocaleTimeString("en-GB")}.`;
  } catch (error) {
    note.textContent = `Could not refresh: ${error.message}.`;
  }
}

if (table && note) {
  setInterval(refresh, POLL_MS);
  document.addEventListener("visibilitychange", refresh);
}
