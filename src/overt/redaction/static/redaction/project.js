// Redaction review: draws each track's box over the player at the current time, lets a
// reviewer move or resize a track's box and save it as a keyframe, draw new boxes, and
// toggles tracks without reloading. Every change goes to the same endpoints the plain
// forms use, so the page works (less comfortably) without this script. (Over 400 lines:
// one page's script, whose overlay, editing and fast-review keys share one state.)

const endpoints = document.getElementById("endpoints").dataset;
const csrf = document.querySelector("#api-csrf input[name=csrfmiddlewaretoken]").value;
const video = document.getElementById("player");
const overlay = document.getElementById("overlay");
const clock = document.getElementById("clock");
const drawButton = document.getElementById("draw-box");
const saveButton = document.getElementById("save-keyframe");
const jobLine = document.getElementById("job-line");
const statusFlag = document.getElementById("project-status");

let data = { tracks: [], margin: 0.3 };
let selected = null; // track number
let edited = null; // [x1, y1, x2, y2] moved by the reviewer, not saved yet
let drawing = false;
const MAX_EXTRAPOLATION_S = 1.0; // as the renderer
const HEAD_TOP = 1.7; // a face's mask covers the whole head, as the renderer's grow_mask
const HEAD_BOTTOM = 0.8;

async function post(url, fields) {
  const body = new URLSearchParams(fields);
  const response = await fetch(url, {
    method: "POST",
    headers: { "X-CSRFToken": csrf, Accept: "application/json" },
    body,
    credentials: "same-origin",
  });
  const answer = await response.json().catch(() => ({ ok: false, error: response.statusText }));
  if (!answer.ok) throw new Error(answer.error || "the change was refused");
  return answer;
}

async function load() {
  const response = await fetch(endpoints.data, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    // A busy database answers 503 with Retry-After: keep what is shown and ask again.
    const wait = Number(response.headers.get("Retry-After")) || 2;
    jobLine.textContent = `The server is busy; trying again in ${wait} s.`;
    setTimeout(load, wait * 1000);
    return;
  }
  data = await response.json();
  showJobs();
  paint();
}

function showJobs() {
  const running = data.jobs.filter((j) => j.status === "queued" || j.status === "running" || j.status === "retrying");
  if (running.length) {
    jobLine.textContent = running
      .map((j) => `${j.kind}: ${Math.round(j.progress * 100)}% ${j.message || j.status}`)
      .join(" · ");
    setTimeout(load, 2000);
  } else if (statusFlag && statusFlag.dataset.status !== data.status) {
    window.location.reload(); // detection or a render finished: show its results
  } else {
    jobLine.textContent = "";
  }
}

// --- geometry, the same as the engine's tracking.box_at ------------------------------

function lerp(a, b, w) {
  return a.map((v, i) => v + (b[i] - v) * w);
}

function extrapolate(boxes, t, backwards) {
  const edge = backwards ? boxes[0] : boxes[boxes.length - 1];
  const other = boxes.length > 1 ? (backwards ? boxes[1] : boxes[boxes.length - 2]) : null;
  if (!other || other.t === edge.t) return edge.box;
  const dt = Math.max(-MAX_EXTRAPOLATION_S, Math.min(MAX_EXTRAPOLATION_S, t - edge.t));
  const span = edge.t - other.t;
  const vx = ((edge.box[0] + edge.box[2]) - (other.box[0] + other.box[2])) / 2 / span;
  const vy = ((edge.box[1] + edge.box[3]) - (other.box[1] + other.box[3])) / 2 / span;
  const [x1, y1, x2, y2] = edge.box;
  return [x1 + vx * dt, y1 + vy * dt, x2 + vx * dt, y2 + vy * dt];
}

