// Two to four cameras on one wall-clock timeline, played in step. One player leads (the
// first with footage at that moment); the others follow it, trimming their speed a few
// percent for small drift and seeking when they fall more than a few frames out.
import { clock } from "./timeline.js";

const root = document.getElementById("multicam");
const HARD_SEEK_S = 0.25;
const DEAD_BAND_S = 0.02;
const TRIM = 0.5; // rate correction per second of drift (capped below)
const MAX_TRIM = 0.08;

function signed(seconds) {
  const value = Math.abs(seconds) < 0.0005 ? 0 : seconds;
  return `${value >= 0 ? "+" : "−"}${Math.abs(value).toFixed(3)} s`;
}

function csrf() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

async function api(url, method = "GET", body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Error((data && (data.detail || data.title)) || response.statusText);
  return data;
}

function say(text) {
  document.getElementById("mc-status").textContent = text;
}

class Camera {
  constructor(recording, grid) {
    this.recording = recording;
    this.figure = document.createElement("figure");
    this.figure.className = "camera";
    this.stage = document.createElement("div");
    this.stage.className = "camera-stage";
    this.gap = document.createElement("div");
    this.gap.className = "camera-gap";
    this.gap.textContent = "No footage from this camera at this moment";
    this.gap.hidden = true;
    this.clips = recording.clips.filter((c) => c.proxy).map((clip) => {
      const video = document.createElement("video");
      video.src = clip.proxy;
      video.preload = "auto";
      video.playsInline = true;
      video.muted = true;
      video.hidden = true;
      video.dataset.original = String(clip.original);
      video.dataset.start = String(clip.start);
      video.setAttribute("aria-label", `${recording.officer}, ${recording.title}`);
      this.stage.append(video);
      return { ...clip, video };
    });
    this.stage.append(this.gap);
    const caption = document.createElement("figcaption");
    const link = document.createElement("a");
    link.href = recording.url;
    link.textContent = recording.title;
    this.note = document.createElement("span");
    this.note.className = "camera-note";
    caption.append(link, ` · ${recording.officer} · ${recording.device} `, this.note);
    this.figure.append(this.stage, caption);
    grid.append(this.figure);
    this.active = null;
  }

  clipAt(w) {
    return this.clips.find((c) => w >= c.start && w < c.start + c.duration) || null;
  }

  show(clip) {
    if (clip === this.active) return;
    for (const c of this.clips) if (c !== clip) { c.video.pause(); c.video.hidden = true; }
    this.active = clip;
    this.gap.hidden = Boolean(clip);
    if (clip) clip.video.hidden = false;
  }

  position() {
    return this.active ? this.active.start + this.active.video.currentTime : null;
  }
}

class Multicam {
  constructor(state) {
    this.grid = document.getElementById("multicam-grid");
    this.controls = root.querySelector(".multicam-controls");
    this.state = state;
    this.playing = false;
    this.rate = 1;
    this.wall = 0;
    this.anchor = null; // {wall, at}: the virtual clock when no camera leads
    this.cameras = [];
    this.pending = new Map(); // offset id -> unsaved value
    this.build();
  }

  build() {
    const wanted = root.dataset.play.split(",").map(Number);
    this.grid.replaceChildren();
    const recordings = this.state.recordings.filter((r) => wanted.includes(r.id) && r.clips.some((c) => c.proxy));
    this.cameras = recordings.map((r) => new Camera(r, this.grid));
    this.duration = Math.max(0, ...this.state.recordings.flatMap((r) => r.clips.map((c) => c.start + c.duration)));
    this.origin = this.state.origin ? new Date(this.state.origin) : null;
    const listen = document.getElementById("mc-listen");
    listen.replaceChildren(new Option("No camera (muted)", ""));
    for (const camera of this.cameras) listen.append(new Option(camera.recording.officer, String(camera.recording.id)));
    if (this.cameras.length) listen.value = String(this.cameras[0].recording.id);
    this.controls.hidden = false;
    document.getElementById("mc-timeline").hidden = false;
    const scrubber = document.getElementById("mc-scrubber");
    scrubber.max = String(this.duration);
    this.drawLanes();
    this.offsetsTable();
    this.jobNote();
    this.seek(this.wall);
    this.applyListen();
  }

  // --- the clock ---------------------------------------------------------------------------

  leader() {
    return this.cameras.find((c) => c.active && !c.active.video.paused && c.active.video.readyState >= 3) || null;
  }

