// The player: one <video> per clip (only the active one shown), custom controls, frame
// stepping, speeds, zoom and pan, keyboard shortcuts, the timeline, and the reviewer's
// actions (bookmarks, clips, stills, details), each a call to the audited API.
import { Timeline, clock } from "./timeline.js";

const SPEEDS = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4];
const ZOOM_MIN = 1, ZOOM_MAX = 8;

const root = document.getElementById("player");
const videos = [...document.querySelectorAll("video.player-video")];
const statusLine = document.getElementById("player-status");

function say(text) {
  if (statusLine) statusLine.textContent = text;
}

function csrf() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (input) return input.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function api(url, method, body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const errors = data && data.errors ? ` (${Object.entries(data.errors).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`).join("; ")})` : "";
    throw new Error(`${(data && (data.detail || data.title)) || response.statusText}${errors}`);
  }
  return data;
}

class Player {
  constructor() {
    this.videos = videos;
    this.clips = videos.map((video) => ({
      video,
      original: Number(video.dataset.original),
      number: Number(video.dataset.number),
      fps: Number(video.dataset.fps) || 25,
      start: 0,
    }));
    this.active = this.clips[0];
    this.zoom = 1;
    this.pan = [0, 0];
    this.marks = { in: null, out: null };
    this.stage = document.getElementById("stage");
    this.inner = document.getElementById("stage-inner");
    this.controls = root.querySelector(".player-controls");
    this.timeline = null;
    for (const clip of this.clips) {
      clip.video.removeAttribute("controls"); // ours take over (zoom would move the native ones)
      clip.video.addEventListener("ended", () => this.next());
      for (const name of ["timeupdate", "seeked", "loadedmetadata", "play", "pause", "ratechange", "volumechange"]) {
        clip.video.addEventListener(name, () => { if (clip === this.active) this.render(); });
      }
    }
    this.controls.hidden = false;
    const bar = document.getElementById("mark-bar");
    if (bar) bar.hidden = false;
    this.bind();
    this.render();
  }

  get video() {
    return this.active.video;
  }

  // --- time ------------------------------------------------------------------------------

  /** Seconds from the recording's first picture. */
  get time() {
    return this.active.start + (this.video.currentTime || 0);
  }

  /** The picture on screen, in the active clip's own seconds. */
  pictureTime() {
    const fps = this.active.fps;
    return Math.max(0, Math.floor(this.video.currentTime * fps + 1e-3) / fps);
  }

  activate(clip, { keepPlaying = false } = {}) {
    if (clip === this.active) return;
    const playing = keepPlaying && !this.video.paused;
    const { playbackRate, muted, volume } = this.video;
    this.video.pause();
    this.active.video.hidden = true;
    this.active = clip;
    clip.video.hidden = false;
    clip.video.preload = "auto";
    Object.assign(clip.video, { playbackRate, muted, volume });
    if (playing) clip.video.play().catch(() => {});
    this.render();
  }

  seekClip(clip, offset, { play = false } = {}) {
    this.activate(clip, { keepPlaying: true });
    const go = () => {
      clip.video.currentTime = Math.max(0, Math.min(offset, (clip.video.duration || offset) - 0.001));
      if (play) clip.video.play().catch(() => {});
    };
    if (clip.video.readyState >= HTMLMediaElement.HAVE_METADATA) go();
    else clip.video.addEventListener("loadedmetadata", go, { once: true });
  }

  /** Seek on the recording's timeline; between clips, to the next clip's start. */
  seek(t) {
    const within = this.clips.find((c) => t >= c.start && t < c.start + (c.video.duration || Infinity));
    const after = this.clips.find((c) => c.start >= t);
    const clip = within || after || this.clips[this.clips.length - 1];
    this.seekClip(clip, Math.max(0, t - clip.start));
  }

  next() {
    const index = this.clips.indexOf(this.active);
    if (index + 1 < this.clips.length) this.seekClip(this.clips[index + 1], 0, { play: true });
  }

  step(frames) {
    this.video.pause();
    const fps = this.active.fps;
    const frame = Math.round(this.pictureTime() * fps) + frames;
    const last = Math.floor((this.video.duration || 0) * fps) - 1;
    if (frame < 0 && this.clips.indexOf(this.active) > 0) {
      const previous = this.clips[this.clips.indexOf(this.active) - 1];
      this.seekClip(previous, Math.max(0, (previous.video.duration || 0) - 1 / previous.fps));
      return;
    }
    if (frame > last && last > 0 && this.clips.indexOf(this.active) + 1 < this.clips.length) {
      this.seekClip(this.clips[this.clips.indexOf(this.active) + 1], 0);
      return;
    }
    // Land a millisecond inside the picture, so rounding never shows its neighbour.
    this.video.currentTime = Math.max(0, Math.min(frame, Math.max(0, last)) / fps + 0.001);
  }

  skip(seconds) {
    this.seek(Math.max(0, this.time + seconds));
  }

  toggle() {
    if (this.video.paused) this.video.play().catch((e) => say(`Could not play: ${e.message}`));
    else this.video.pause();
  }

  setSpeed(rate) {
    for (const clip of this.clips) clip.video.playbackRate = rate;
    this.controls.querySelector("#speed").value = String(rate);
    say(`Speed ${rate}×`);
  }

  nudgeSpeed(direction) {
    const current = SPEEDS.indexOf(this.video.playbackRate);
    const index = Math.max(0, Math.min(SPEEDS.length - 1, (current < 0 ? 3 : current) + direction));
    this.setSpeed(SPEEDS[index]);
  }

  // --- zoom and pan ----------------------------------------------------------------------

  setZoom(zoom, focus = null) {
    const before = this.zoom;
    this.zoom = Math.max(ZOOM_MIN, Math.min(ZOOM_MAX, zoom));
    if (focus && before !== this.zoom) {
      // Keep the point under the pointer still while zooming.
      const k = this.zoom / before;
      this.pan = [focus[0] - (focus[0] - this.pan[0]) * k, focus[1] - (focus[1] - this.pan[1]) * k];
    }
    if (this.zoom === 1) this.pan = [0, 0];
    this.applyTransform();
  }

  panBy(dx, dy) {
    this.pan = [this.pan[0] + dx, this.pan[1] + dy];
    this.applyTransform();
  }

  applyTransform() {
    const rect = this.stage.getBoundingClientRect();
    const maxX = (rect.width * (this.zoom - 1)) / 2, maxY = (rect.height * (this.zoom - 1)) / 2;
    this.pan = [Math.max(-maxX, Math.min(maxX, this.pan[0])), Math.max(-maxY, Math.min(maxY, this.pan[1]))];
    this.inner.style.transform = `translate(${this.pan[0]}px, ${this.pan[1]}px) scale(${this.zoom})`;
    this.stage.classList.toggle("zoomed", this.zoom > 1);
    document.getElementById("zoom-level").textContent = `${Math.round(this.zoom * 100)}%`;
  }

  // --- display ---------------------------------------------------------------------------

  render() {
    const video = this.video;
    const t = this.pictureTime();
    const fps = this.active.fps;
    const play = this.controls.querySelector("[data-act=play]");
    play.querySelector(".icon-play").toggleAttribute("hidden", !video.paused);
    play.querySelector(".icon-pause").toggleAttribute("hidden", video.paused);
    play.querySelector(".label").textContent = video.paused ? "Play" : "Pause";
    const mute = this.controls.querySelector("[data-act=mute]");
    mute.setAttribute("aria-pressed", String(video.muted));
    mute.textContent = video.muted ? "Unmute" : "Mute";
    document.getElementById("time-readout").textContent =
      `${clock(this.active.start + t)} / ${clock(this.timeline ? this.timeline.duration : video.duration || 0)}`;
    document.getElementById("frame-readout").textContent =
      `clip ${this.active.number} · frame ${Math.round(t * fps)}`;
    const wall = document.getElementById("wall-readout");
    if (this.origin) {
      const at = new Date(this.origin.getTime() + (this.active.start + t) * 1000);
      wall.textContent = `${at.toISOString().slice(11, 23)} UTC`;
    }
    if (this.timeline) this.timeline.setTime(this.active.start + (video.currentTime || 0));
    if (!video.paused) requestAnimationFrame(() => this.render());
  }

  // --- wiring ----------------------------------------------------------------------------

  bind() {
    const act = (name, fn) => {
      for (const el of root.querySelectorAll(`[data-act="${name}"]`)) el.addEventListener(el.tagName === "SELECT" ? "change" : "click", fn);
    };
    act("play", () => this.toggle());
    act("frame-back", () => this.step(-1));
    act("frame-forward", () => this.step(1));
    act("back", () => this.skip(-5));
    act("forward", () => this.skip(5));
    act("speed", (e) => this.setSpeed(Number(e.target.value)));
    act("zoom-in", () => this.setZoom(this.zoom * 1.25));
    act("zoom-out", () => this.setZoom(this.zoom / 1.25));
    act("zoom-reset", () => this.setZoom(1));
    act("mute", () => { for (const c of this.clips) c.video.muted = !this.video.muted; this.render(); });
    act("fullscreen", () => this.fullscreen());
    act("help", () => openHelp());
    act("mark-in", () => this.mark("in"));
    act("mark-out", () => this.mark("out"));
    act("make-clip", () => this.makeClip());
    act("make-still", () => this.makeStill());
    act("add-bookmark", () => this.addBookmark());
    this.stage.addEventListener("click", () => this.toggle());
    this.stage.addEventListener("wheel", (e) => {
      if (!e.ctrlKey && this.zoom === 1 && e.deltaY > 0) return;
      e.preventDefault();
      const rect = this.stage.getBoundingClientRect();
      const focus = [e.clientX - rect.left - rect.width / 2, e.clientY - rect.top - rect.height / 2];
      this.setZoom(this.zoom * (e.deltaY < 0 ? 1.15 : 1 / 1.15), focus);
    }, { passive: false });
    let drag = null;
    this.stage.addEventListener("pointerdown", (e) => {
      if (this.zoom === 1) return;
      drag = { x: e.clientX, y: e.clientY, moved: false };
      this.stage.setPointerCapture(e.pointerId);
    });
    this.stage.addEventListener("pointermove", (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
      drag.x = e.clientX; drag.y = e.clientY;
      this.panBy(dx, dy);
    });
    this.stage.addEventListener("pointerup", (e) => {
      if (drag && drag.moved) e.stopPropagation();
      this.suppressClick = drag && drag.moved;
      drag = null;
    });
    this.stage.addEventListener("click", (e) => {
      if (this.suppressClick) { e.stopImmediatePropagation(); this.suppressClick = false; }
    }, true);
    document.addEventListener("keydown", (e) => this.key(e));
    for (const button of document.querySelectorAll("button[data-seek-video]")) {
      button.addEventListener("click", () => {
        const clip = this.clips.find((c) => c.video.id === button.dataset.seekVideo);
        const offset = Number(button.dataset.seekOffset);
        if (!clip || !Number.isFinite(offset)) return;
        this.seekClip(clip, Math.max(0, offset), { play: true });
        this.stage.scrollIntoView({ block: "nearest", behavior: "smooth" });
      });
    }
  }

  fullscreen() {
    if (document.fullscreenElement) document.exitFullscreen();
    else this.stage.requestFullscreen().catch((e) => say(`Full screen refused: ${e.message}`));
  }

  key(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    if (target instanceof HTMLElement && target.closest("input:not([type=range]), textarea, select, [contenteditable], dialog[open]")) return;
    const k = event.key;
    const handled = () => { event.preventDefault(); this.render(); };
    if (event.altKey) {
      const moves = { ArrowLeft: [40, 0], ArrowRight: [-40, 0], ArrowUp: [0, 40], ArrowDown: [0, -40] };
      if (moves[k]) { this.panBy(...moves[k]); handled(); }
      return;
    }
    if (target instanceof HTMLInputElement && target.type === "range" && ["ArrowLeft", "ArrowRight", "Home", "End"].includes(k)) return;
    if (target instanceof HTMLButtonElement && (k === " " || k === "Enter")) return;
    switch (k) {
      case " ": case "k": case "K": this.toggle(); return handled();
      case ",": case "<": this.step(-1); return handled();
      case ".": case ">": this.step(1); return handled();
      case "ArrowLeft": case "j": case "J": this.skip(event.shiftKey ? -1 : -5); return handled();
      case "ArrowRight": case "l": case "L": this.skip(event.shiftKey ? 1 : 5); return handled();
      case "Home": this.seek(0); return handled();
      case "End": this.seek((this.timeline ? this.timeline.duration : this.time) - 0.05); return handled();
      case "[": this.nudgeSpeed(-1); return handled();
      case "]": this.nudgeSpeed(1); return handled();
      case "\\": this.setSpeed(1); return handled();
      case "+": case "=": this.setZoom(this.zoom * 1.25); return handled();
      case "-": case "_": this.setZoom(this.zoom / 1.25); return handled();
      case "0": this.setZoom(1); return handled();
      case "m": case "M": this.controls.querySelector("[data-act=mute]").click(); return handled();
      case "f": case "F": this.fullscreen(); return handled();
      case "n": case "N": this.bookmark(1); return handled();
      case "p": case "P": this.bookmark(-1); return handled();
      case "i": case "I": if (root.querySelector("[data-act=mark-in]")) { this.mark("in"); return handled(); } return;
      case "o": case "O": if (root.querySelector("[data-act=mark-out]")) { this.mark("out"); return handled(); } return;
      case "c": case "C": if (root.querySelector("[data-act=make-clip]")) { this.makeClip(); return handled(); } return;
      case "s": case "S": if (root.querySelector("[data-act=make-still]")) { this.makeStill(); return handled(); } return;
      case "b": case "B": if (root.querySelector("[data-act=add-bookmark]")) { this.addBookmark(); return handled(); } return;
      case "?": openHelp(); return handled();
      default:
    }
  }

  bookmark(direction) {
    const track = this.timeline && this.timeline.data.tracks.find((t) => t.id === "bookmarks");
    if (!track || !track.items.length) return say("No bookmarks.");
    const now = this.time;
    const items = [...track.items].sort((a, b) => a.t - b.t);
    const next = direction > 0 ? items.find((i) => i.t > now + 0.05) : items.reverse().find((i) => i.t < now - 0.25);
    if (!next) return say(direction > 0 ? "No later bookmark." : "No earlier bookmark.");
    this.seek(next.t);
    say(`Bookmark: ${next.label} at ${clock(next.t, 1)}`);
  }

  // --- the reviewer's actions --------------------------------------------------------------

  mark(which) {
    this.video.pause();
    this.marks[which] = { clip: this.active, at: this.pictureTime() };
    document.getElementById(`mark-${which}`).textContent = `clip ${this.active.number} ${clock(this.marks[which].at)}`;
    say(`${which === "in" ? "In" : "Out"}-point set at ${clock(this.marks[which].at)} in clip ${this.active.number}.`);
  }

  label() {
    const input = document.getElementById("mark-label");
    return input ? input.value.trim() : "";
  }

  async makeClip() {
    const { in: from, out: to } = this.marks;
    if (!from || !to) return say("Set the in-point (I) and the out-point (O) first.");
    if (from.clip !== to.clip) return say("The in-point and out-point must be in the same clip.");
    if (to.at < from.at) return say("The out-point comes before the in-point.");
    say("Asking for the clip…");
    try {
      const result = await api(root.dataset.clipsUrl, "POST", { original: from.clip.original, in_s: from.at, out_s: to.at, label: this.label() });
      this.follow(result, "Clip");
    } catch (error) {
      say(`The clip was not made: ${error.message}`);
    }
  }

  async makeStill() {
    this.video.pause();
    const at = this.pictureTime();
    say("Asking for the still…");
    try {
      const result = await api(root.dataset.stillsUrl, "POST", { original: this.active.original, at_s: at, label: this.label() });
      this.follow(result, "Still");
    } catch (error) {
      say(`The still was not saved: ${error.message}`);
    }
  }

  follow(result, what) {
    if (result.derivative) return this.made(result.derivative, what);
    say(`${what} queued (job ${result.job.id}); it appears below when ready.`);
    const url = root.dataset.jobUrl.replace("{id}", result.job.id);
    const poll = async () => {
      try {
        const state = await api(url, "GET");
        if (state.derivative) return this.made(state.derivative, what);
        if (state.job.status === "failed") return say(`${what} failed: ${state.job.last_error}`);
        say(`${what}: ${state.job.status} ${Math.round(state.job.progress * 100)}%`);
      } catch (error) {
        say(`${what}: ${error.message}`);
      }
      setTimeout(poll, 1000);
    };
    setTimeout(poll, 500);
  }

  made(derivative, what) {
    const list = document.getElementById("made-list");
    const none = document.getElementById("made-none");
    if (none) none.remove();
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = derivative.url;
    const facts = derivative.facts || {};
    link.textContent = facts.label || (derivative.kind === "clip"
      ? `Clip ${clock(facts.in_s)} to ${clock(facts.out_s)}`
      : `Still at ${clock(facts.at_s)}`);
    const note = document.createElement("span");
    note.className = "muted";
    note.textContent = derivative.kind === "clip" ? ` MP4, ${facts.frames} frames (${facts.method})` : ` PNG, ${facts.width} × ${facts.height}`;
    item.append(link, note);
    list.prepend(item);
    say(`${what} ready: ${link.textContent}.`);
  }

  async addBookmark() {
    this.video.pause();
    const text = this.label() || window.prompt("Bookmark text") || "";
    if (!text.trim()) return say("A bookmark needs some text.");
    try {
      await api(root.dataset.markersUrl, "POST", { original: this.active.original, offset_s: this.pictureTime(), text });
      say(`Bookmark added at ${clock(this.time, 1)}.`);
      await this.loadTimeline();
    } catch (error) {
      say(`The bookmark was not added: ${error.message}`);
    }
  }

  async loadTimeline() {
    const container = document.getElementById("timeline");
    try {
      const data = await api(root.dataset.timelineUrl, "GET");
      this.origin = new Date(data.origin);
      for (const clip of this.clips) {
        const info = data.clips.find((c) => c.original === clip.original);
        if (info) clip.start = info.start;
      }
      container.hidden = false;
      if (this.timeline) {
        this.timeline.data = data;
        this.timeline.lanes = [];
        this.timeline.build();
        this.timeline.loadWaveforms();
      } else {
        this.timeline = new Timeline(container, data, {
          onSeek: (t, item) => {
            if (item && item.original) {
              const clip = this.clips.find((c) => c.original === item.original);
              if (clip) return this.seekClip(clip, item.offset);
            }
            this.seek(t);
          },
        });
      }
      this.render();
    } catch (error) {
      say(`The timeline could not be loaded: ${error.message}`);
    }
  }
}

function openHelp() {
  const dialog = document.getElementById("shortcuts-dialog");
  if (dialog && !dialog.open) dialog.showModal();
}

async function saveDetails(form) {
  const status = form.querySelector(".form-status");
  const value = (name) => form.elements[name].value;
  const body = {
    title: value("title"),
    notes: value("notes"),
    categories: [...form.querySelectorAll("input[name=categories]:checked")].map((i) => i.value),
    tags: value("tags").split(",").map((t) => t.trim()).filter(Boolean),
    incident: value("incident").trim() || null,
    reason: value("reason"),
  };
  if (value("incident_title").trim()) body.incident_title = value("incident_title").trim();
  status.textContent = "Saving…";
  try {
    const result = await api(root.dataset.recordingUrl, "PATCH", body);
    status.textContent = result.changed.length ? `Saved: ${result.changed.join(", ")}. Reloading…` : "Nothing changed.";
    if (result.changed.length) window.location.reload();
  } catch (error) {
    status.textContent = `Not saved: ${error.message}`;
  }
}

if (root) {
  const form = document.getElementById("edit-form");
  if (form) form.addEventListener("submit", (e) => { e.preventDefault(); saveDetails(form); });
  if (videos.length) {
    const player = new Player();
    player.loadTimeline();
    window.overtPlayer = player; // for tests and the curious
  } else {
    document.addEventListener("keydown", (e) => { if (e.key === "?") openHelp(); });
  }
}