function boxAt(track, t) {
  const boxes = track.boxes;
  if (!boxes.length || t < track.start_s - 1e-6 || t > track.end_s + 1e-6) return null;
  let i = 0;
  while (i < boxes.length && boxes[i].t <= t) i += 1;
  if (i === 0) return extrapolate(boxes, t, true);
  if (i === boxes.length) return extrapolate(boxes, t, false);
  const a = boxes[i - 1];
  const b = boxes[i];
  return lerp(a.box, b.box, (t - a.t) / (b.t - a.t));
}

function grow([x1, y1, x2, y2], m, label) {
  const w = x2 - x1;
  const h = y2 - y1;
  const [top, bottom] = label === "face" ? [HEAD_TOP, HEAD_BOTTOM] : [1, 1];
  return [x1 - w * m, y1 - h * m * top, x2 + w * m, y2 + h * m * bottom].map((v) => Math.max(0, Math.min(1, v)));
}

// --- drawing -------------------------------------------------------------------------

function contentRect() {
  // The picture inside the <video> element (letterboxed to keep its aspect).
  const w = video.clientWidth;
  const h = video.clientHeight;
  const vw = video.videoWidth || 16;
  const vh = video.videoHeight || 9;
  const scale = Math.min(w / vw, h / vh);
  return { left: (w - vw * scale) / 2, top: (h - vh * scale) / 2, width: vw * scale, height: vh * scale };
}

function place(element, box, rect) {
  element.style.left = `${box[0] * rect.width}px`;
  element.style.top = `${box[1] * rect.height}px`;
  element.style.width = `${(box[2] - box[0]) * rect.width}px`;
  element.style.height = `${(box[3] - box[1]) * rect.height}px`;
}

function paint() {
  if (!video || !overlay) return;
  const rect = contentRect();
  Object.assign(overlay.style, {
    left: `${rect.left}px`, top: `${rect.top}px`, width: `${rect.width}px`, height: `${rect.height}px`,
  });
  overlay.replaceChildren();
  const t = video.currentTime;
  clock.textContent = formatTime(t);
  for (const track of data.tracks) {
    let box = boxAt(track, t);
    if (track.number === selected && edited) box = edited;
    if (!box) continue;
    if (track.included) {
      const area = document.createElement("div");
      area.className = "rbox grown";
      place(area, grow(box, data.margin, track.label), rect);
      overlay.append(area);
    }
    const outline = document.createElement("div");
    outline.className = `rbox${track.included ? "" : " out"}${track.number === selected ? " selected" : ""}`;
    place(outline, box, rect);
    const tag = document.createElement("span");
    tag.className = "tag";
    tag.textContent = `${track.label} ${track.number}`;
    outline.append(tag);
    if (track.number === selected) {
      const handle = document.createElement("span");
      handle.className = "handle";
      outline.append(handle);
      enableDrag(outline, handle, box, rect);
    }
    overlay.append(outline);
  }
}

function formatTime(t) {
  const minutes = Math.floor(t / 60);
  return `${minutes}:${(t - minutes * 60).toFixed(2).padStart(5, "0")}`;
}

function enableDrag(outline, handle, box, rect) {
  const start = (event, resize) => {
    if (drawing) return; // a new box is being drawn: let the overlay have the pointer
    event.preventDefault();
    event.stopPropagation();
    video.pause();
    const x0 = event.clientX;
    const y0 = event.clientY;
    const original = [...box];
    const move = (e) => {
      const dx = (e.clientX - x0) / rect.width;
      const dy = (e.clientY - y0) / rect.height;
      edited = resize
        ? [original[0], original[1], Math.max(original[0] + 0.01, original[2] + dx), Math.max(original[1] + 0.01, original[3] + dy)]
        : [original[0] + dx, original[1] + dy, original[2] + dx, original[3] + dy];
      saveButton.disabled = false;
      paint();
    };
    const stop = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", stop);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", stop);
  };
  outline.addEventListener("pointerdown", (e) => start(e, false));
  handle.addEventListener("pointerdown", (e) => start(e, true));
}

function select(number) {
  selected = number;
  edited = null;
  saveButton.disabled = true;
  for (const item of document.querySelectorAll("li.track")) {
    item.classList.toggle("selected", Number(item.dataset.track) === number);
  }
  paint();
}