  now() {
    const lead = this.playing ? this.leader() : null;
    if (lead) return lead.position();
    if (this.playing && this.anchor) return this.anchor.wall + ((performance.now() - this.anchor.at) / 1000) * this.rate;
    return this.wall;
  }

  tick() {
    if (!this.playing) return;
    this.wall = this.now();
    if (this.wall >= this.duration) { this.pause(); return; }
    const lead = this.leader();
    if (!lead) this.anchor = this.anchor || { wall: this.wall, at: performance.now() };
    else this.anchor = { wall: this.wall, at: performance.now() };
    for (const camera of this.cameras) this.follow(camera, camera === lead);
    this.render();
    requestAnimationFrame(() => this.tick());
  }

  follow(camera, leading) {
    const clip = camera.clipAt(this.wall);
    camera.show(clip);
    if (!clip) return;
    const video = clip.video;
    const target = this.wall - clip.start;
    if (leading) {
      video.playbackRate = this.rate;
      return;
    }
    const drift = video.currentTime - target;
    if (Math.abs(drift) > HARD_SEEK_S || video.paused) {
      if (!video.seeking) video.currentTime = Math.max(0, target + (video.paused ? 0 : 0.05 * this.rate));
      if (video.paused) video.play().catch(() => {});
      video.playbackRate = this.rate;
    } else if (Math.abs(drift) > DEAD_BAND_S) {
      const trim = Math.max(-MAX_TRIM, Math.min(MAX_TRIM, -drift * TRIM));
      video.playbackRate = this.rate * (1 + trim);
    } else {
      video.playbackRate = this.rate;
    }
  }

  play() {
    if (this.playing) return;
    this.playing = true;
    this.anchor = { wall: this.wall, at: performance.now() };
    for (const camera of this.cameras) {
      const clip = camera.clipAt(this.wall);
      camera.show(clip);
      if (clip) {
        clip.video.playbackRate = this.rate;
        clip.video.play().catch((e) => say(`A camera could not play: ${e.message}`));
      }
    }
    this.render();
    requestAnimationFrame(() => this.tick());
  }

  pause() {
    this.wall = this.now();
    this.playing = false;
    for (const camera of this.cameras) for (const c of camera.clips) c.video.pause();
    this.seek(this.wall);
  }

  toggle() {
    if (this.playing) this.pause(); else this.play();
  }

  seek(w) {
    this.wall = Math.max(0, Math.min(this.duration, w));
    this.anchor = { wall: this.wall, at: performance.now() };
    for (const camera of this.cameras) {
      const clip = camera.clipAt(this.wall);
      camera.show(clip);
      if (clip) {
        clip.video.currentTime = Math.max(0, this.wall - clip.start);
        if (this.playing) clip.video.play().catch(() => {});
      }
    }
    this.render();
  }

  step(frames) {
    if (this.playing) this.pause();
    const fps = (this.cameras[0] && this.cameras[0].clips[0] && this.cameras[0].clips[0].fps) || 25;
    this.seek(Math.round(this.wall * fps + frames) / fps + 0.001);
  }

  setRate(rate) {
    this.rate = rate;
    for (const camera of this.cameras) for (const c of camera.clips) c.video.playbackRate = rate;
  }

  applyListen() {
    const chosen = document.getElementById("mc-listen").value;
    for (const camera of this.cameras) for (const c of camera.clips) c.video.muted = String(camera.recording.id) !== chosen;
  }

  /** Largest gap between two cameras' wall-clock positions, in seconds (for tests). */
  spread() {
    const positions = this.cameras.map((c) => c.position()).filter((p) => p !== null);
    return positions.length < 2 ? 0 : Math.max(...positions) - Math.min(...positions);
  }

  // --- display ---------------------------------------------------------------------------

  render() {
    const play = this.controls.querySelector("[data-act=play]");
    play.querySelector(".icon-play").toggleAttribute("hidden", this.playing);
    play.querySelector(".icon-pause").toggleAttribute("hidden", !this.playing);
    play.querySelector(".label").textContent = this.playing ? "Pause" : "Play";
    document.getElementById("mc-time").textContent = `${clock(this.wall)} / ${clock(this.duration)}`;
    if (this.origin) {
      const at = new Date(this.origin.getTime() + this.wall * 1000);
      document.getElementById("mc-wall").textContent = `${at.toISOString().slice(11, 23)} UTC`;
    }
    const scrubber = document.getElementById("mc-scrubber");
    if (document.activeElement !== scrubber) scrubber.value = String(this.wall);
    scrubber.setAttribute("aria-valuetext", clock(this.wall, 1));
    for (const camera of this.cameras) {
      const clip = camera.active;
      camera.note.textContent = clip ? (clip.anchored ? `clock ${signed(clip.correction)}` : "camera clock (not linked)") : "";
    }
    this.drawPlayhead();
  }

