// The library: "/" jumps to the search box; the map draws this page's GPS tracks,
// highlights the row of the track under the pointer (and the track of the row), and
// filters by an area drawn on it, typed, or taken from its view.
import { AreaDrawer, TrackMap } from "./map.js";

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

const element = document.getElementById("track-map");
if (element) {
  let tracks = [];
  try {
    tracks = JSON.parse(element.dataset.tracks || "[]");
  } catch {
    tracks = [];
  }
  const map = new TrackMap(element, tracks, {
    tiles: element.dataset.tiles || "",
    attribution: element.dataset.attribution || "",
    base: element.dataset.base || "",
    onPick: (track) => { window.location.href = track.url; },
  });
  element.overtMap = map; // for scripts and tests that need the map's projection

  // The area filter (box=south,west,north,east): drawn with the pointer, or typed, or
  // taken from the map's view (which the keyboard can pan and zoom).
  const form = document.getElementById("area-form");
  const fields = ["south", "west", "north", "east"].map((name) => document.getElementById(`area-${name}`));
  const fill = (bounds) => {
    [bounds.getSouth(), bounds.getWest(), bounds.getNorth(), bounds.getEast()].forEach((v, i) => { fields[i].value = v.toFixed(5); });
  };
  const current = (new URL(window.location.href).searchParams.get("box") || "").split(",");
  if (current.length === 4) current.forEach((v, i) => { fields[i].value = v; });
  const go = () => {
    const url = new URL(window.location.href);
    url.searchParams.set("box", fields.map((f) => Number(f.value).toFixed(5)).join(","));
    url.searchParams.delete("page");
    window.location.href = url.toString();
  };
  const draw = document.getElementById("area-draw");
  const drawer = new AreaDrawer(map, (bounds) => {
    draw.setAttribute("aria-pressed", "false");
    fill(bounds);
    go();
  });
  draw.addEventListener("click", () => {
    const on = draw.getAttribute("aria-pressed") !== "true";
    draw.setAttribute("aria-pressed", String(on));
    if (on) drawer.start(); else drawer.stop();
  });
  document.getElementById("area-view").addEventListener("click", () => {
    fill(map.map.getBounds());
    fields[0].focus();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (form.reportValidity()) go();
  });

  const rows = new Map([...document.querySelectorAll("tr[data-recording]")].map((row) => [Number(row.dataset.recording), row]));
  element.addEventListener("trackhighlight", (event) => {
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
