// A recording's GPS track with a marker at the point the player shows, moving with
// playback: the clip's start (wall clock) plus the video's time, looked up in the track.
import { TrackMap } from "./map.js";

const element = document.getElementById("place-map");

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

if (element) {
  const timed = JSON.parse(element.dataset.timed);
  const clips = JSON.parse(element.dataset.clips);
  const map = new TrackMap(element, JSON.parse(element.dataset.tracks), {
    tiles: element.dataset.tiles || "",
    attribution: element.dataset.attribution || "",
    base: element.dataset.base || "",
  });
  element.overtMap = map;
  const marker = window.L.circleMarker([timed[0][1], timed[0][2]], {
    radius: 7, color: "#1b1f24", weight: 2, fillColor: "#ffbf47", fillOpacity: 1, interactive: false,
  }).addTo(map.map);
  const moveTo = (lat, lon) => {
    marker.setLatLng([lat, lon]);
    element.dataset.marker = `${lat.toFixed(6)},${lon.toFixed(6)}`;
  };
  moveTo(timed[0][1], timed[0][2]);
  for (const clip of clips) {
    const video = document.getElementById(clip.player);
    if (!video) continue;
    const follow = () => {
      const [, lat, lon] = where(timed, clip.start + video.currentTime);
      moveTo(lat, lon);
    };
    video.addEventListener("timeupdate", follow);
    video.addEventListener("seeked", follow);
  }
}