  drawLanes() {
    const lanes = document.getElementById("mc-lanes");
    lanes.replaceChildren();
    this.laneCanvases = [];
    for (const recording of this.state.recordings) {
      const row = document.createElement("div");
      row.className = "lane lane-camera";
      const label = document.createElement("span");
      label.className = "lane-label";
      label.textContent = recording.officer;
      const canvas = document.createElement("canvas");
      canvas.className = "lane-canvas";
      canvas.height = 22;
      canvas.setAttribute("aria-hidden", "true");
      canvas.addEventListener("click", (e) => {
        const rect = canvas.getBoundingClientRect();
        this.seek(((e.clientX - rect.left) / rect.width) * this.duration);
      });
      row.append(label, canvas);
      lanes.append(row);
      this.laneCanvases.push({ canvas, recording });
    }
    this.drawPlayhead();
  }

  drawPlayhead() {
    for (const { canvas, recording } of this.laneCanvases || []) {
      const width = canvas.clientWidth;
      if (!width) continue;
      const ratio = window.devicePixelRatio || 1;
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(22 * ratio);
      const ctx = canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      const x = (t) => (t / this.duration) * width;
      const shown = root.dataset.play.split(",").map(Number).includes(recording.id);
      for (const clip of recording.clips) {
        ctx.fillStyle = shown ? (clip.anchored ? "#1d4f91" : "#7a4b00") : "#8a95a3";
        ctx.fillRect(x(clip.start), 4, Math.max(2, x(clip.duration) - 1), 14);
      }
      ctx.fillStyle = "#a4161a";
      ctx.fillRect(Math.round(x(this.wall)) - 1, 0, 2, 22);
    }
  }

  jobNote() {
    const job = this.state.job;
    const note = document.getElementById("mc-job");
    note.textContent = job ? `Last estimate: ${job.status}${job.status === "running" ? ` ${Math.round(job.progress * 100)}%` : ""}${job.last_error ? ` (${job.last_error})` : ""}` : "Not estimated yet.";
    if (job && (job.status === "queued" || job.status === "running" || job.status === "retrying")) {
      setTimeout(() => this.reload().catch((error) => {
        say(`Could not refresh: ${error.message}; trying again.`);
        this.jobNote();
      }), 1500);
    }
  }

