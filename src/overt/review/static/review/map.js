// GPS tracks on a canvas: Web Mercator, fitted to the tracks, on a plain grid or on map
// tiles from the tile server named in the settings (never from anywhere else).
const PALETTE = ["#1d4f91", "#a4161a", "#1e6b3a", "#7a4b00", "#5b2a86", "#005f73", "#9b2226", "#3d405b"];
const TILE = 256;

function mercator(lat, lon) {
  const clamped = Math.max(-85.05, Math.min(85.05, lat));
  const phi = (clamped * Math.PI) / 180;
  return [(lon + 180) / 360, (1 - Math.log(Math.tan(Math.PI / 4 + phi / 2)) / Math.PI) / 2];
}

function metresPerUnit(lat) {
  // One unit of world x at this latitude, in metres.
  return 40075016.686 * Math.cos((lat * Math.PI) / 180);
}

export class TrackMap {
  constructor(canvas, tracks, { tiles = "", onPick = null } = {}) {
    this.canvas = canvas;
    this.tracks = tracks.map((t, i) => ({ ...t, colour: PALETTE[i % PALETTE.length], xy: t.points.map(([la, lo]) => mercator(la, lo)) }));
    this.tiles = tiles;
    this.onPick = onPick;
    this.highlight = null;
    this.cache = new Map();
    this.tip = document.createElement("div");
    this.tip.className = "map-tip";
    this.tip.hidden = true;
    this.tip.setAttribute("aria-hidden", "true");
    canvas.insertAdjacentElement("afterend", this.tip);
    canvas.addEventListener("mousemove", (e) => this.hover(e));
    canvas.addEventListener("mouseleave", () => this.setHighlight(null));
    canvas.addEventListener("click", (e) => {
      const hit = this.hit(e);
      if (hit && this.onPick) this.onPick(hit);
    });
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  fit() {
    const xs = this.tracks.flatMap((t) => t.xy.map((p) => p[0]));
    const ys = this.tracks.flatMap((t) => t.xy.map((p) => p[1]));
    let [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const minSpan = 2e-6; // about 80 m: a single point still gets a sensible view
    if (x1 - x0 < minSpan) [x0, x1] = [(x0 + x1) / 2 - minSpan / 2, (x0 + x1) / 2 + minSpan / 2];
    if (y1 - y0 < minSpan) [y0, y1] = [(y0 + y1) / 2 - minSpan / 2, (y0 + y1) / 2 + minSpan / 2];
    const w = this.width, h = this.height, pad = 24;
    const scale = Math.min((w - 2 * pad) / (x1 - x0), (h - 2 * pad) / (y1 - y0));
    this.scale = scale;
    this.cx = (x0 + x1) / 2;
    this.cy = (y0 + y1) / 2;
  }

  // Screen point to [lat, lon] (the inverse of toScreen and Web Mercator).
  fromScreen([sx, sy]) {
    const x = (sx - this.width / 2) / this.scale + this.cx;
    const y = (sy - this.height / 2) / this.scale + this.cy;
    const lat = (Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180) / Math.PI;
    return [lat, x * 360 - 180];
  }

  // The area being drawn, over the tracks (screen corners), or null to clear it.
  drawArea(a, b) {
    this.draw();
    if (!a || !b) return;
    const ctx = this.canvas.getContext("2d");
    ctx.fillStyle = "rgba(29, 79, 145, 0.12)";
    ctx.strokeStyle = "#1d4f91";
    ctx.lineWidth = 2;
    ctx.setLineDash([6, 4]);
    ctx.fillRect(Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.abs(b[0] - a[0]), Math.abs(b[1] - a[1]));
    ctx.strokeRect(Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.abs(b[0] - a[0]), Math.abs(b[1] - a[1]));
    ctx.setLineDash([]);
  }

  toScreen([x, y]) {
    return [(x - this.cx) * this.scale + this.width / 2, (y - this.cy) * this.scale + this.height / 2];
  }

  draw() {
    const ratio = window.devicePixelRatio || 1;
    this.width = this.canvas.clientWidth;
    this.height = this.canvas.clientHeight;
    if (!this.width || !this.height || !this.tracks.length) return;
    this.canvas.width = Math.round(this.width * ratio);
    this.canvas.height = Math.round(this.height * ratio);
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    this.fit();
    ctx.fillStyle = "#eef1f4";
    ctx.fillRect(0, 0, this.width, this.height);
    if (this.tiles) this.drawTiles(ctx);
    else this.drawGrid(ctx);
    for (const track of this.tracks) if (track !== this.highlight) this.drawTrack(ctx, track, false);
    if (this.highlight) this.drawTrack(ctx, this.highlight, true);
    this.drawScale(ctx);
  }

  drawGrid(ctx) {
    // A graticule step that gives a handful of lines, in world units.
    const span = this.width / this.scale;
    const step = Math.pow(10, Math.floor(Math.log10(span / 4)));
    ctx.strokeStyle = "#d4d9df";
    ctx.lineWidth = 1;
    const left = this.cx - this.width / 2 / this.scale, top = this.cy - this.height / 2 / this.scale;
    for (let x = Math.floor(left / step) * step; x < left + span; x += step) {
      const [sx] = this.toScreen([x, 0]);
      ctx.beginPath(); ctx.moveTo(sx, 0); ctx.lineTo(sx, this.height); ctx.stroke();
    }
    const vspan = this.height / this.scale;
    for (let y = Math.floor(top / step) * step; y < top + vspan; y += step) {
      const [, sy] = this.toScreen([0, y]);
      ctx.beginPath(); ctx.moveTo(0, sy); ctx.lineTo(this.width, sy); ctx.stroke();
    }
  }

  drawTiles(ctx) {
    const zoom = Math.max(0, Math.min(19, Math.floor(Math.log2(this.scale / TILE))));
    const n = 2 ** zoom, size = (this.scale / n);
    const left = this.cx - this.width / 2 / this.scale, top = this.cy - this.height / 2 / this.scale;
    for (let tx = Math.floor(left * n); tx <= Math.floor((left + this.width / this.scale) * n); tx++) {
      for (let ty = Math.floor(top * n); ty <= Math.floor((top + this.height / this.scale) * n); ty++) {
        if (ty < 0 || ty >= n) continue;
        const wrapped = ((tx % n) + n) % n;
        const url = this.tiles.replace("{z}", zoom).replace("{x}", wrapped).replace("{y}", ty);
        const [sx, sy] = this.toScreen([tx / n, ty / n]);
        const image = this.tile(url);
        if (image.complete && image.naturalWidth) ctx.drawImage(image, sx, sy, size, size);
      }
    }
  }

  tile(url) {
    if (!this.cache.has(url)) {
      const image = new Image();
      image.addEventListener("load", () => this.draw(), { once: true });
      image.src = url;
      this.cache.set(url, image);
    }
    return this.cache.get(url);
  }

  drawTrack(ctx, track, strong) {
    ctx.lineJoin = ctx.lineCap = "round";
    ctx.strokeStyle = track.colour;
    ctx.lineWidth = strong ? 5 : 2.5;
    ctx.globalAlpha = this.highlight && !strong ? 0.45 : 1;
    ctx.beginPath();
    track.xy.forEach((p, i) => {
      const [x, y] = this.toScreen(p);
      if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
    });
    ctx.stroke();
    const [sx, sy] = this.toScreen(track.xy[0]);
    ctx.fillStyle = track.colour;
    ctx.beginPath(); ctx.arc(sx, sy, strong ? 6 : 4, 0, 2 * Math.PI); ctx.fill();
    ctx.globalAlpha = 1;
  }

  drawScale(ctx) {
    const lat = this.tracks[0].points[0][0];
    const metresPerPixel = metresPerUnit(lat) / this.scale;
    const target = metresPerPixel * 120;
    const nice = [1, 2, 5].map((m) => m * 10 ** Math.floor(Math.log10(target))).filter((v) => v <= target).pop() || target;
    const px = nice / metresPerPixel;
    const x = 12, y = this.height - 14;
    ctx.fillStyle = "rgba(255,255,255,0.85)";
    ctx.fillRect(x - 6, y - 18, px + 70, 28);
    ctx.strokeStyle = "#1b1f24"; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + px, y); ctx.moveTo(x, y - 5); ctx.lineTo(x, y + 2); ctx.moveTo(x + px, y - 5); ctx.lineTo(x + px, y + 2); ctx.stroke();
    ctx.fillStyle = "#1b1f24";
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillText(nice >= 1000 ? `${nice / 1000} km` : `${nice} m`, x + px + 6, y + 4);
  }

  hit(event) {
    const rect = this.canvas.getBoundingClientRect();
    const mx = event.clientX - rect.left, my = event.clientY - rect.top;
    let best = null, bestD = 10;
    for (const track of this.tracks) {
      const pts = track.xy.map((p) => this.toScreen(p));
      for (let i = 0; i < pts.length; i++) {
        const [ax, ay] = pts[i], [bx, by] = pts[Math.min(i + 1, pts.length - 1)];
        const dx = bx - ax, dy = by - ay;
        const t = dx || dy ? Math.max(0, Math.min(1, ((mx - ax) * dx + (my - ay) * dy) / (dx * dx + dy * dy))) : 0;
        const d = Math.hypot(mx - (ax + t * dx), my - (ay + t * dy));
        if (d < bestD) { bestD = d; best = track; }
      }
    }
    return best;
  }

  hover(event) {
    const hit = this.hit(event);
    this.setHighlight(hit ? hit.id : null);
    if (hit) {
      const rect = this.canvas.getBoundingClientRect();
      this.tip.textContent = hit.title;
      this.tip.hidden = false;
      this.tip.style.left = `${event.clientX - rect.left + 12}px`;
      this.tip.style.top = `${event.clientY - rect.top + 12}px`;
      this.canvas.style.cursor = "pointer";
    } else {
      this.tip.hidden = true;
      this.canvas.style.cursor = "";
    }
  }

  setHighlight(id) {
    const next = this.tracks.find((t) => t.id === id) || null;
    if (next === this.highlight) return;
    this.highlight = next;
    if (!next) this.tip.hidden = true;
    this.draw();
    this.canvas.dispatchEvent(new CustomEvent("trackhighlight", { detail: { id } }));
  }
}
