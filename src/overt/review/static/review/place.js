// A recording's GPS track with a marker at the point the player shows, moving with
// playback: the clip's start (wall clock) plus the video's time, looked up in the track.
import { TrackMap } from "./map.js";

const canvas = document.getElementById("place-map");

function where(timed, at) {
  // The track's point at wall-clock time `at` (seconds), between its two fixes.
  if (at <= timed[0][0]) return timed[0];
  for (let i = 1; i < timed.length; i++) {
    if (at <= timed[i][0]) {
      const [t0, a0, o0] = timed[i - 1], [t1, a1, o1] = timed[i];
      const f = t1 > t0 ? (at - t0) / (t1 - t0) : 0;
      return [at, a0 + (a1 - a0) * f, o0 + (o1 - o0) * f];
    }
  }
  return timed[timed.length - 1];
}

class PlaybackMap extends TrackMap {
  constructor(element, tracks, options) {
    super(element, tracks, options);
    this.marker = null;
  }

  draw() {
    super.draw();
    if (!this.marker || !this.scale) return;
    const ctx = this.canvas.getContext("2d");
    const [x, y] = this.toScreen(this.marker);
    ctx.fillStyle = "#ffbf47";
    ctx.strokeStyle = "#1b1f24";
    ctx.lineWidth = 2;
    ctx.beginPath(); ctx.arc(x, y, 7, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
  }

  moveTo(lat, lon) {
    const phi = (Math.max(-85.05, Math.min(85.05, lat)) * Math.PI) / 180;
    this.marker = [(lon + 180) / 360, (1 - Math.log(Math.tan(Math.PI / 4 + phi / 2)) / Math.PI) / 2];
    this.draw();
  }
}

if (canvas) {
  const timed = JSON.parse(canvas.dataset.timed);
  const clips = JSON.parse(canvas.dataset.clips);
  const map = new PlaybackMap(canvas, JSON.parse(canvas.dataset.tracks), { tiles: canvas.dataset.tiles || "" });
  map.draw();
  map.moveTo(timed[0][1], timed[0][2]);
  canvas.dataset.marker = `${timed[0][1].toFixed(6)},${timed[0][2].toFixed(6)}`;
  for (const clip of clips) {
    const video = document.getElementById(clip.player);
    if (!video) continue;
    const follow = () => {
      const [, lat, lon] = where(timed, clip.start + video.currentTime);
      map.moveTo(lat, lon);
      canvas.dataset.marker = `${lat.toFixed(6)},${lon.toFixed(6)}`;
    };
    video.addEventListener("timeupdate", follow);
    video.addEventListener("seeked", follow);
  }
}