  offsetsTable() {
    const body = document.getElementById("offsets-body");
    body.replaceChildren();
    if (!this.state.offsets.length) {
      const row = body.insertRow();
      const cell = row.insertCell();
      cell.colSpan = 5;
      cell.className = "muted";
      cell.textContent = "No offsets yet: estimate them from the audio.";
      return;
    }
    for (const offset of this.state.offsets) {
      const row = body.insertRow();
      row.dataset.offset = String(offset.id);
      const pair = document.createElement("th");
      pair.scope = "row";
      pair.textContent = `${offset.other_title} against ${offset.reference_title}`;
      row.append(pair);
      row.insertCell().textContent = offset.estimated_s === null ? "—" : signed(offset.estimated_s);
      const confidence = row.insertCell();
      const flag = document.createElement("span");
      flag.className = `flag confidence-${offset.level}`;
      flag.textContent = offset.level;
      confidence.append(flag, offset.confidence === null ? "" : ` ${Math.round(offset.confidence * 100)}%${offset.peak_ratio ? ` (peak ${offset.peak_ratio.toFixed(1)}× the next)` : ""}`);
      const inUse = row.insertCell();
      const value = this.pending.has(offset.id) ? this.pending.get(offset.id) : offset.offset_s;
      inUse.textContent = `${signed(value)} · ${offset.source === "manual" ? `set by ${offset.updated_by}` : offset.source === "estimate" ? "estimate" : "camera clocks"}${this.pending.has(offset.id) ? " (unsaved)" : ""}`;
      const actions = row.insertCell();
      actions.className = "nudge";
      if (!offset.may_edit) { actions.textContent = "You may not change it."; continue; }
      for (const [delta, text, label] of [[-0.04, "−1 frame", "Move 40 ms earlier"], [-0.01, "−10 ms", "Move 10 ms earlier"], [0.01, "+10 ms", "Move 10 ms later"], [0.04, "+1 frame", "Move 40 ms later"]]) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = text;
        button.setAttribute("aria-label", `${label}: ${offset.other_title}`);
        button.addEventListener("click", () => this.nudge(offset, delta));
        actions.append(button);
      }
      const note = document.createElement("input");
      note.type = "text";
      note.placeholder = "Reason";
      note.maxLength = 500;
      note.setAttribute("aria-label", `Reason for changing the offset of ${offset.other_title}`);
      const save = document.createElement("button");
      save.type = "button";
      save.className = "button-primary";
      save.textContent = "Save";
      save.disabled = !this.pending.has(offset.id);
      save.addEventListener("click", () => this.save(offset, note.value));
      actions.append(note, save);
    }
  }

  nudge(offset, delta) {
    const before = this.pending.has(offset.id) ? this.pending.get(offset.id) : offset.offset_s;
    const value = Math.round((before + delta) * 1000) / 1000;
    this.pending.set(offset.id, value);
    // Preview: move the other clip's camera by the same amount while watching.
    for (const recording of this.state.recordings) {
      for (const clip of recording.clips) {
        if (clip.original === offset.other) clip.start += delta;
      }
    }
    for (const camera of this.cameras) for (const clip of camera.clips) {
      if (clip.original === offset.other) { clip.start += delta; clip.video.dataset.start = String(clip.start); }
    }
    this.offsetsTable();
    this.drawLanes();
    this.seek(this.wall);
    say(`Offset ${signed(value)} (not saved yet).`);
  }

  async save(offset, note) {
    try {
      await api(offset.url, "PUT", { offset_s: this.pending.get(offset.id), note });
      this.pending.delete(offset.id);
      say("Offset saved; the change is in the custody log.");
      await this.reload();
    } catch (error) {
      say(`Not saved: ${error.message}`);
    }
  }

  async estimate() {
    try {
      const job = await api(root.dataset.syncUrl, "POST");
      this.state.job = job;
      if (job.status === "succeeded") {
        say("These clips' offsets are already estimated.");
        await this.reload();
        return;
      }
      say(`Estimating offsets (job ${job.id})…`);
      this.jobNote();
    } catch (error) {
      say(`Could not start the estimate: ${error.message}`);
    }
  }

  async reload() {
    const wall = this.now();
    const playing = this.playing;
    if (playing) this.pause();
    this.state = await api(root.dataset.syncUrl);
    this.wall = wall;
    this.build();
    if (this.state.job && this.state.job.status === "succeeded") say("Offsets updated.");
    if (playing) this.play();
  }

  bind() {
    const act = (name, fn) => {
      for (const el of root.querySelectorAll(`[data-act="${name}"]`)) el.addEventListener(el.tagName === "SELECT" ? "change" : "click", fn);
    };
    act("play", () => this.toggle());
    act("back", () => this.seek(this.now() - 5));
    act("forward", () => this.seek(this.now() + 5));
    act("frame-back", () => this.step(-1));
    act("frame-forward", () => this.step(1));
    act("speed", (e) => this.setRate(Number(e.target.value)));
    act("listen", () => this.applyListen());
    act("estimate", () => this.estimate());
    document.getElementById("mc-scrubber").addEventListener("input", (e) => this.seek(Number(e.target.value)));
    document.addEventListener("keydown", (e) => {
      const target = e.target;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (target instanceof HTMLElement && target.closest("input, textarea, select, button")) return;
      const keys = {
        " ": () => this.toggle(), k: () => this.toggle(), K: () => this.toggle(),
        ",": () => this.step(-1), ".": () => this.step(1),
        ArrowLeft: () => this.seek(this.now() - (e.shiftKey ? 1 : 5)), ArrowRight: () => this.seek(this.now() + (e.shiftKey ? 1 : 5)),
        j: () => this.seek(this.now() - 5), l: () => this.seek(this.now() + 5),
      };
      if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
    });
  }
}

if (root) {
  api(root.dataset.syncUrl)
    .then((state) => {
      const view = new Multicam(state);
      view.bind();
      window.overtMulticam = view; // for tests and the curious
    })
    .catch((error) => say(`Could not load the cameras: ${error.message}`));
}