function clamp01(box) {
  return box.map((v) => Math.max(0, Math.min(1, v)));
}

// --- wiring --------------------------------------------------------------------------

if (video && overlay) {
  video.addEventListener("timeupdate", paint);
  video.addEventListener("seeked", () => { edited = null; saveButton.disabled = true; paint(); });
  video.addEventListener("loadedmetadata", paint);
  window.addEventListener("resize", paint);
  const tick = () => { if (!video.paused) paint(); requestAnimationFrame(tick); };
  requestAnimationFrame(tick);

  saveButton.addEventListener("click", async () => {
    if (selected === null || !edited) return;
    const url = endpoints.keyframe.replace(/\/0\/keyframes$/, `/${selected}/keyframes`);
    const [x1, y1, x2, y2] = clamp01(edited);
    try {
      await post(url, { t: video.currentTime.toFixed(4), x1, y1, x2, y2 });
      edited = null;
      saveButton.disabled = true;
      await load();
    } catch (error) {
      jobLine.textContent = `Not saved: ${error.message}`;
    }
  });

  drawButton.addEventListener("click", () => {
    drawing = !drawing;
    if (drawing) select(null);
    drawButton.setAttribute("aria-pressed", String(drawing));
    overlay.classList.toggle("live", drawing);
    if (drawing) video.pause();
  });

  overlay.addEventListener("pointerdown", (event) => {
    if (!drawing) return;
    event.preventDefault();
    const rect = overlay.getBoundingClientRect();
    const x0 = (event.clientX - rect.left) / rect.width;
    const y0 = (event.clientY - rect.top) / rect.height;
    const ghost = document.createElement("div");
    ghost.className = "rbox selected";
    overlay.append(ghost);
    let box = [x0, y0, x0, y0];
    const move = (e) => {
      const x = (e.clientX - rect.left) / rect.width;
      const y = (e.clientY - rect.top) / rect.height;
      box = clamp01([Math.min(x0, x), Math.min(y0, y), Math.max(x0, x), Math.max(y0, y)]);
      place(ghost, box, rect);
    };
    const stop = async () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", stop);
      drawing = false;
      drawButton.setAttribute("aria-pressed", "false");
      overlay.classList.remove("live");
      if (box[2] - box[0] < 0.005 || box[3] - box[1] < 0.005) { paint(); return; }
      try {
        const answer = await post(endpoints.trackAdd, {
          t: video.currentTime.toFixed(4), x1: box[0], y1: box[1], x2: box[2], y2: box[3],
        });
        const url = new URL(window.location.href);
        url.hash = `track-${answer.track}`;
        sessionStorage.setItem("overt.redaction.scrollTo", url.hash);
        window.location.replace(url.pathname + url.search); // reload, then scroll to it
      } catch (error) {
        jobLine.textContent = `Not added: ${error.message}`;
        paint();
      }
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", stop);
  });
}

for (const button of document.querySelectorAll("button[data-select-track]")) {
  button.addEventListener("click", () => {
    const number = Number(button.dataset.selectTrack);
    select(number);
    if (video) {
      const track = data.tracks.find((t) => t.number === number);
      if (track && (video.currentTime < track.start_s || video.currentTime > track.end_s)) {
        video.currentTime = track.start_s;
      }
      video.pause();
      video.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  });
}

for (const form of document.querySelectorAll("form[data-include-form]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = Object.fromEntries(new FormData(form));
    try {
      await post(form.action, fields);
      window.location.reload();
    } catch (error) {
      jobLine.textContent = `Not changed: ${error.message}`;
    }
  });
}

for (const button of document.querySelectorAll("button[data-set-time]")) {
  button.addEventListener("click", () => {
    const input = document.getElementById(button.dataset.setTime);
    if (video && input) input.value = video.currentTime.toFixed(2);
  });
}

