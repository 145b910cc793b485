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
  canvas.overtMap = map; // for scripts and tests that need the map's projection
  // Drag on the map to keep only recordings whose track enters that area (box=).
  let from = null, dragged = false;
  const at = (event) => { const r = canvas.getBoundingClientRect(); return [event.clientX - r.left, event.clientY - r.top]; };
  canvas.addEventListener("pointerdown", (event) => { from = at(event); dragged = false; canvas.setPointerCapture(event.pointerId); });
  canvas.addEventListener("pointermove", (event) => {
    if (!from) return;
    const to = at(event);
    if (Math.hypot(to[0] - from[0], to[1] - from[1]) > 8) { dragged = true; map.drawArea(from, to); }
  });
  canvas.addEventListener("pointerup", (event) => {
    if (!from) return;
    const to = at(event), start = from;
    from = null;
    if (!dragged) return;
    const [lat1, lon1] = map.fromScreen(start), [lat2, lon2] = map.fromScreen(to);
    const box = [Math.min(lat1, lat2), Math.min(lon1, lon2), Math.max(lat1, lat2), Math.max(lon1, lon2)];
    const url = new URL(window.location.href);
    url.searchParams.set("box", box.map((v) => v.toFixed(5)).join(","));
    url.searchParams.delete("page");
    window.location.href = url.toString();
  });
  // A drag is not a click: do not open the track under the pointer.
  canvas.addEventListener("click", (event) => { if (dragged) { event.stopImmediatePropagation(); dragged = false; } }, true);
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
