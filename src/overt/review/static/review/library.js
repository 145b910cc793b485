// The library: "/" jumps to the search box; the map draws this page's GPS tracks and
// highlights the row of the track under the pointer (and the track of the row).
import { TrackMap } from "./map.js";

document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof HTMLElement && target.closest("input, textarea, select, [contenteditable]")) return;
  const box = document.getElementById("filter-q");
  if (box) {
    event.preventDefault();
    box.focus();
    box.select();
  }
});

const canvas = document.getElementById("track-map");
if (canvas) {
  let tracks = [];
  try {
    tracks = JSON.parse(canvas.dataset.tracks || "[]");
  } catch {
    tracks = [];
  }
  const map = new TrackMap(canvas, tracks, {
    tiles: canvas.dataset.tiles || "",
    onPick: (track) => { window.location.href = track.url; },
  });
  map.draw();
  const rows = new Map([...document.querySelectorAll("tr[data-recording]")].map((row) => [Number(row.dataset.recording), row]));
  canvas.addEventListener("trackhighlight", (event) => {
    for (const row of rows.values()) row.classList.remove("highlighted");
    const row = rows.get(event.detail.id);
    if (row) row.classList.add("highlighted");
  });
  for (const [id, row] of rows) {
    row.addEventListener("mouseenter", () => map.setHighlight(id));
    row.addEventListener("mouseleave", () => map.setHighlight(null));
    row.addEventListener("focusin", () => map.setHighlight(id));
  }
}