const scrollTo = sessionStorage.getItem("overt.redaction.scrollTo");
if (scrollTo) {
  sessionStorage.removeItem("overt.redaction.scrollTo");
  document.querySelector(scrollTo)?.scrollIntoView({ block: "center" });
}

// --- fast review: scrubbing, unmasked moments, findings, keyboard --------------------

const scrub = document.getElementById("scrub");
const unmaskedList = document.getElementById("unmasked-list");
let unmaskedAt = -1;

function seek(t) {
  if (!video) return;
  video.pause();
  video.currentTime = Math.max(0, t);
}

function showUnmasked() {
  if (!unmaskedList) return;
  const moments = data.unmasked || [];
  if (!moments.length) {
    const item = document.createElement("li");
    item.className = "muted";
    item.textContent = "Every frame is masked wherever something was found.";
    unmaskedList.replaceChildren(item);
    return;
  }
  unmaskedList.replaceChildren(
    ...moments.map((m, i) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = `${formatTime(m.start_s)}–${formatTime(m.end_s)}`;
      button.addEventListener("click", () => { unmaskedAt = i; seek(m.start_s); });
      item.append(button, ` ${m.why}`);
      return item;
    }),
  );
}

function stepUnmasked(direction) {
  const moments = data.unmasked || [];
  if (!moments.length) return;
  unmaskedAt = (unmaskedAt + direction + moments.length) % moments.length;
  seek(moments[unmaskedAt].start_s);
}

if (video && scrub) {
  // Dragging the scrubber seeks at once; the overlay previews the masks (blurred) live.
  scrub.addEventListener("input", () => {
    if (video.duration) seek((Number(scrub.value) / 1000) * video.duration);
  });
  video.addEventListener("timeupdate", () => {
    if (video.duration) scrub.value = String(Math.round((video.currentTime / video.duration) * 1000));
  });
}

for (const button of document.querySelectorAll("button[data-seek]")) {
  button.addEventListener("click", () => {
    document.getElementById("stage")?.scrollIntoView({ block: "center" });
    seek(Number(button.dataset.seek));
  });
}
document.getElementById("unmasked-next")?.addEventListener("click", () => stepUnmasked(1));
document.getElementById("unmasked-previous")?.addEventListener("click", () => stepUnmasked(-1));

// Keyboard: space or k play/pause, arrows step a frame (with shift, a second), n / p the
// next / previous unmasked moment, d draw a box, s save the moved box, m mask or leave
// out the selected track. Letters work wherever nothing is being typed (after pressing
// a track's Edit button or ticking a track, too); on a button, a tick box or the
// scrubber, space and the arrows keep their own meaning.
const NOT_TYPED = ["checkbox", "radio", "range", "button", "submit", "reset"];

function typingIn(target) {
  if (target.closest("textarea, select, [contenteditable]")) return true;
  const input = target.closest("input");
  return Boolean(input) && !NOT_TYPED.includes(input.type);
}

function ownKey(target, key) {
  return Boolean(target.closest("button, input")) && (key === " " || key === "Enter" || key.startsWith("Arrow"));
}

document.addEventListener("keydown", (event) => {
  if (!video || typingIn(event.target) || ownKey(event.target, event.key)) return;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const step = 1 / 25;
  const actions = {
    " ": () => (video.paused ? video.play() : video.pause()),
    k: () => (video.paused ? video.play() : video.pause()),
    ArrowLeft: () => seek(video.currentTime - (event.shiftKey ? 1 : step)),
    ArrowRight: () => seek(video.currentTime + (event.shiftKey ? 1 : step)),
    n: () => stepUnmasked(1),
    p: () => stepUnmasked(-1),
    d: () => drawButton.click(),
    s: () => { if (!saveButton.disabled) saveButton.click(); },
    m: () => {
      if (selected !== null) document.querySelector(`#track-${selected} form[data-include-form] button`)?.click();
    },
  };
  const action = actions[event.key];
  if (!action) return;
  event.preventDefault();
  action();
});

load().then(showUnmasked);
