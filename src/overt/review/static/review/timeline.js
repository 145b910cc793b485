// The timeline under the player. The server sends tracks as data ({id, label, kind,
// items}); each kind has a renderer here, so a new track of a known kind needs no script,
// and a new kind is one function added to RENDERERS.
const COLOURS = {
  clip: "#33415c",
  playhead: "#a4161a",
  buffer: "rgba(122, 75, 0, 0.22)",
  "buffer-end": "#7a4b00",
  "trigger-on": "#1e6b3a",
  "trigger-off": "#4f5966",
  point: "#1d4f91",
  custody: "#5b2a86",
  wave: "#1d4f91",
};
const LANE_HEIGHT = { clips: 22, points: 26, ranges: 26, waveform: 40 };

export function clock(seconds, decimals = 3) {
  const sign = seconds < 0 ? "-" : "";
  const s = Math.abs(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = (s % 60).toFixed(decimals).padStart(decimals ? 3 + decimals : 2, "0");
  return h ? `${sign}${h}:${String(m).padStart(2, "0")}:${rest}` : `${sign}${m}:${rest}`;
}

function drawPoints(ctx, track, view, lane) {
  for (const item of track.items) {
    if (item.t === undefined) continue;
    const x = view.x(item.t);
    ctx.fillStyle = COLOURS[item.kind] || (track.id === "custody" ? COLOURS.custody : COLOURS.point);
    ctx.beginPath();
    ctx.moveTo(x, 4);
    ctx.lineTo(x + 6, lane / 2);
    ctx.lineTo(x, lane - 4);
    ctx.lineTo(x - 6, lane / 2);
    ctx.closePath();
    ctx.fill();
  }
}

function drawRanges(ctx, track, view, lane) {
  for (const item of track.items) {
    const colour = COLOURS[item.kind] || (track.id === "custody" ? COLOURS.custody : COLOURS.point);
    if (item.start !== undefined && item.end !== undefined) {
      const x0 = view.x(item.start), x1 = Math.max(view.x(item.end), x0 + 2);
      ctx.fillStyle = item.kind === "buffer" ? COLOURS.buffer : colour;
      ctx.globalAlpha = item.kind === "buffer" ? 1 : 0.75;
      ctx.fillRect(x0, 5, x1 - x0, lane - 10);
      ctx.globalAlpha = 1;
    }
  }
  const points = { ...track, items: track.items.filter((i) => i.t !== undefined) };
  for (const item of points.items) {
    const x = view.x(item.t);
    ctx.strokeStyle = COLOURS[item.kind] || COLOURS.custody;
    ctx.lineWidth = 3;
    ctx.beginPath(); ctx.moveTo(x, 2); ctx.lineTo(x, lane - 2); ctx.stroke();
  }
}

function drawWaveform(ctx, track, view, lane, timeline) {
  const mid = lane / 2;
  ctx.strokeStyle = "#c9d1db";
  ctx.beginPath(); ctx.moveTo(0, mid); ctx.lineTo(view.width, mid); ctx.stroke();
  ctx.fillStyle = COLOURS.wave;
  for (const item of track.items) {
    const peaks = timeline.peaks.get(item.url);
    if (!peaks) continue;
    const perSecond = peaks.peaks_per_second;
    // One bar per pixel column: the loudest peak that falls in it.
    const first = Math.max(0, Math.floor(view.x(item.start)));
    const last = Math.min(view.width, Math.ceil(view.x(item.start + peaks.peaks.length / perSecond)));
    for (let px = first; px < last; px++) {
      const a = Math.floor((view.t(px) - item.start) * perSecond);
      const b = Math.max(a + 1, Math.floor((view.t(px + 1) - item.start) * perSecond));
      let lo = 0, hi = 0;
      for (let i = Math.max(0, a); i < Math.min(b, peaks.peaks.length); i++) {
        lo = Math.min(lo, peaks.peaks[i][0]);
        hi = Math.max(hi, peaks.peaks[i][1]);
      }
      ctx.fillRect(px, mid - hi * (mid - 2), 1, Math.max(1, (hi - lo) * (mid - 2)));
    }
  }
}

export const RENDERERS = { points: drawPoints, ranges: drawRanges, waveform: drawWaveform };

export class Timeline {
  constructor(root, data, { onSeek, onHoverTime } = {}) {
    this.root = root;
    this.data = data;
    this.onSeek = onSeek;
    this.onHoverTime = onHoverTime;
    this.duration = Math.max(0.001, data.duration || 0);
    this.time = 0;
    this.peaks = new Map();
    this.lanes = [];
    this.container = root.querySelector("#timeline-lanes");
    this.scrubber = root.querySelector("#scrubber");
    this.preview = root.querySelector("#scrub-preview");
    this.build();
    this.loadWaveforms();
    new ResizeObserver(() => this.draw()).observe(this.container);
  }

  view(width) {
    const duration = this.duration;
    return { width, x: (t) => (t / duration) * width, t: (x) => (x / width) * duration };
  }

  build() {
    this.container.replaceChildren();
    const clipsTrack = {
      id: "clips",
      label: "Clips",
      kind: "clips",
      items: this.data.clips.map((c) => ({ start: c.start, end: c.start + c.duration, label: `Clip ${c.number}`, playable: c.playable })),
    };
    for (const track of [clipsTrack, ...this.data.tracks]) {
      const row = document.createElement("div");
      row.className = `lane lane-${track.kind}`;
      row.dataset.track = track.id;
      const label = document.createElement("span");
      label.className = "lane-label";
      label.textContent = track.label;
      if (track.description) label.title = track.description;
      const canvas = document.createElement("canvas");
      canvas.className = "lane-canvas";
      canvas.setAttribute("aria-hidden", "true");
      canvas.height = LANE_HEIGHT[track.kind] || 26;
      row.append(label, canvas);
      this.container.append(row);
      this.lanes.push({ track, canvas, row });
      canvas.addEventListener("pointermove", (e) => this.hover(e, canvas, track));
      canvas.addEventListener("pointerleave", () => this.hideHover());
      canvas.addEventListener("click", (e) => this.click(e, canvas, track));
    }
    // A list of the point items for screen readers and keyboards: the canvases are pictures.
    const list = document.createElement("ul");
    list.className = "visually-hidden timeline-items";
    list.setAttribute("aria-label", "Timeline events");
    for (const track of this.data.tracks) {
      for (const item of track.items) {
        const at = item.t !== undefined ? item.t : item.start;
        if (at === undefined || track.kind === "waveform") continue;
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = `${track.label}: ${item.label} at ${clock(at, 1)}`;
        button.addEventListener("click", () => this.onSeek && this.onSeek(at));
        li.append(button);
        list.append(li);
      }
    }
    this.container.append(list);
    this.scrubber.max = String(this.duration);
    this.scrubber.step = "0.04";
    this.scrubber.addEventListener("input", () => this.onSeek && this.onSeek(Number(this.scrubber.value)));
    this.draw();
  }

  async loadWaveforms() {
    for (const track of this.data.tracks.filter((t) => t.kind === "waveform")) {
      for (const item of track.items) {
        try {
          const response = await fetch(item.url, { credentials: "same-origin" });
          if (response.ok) this.peaks.set(item.url, await response.json());
        } catch {
          // no waveform: the lane stays flat
        }
      }
    }
    this.draw();
  }

  draw() {
    for (const { track, canvas } of this.lanes) {
      const width = canvas.clientWidth;
      if (!width) continue;
      const ratio = window.devicePixelRatio || 1;
      const height = LANE_HEIGHT[track.kind] || 26;
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      const ctx = canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, width, height);
      const view = this.view(width);
      if (track.kind === "clips") {
        for (const item of track.items) {
          const x0 = view.x(item.start), x1 = view.x(item.end);
          ctx.fillStyle = item.playable ? COLOURS.clip : "#a4161a";
          ctx.fillRect(x0 + 1, 3, Math.max(1, x1 - x0 - 2), height - 6);
          ctx.fillStyle = "#ffffff";
          ctx.font = "12px system-ui, sans-serif";
          if (x1 - x0 > 50) ctx.fillText(item.label, x0 + 6, height / 2 + 4);
        }
        this.drawTicks(ctx, view, height);
      } else {
        (RENDERERS[track.kind] || drawPoints)(ctx, track, view, height, this);
      }
      const x = view.x(this.time);
      ctx.fillStyle = COLOURS.playhead;
      ctx.fillRect(Math.round(x) - 1, 0, 2, height);
    }
  }

  drawTicks(ctx, view, height) {
    const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];
    const step = steps.find((s) => view.x(s) >= 70) || 3600;
    ctx.fillStyle = "rgba(255,255,255,0.7)";
    for (let t = step; t < this.duration; t += step) ctx.fillRect(Math.round(view.x(t)), height - 6, 1, 6);
  }

  setTime(t) {
    this.time = t;
    if (document.activeElement !== this.scrubber) this.scrubber.value = String(t);
    this.scrubber.setAttribute("aria-valuetext", clock(t, 1));
    this.draw();
  }

  timeAt(event, canvas) {
    const rect = canvas.getBoundingClientRect();
    return Math.max(0, Math.min(this.duration, ((event.clientX - rect.left) / rect.width) * this.duration));
  }

  itemNear(event, canvas, track) {
    const rect = canvas.getBoundingClientRect();
    const px = event.clientX - rect.left;
    const view = this.view(rect.width);
    return track.items.find((item) => (item.t !== undefined && Math.abs(view.x(item.t) - px) <= 7)
      || (item.start !== undefined && item.end !== undefined && px >= view.x(item.start) && px <= view.x(item.end)));
  }

  hover(event, canvas, track) {
    const t = this.timeAt(event, canvas);
    const item = track.kind === "waveform" ? null : this.itemNear(event, canvas, track);
    const clip = this.data.clips.find((c) => t >= c.start && t < c.start + c.duration);
    const sprite = this.preview.querySelector("#scrub-sprite");
    const label = this.preview.querySelector("#scrub-time");
    label.textContent = item && item.label ? `${clock(t, 1)} · ${item.label}` : clock(t, 1);
    if (clip && clip.sprite && clip.sprite.url && clip.sprite.interval) {
      const s = clip.sprite;
      const index = Math.min(s.count - 1, Math.max(0, Math.floor((t - clip.start) / s.interval)));
      sprite.hidden = false;
      sprite.style.width = `${s.tile_width}px`;
      sprite.style.height = `${s.tile_height}px`;
      sprite.style.backgroundImage = `url("${s.url}")`;
      sprite.style.backgroundPosition = `-${(index % s.columns) * s.tile_width}px -${Math.floor(index / s.columns) * s.tile_height}px`;
    } else {
      sprite.hidden = true;
    }
    this.preview.hidden = false;
    const rootRect = this.root.getBoundingClientRect();
    const width = this.preview.offsetWidth || 160;
    const left = Math.max(0, Math.min(rootRect.width - width, event.clientX - rootRect.left - width / 2));
    this.preview.style.left = `${left}px`;
    if (this.onHoverTime) this.onHoverTime(t);
  }

  hideHover() {
    this.preview.hidden = true;
  }

  click(event, canvas, track) {
    const item = this.itemNear(event, canvas, track);
    let t = this.timeAt(event, canvas);
    if (item && item.t !== undefined && track.kind !== "waveform") t = item.t;
    if (this.onSeek) this.onSeek(t, item && track.id === "bookmarks" ? item : null);
  }
}
