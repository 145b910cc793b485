// GPS tracks on a Leaflet map (vendored in portal/vendor, no CDN), over overt's own
// offline base map (/map/base.geojson: the force's area, fetched a view at a time) or,
// where one is configured, the force's own tile server. Nothing comes from elsewhere.
const L = window.L;
// Leaflet writes tooltips and attributions as HTML: titles and names are text.
const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const PALETTE = ["#1d4f91", "#a4161a", "#1e6b3a", "#7a4b00", "#5b2a86", "#005f73", "#9b2226", "#3d405b"];

// What a base-map feature is, from its own `kind` or the usual OpenStreetMap tags.
function kindOf(props) {
  if (props.kind) return props.kind;
  if (props.building) return "building";
  if (props.waterway || props.natural === "water" || props.water) return "water";
  if (props.railway) return "rail";
  if (props.highway) return ["motorway", "trunk", "primary", "secondary"].includes(props.highway) ? "major" : "road";
  return "area";
}

const STYLES = {
  area: { color: "#a9a294", weight: 1.2, fillColor: "#f3f0e8", fillOpacity: 1 },
  water: { color: "#7fb2c9", weight: 1, fillColor: "#b9d9e6", fillOpacity: 1 },
  building: { color: "#c9c0b3", weight: 0.5, fillColor: "#e2dbd0", fillOpacity: 1 },
  major: { color: "#d9a441", weight: 3.5 },
  road: { color: "#b8b0a3", weight: 1.6 },
  rail: { color: "#8a8f98", weight: 1.4, dashArray: "4 3" },
};

// The base map: features of the view (plus a margin), fetched again when the view leaves
// the area already fetched.
class BaseLayer {
  constructor(map, url) {
    this.map = map;
    this.url = url;
    this.have = null;
    this.layer = L.geoJSON(null, {
      pane: "basemap",
      interactive: false,
      style: (f) => STYLES[kindOf(f.properties || {})] || STYLES.area,
      pointToLayer: (f, at) => L.circleMarker(at, { pane: "basemap", radius: 2, color: "#8a8f98", interactive: false }),
    }).addTo(map);
    this.labels = L.layerGroup().addTo(map);
    map.on("moveend", () => this.refresh());
  }

  // Each named area (a borough, a park) labelled at the middle of its bounds.
  label(features) {
    this.labels.clearLayers();
    for (const f of features) {
      const name = (f.properties || {}).name;
      if (!name || kindOf(f.properties) !== "area" || !/Polygon$/.test(f.geometry.type)) continue;
      const centre = L.geoJSON(f).getBounds().getCenter();
      L.tooltip({ permanent: true, direction: "center", className: "basemap-label", interactive: false })
        .setLatLng(centre).setContent(escape(name)).addTo(this.labels);
    }
  }

  refresh() {
    const view = this.map.getBounds();
    if (this.have && this.have.contains(view)) return;
    const want = view.pad(0.5);
    const bbox = [want.getWest(), want.getSouth(), want.getEast(), want.getNorth()]
      .map((v, i) => Math.max(i % 2 ? -90 : -180, Math.min(i % 2 ? 90 : 180, v)).toFixed(5)).join(",");
    const asked = (this.asked = bbox);
    fetch(`${this.url}?bbox=${bbox}`, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : null))
      .then((data) => {
        if (!data || asked !== this.asked) return;
        this.layer.clearLayers();
        this.layer.addData(data.features);
        this.label(data.features);
        this.have = data.truncated ? null : want;
        if (data.attribution && escape(data.attribution) !== this.attribution) {
          if (this.attribution) this.map.attributionControl.removeAttribution(this.attribution);
          this.attribution = escape(data.attribution);
          this.map.attributionControl.addAttribution(this.attribution);
        }
        this.map.getContainer().dataset.basemapFeatures = String(data.features.length);
      })
      .catch(() => {});
  }
}

export class TrackMap {
  constructor(element, tracks, { tiles = "", attribution = "", base = "", onPick = null } = {}) {
    this.element = element;
    this.onPick = onPick;
    this.highlight = null;
    this.map = L.map(element, { preferCanvas: true, boxZoom: false, zoomSnap: 0.5, keyboardPanDelta: 60 });
    this.map.attributionControl.setPrefix("Leaflet");
    this.map.createPane("basemap").style.zIndex = 350;
    if (tiles) L.tileLayer(tiles, { attribution: escape(attribution), maxZoom: 19 }).addTo(this.map);
    else if (base) this.base = new BaseLayer(this.map, base);
    this.tracks = tracks.map((t, i) => {
      const colour = PALETTE[i % PALETTE.length];
      const track = { ...t, colour };
      track.line = L.polyline(t.points, { color: colour, weight: 3.5, opacity: 0.9 }).addTo(this.map);
      track.start = L.circleMarker(t.points[0], { radius: 4, color: colour, fillColor: colour, fillOpacity: 1 }).addTo(this.map);
      for (const part of [track.line, track.start]) {
        part.bindTooltip(escape(t.title || ""), { sticky: true });
        part.on("mouseover", () => this.setHighlight(t.id));
        part.on("mouseout", () => this.setHighlight(null));
        part.on("click", () => { if (this.onPick) this.onPick(track); });
      }
      return track;
    });
    this.fit();
  }

  fit() {
    const all = this.tracks.flatMap((t) => t.points);
    if (!all.length) return this.map.setView([51.5074, -0.1278], 11);
    const bounds = L.latLngBounds(all);
    // A single point or a short walk still gets a street-level view, not the top zoom.
    // Room at the foot for the attribution, which would otherwise cover a track.
    this.map.fitBounds(bounds, { maxZoom: 16, paddingTopLeft: [24, 24], paddingBottomRight: [24, 40] });
    return this.map;
  }

  // [lat, lon] to a point in the map's box, in CSS pixels (for scripts and tests).
  toScreen([lat, lon]) {
    const p = this.map.latLngToContainerPoint([lat, lon]);
    return [p.x, p.y];
  }

  fromScreen([x, y]) {
    const at = this.map.containerPointToLatLng([x, y]);
    return [at.lat, at.lng];
  }

  setHighlight(id) {
    const next = this.tracks.find((t) => t.id === id) || null;
    if (next === this.highlight) return;
    this.highlight = next;
    for (const t of this.tracks) {
      const strong = t === next;
      t.line.setStyle({ weight: strong ? 6 : 3.5, opacity: next && !strong ? 0.45 : 0.9 });
      if (strong) t.line.bringToFront();
    }
    this.element.dispatchEvent(new CustomEvent("trackhighlight", { detail: { id } }));
  }
}

// Draw a box on the map with the pointer (after `start()`, or with Shift held), then
// call back with it; the map does not pan while a box is drawn.
export class AreaDrawer {
  constructor(trackMap, onArea) {
    this.map = trackMap.map;
    this.onArea = onArea;
    this.armed = false;
    this.from = null;
    this.shape = null;
    const box = this.map.getContainer();
    box.addEventListener("pointerdown", (e) => this.down(e), true);
    box.addEventListener("pointermove", (e) => this.move(e), true);
    box.addEventListener("pointerup", (e) => this.up(e), true);
  }

  start() { this.armed = true; this.map.dragging.disable(); this.map.getContainer().classList.add("drawing"); }

  stop() {
    this.armed = false;
    this.from = null;
    this.map.dragging.enable();
    this.map.getContainer().classList.remove("drawing");
  }

  at(event) { return this.map.mouseEventToLatLng(event); }

  down(event) {
    if (!(this.armed || event.shiftKey) || event.button !== 0) return;
    if (event.target.closest && event.target.closest(".leaflet-control")) return;
    event.stopPropagation();
    event.preventDefault();
    this.map.dragging.disable();
    this.from = this.at(event);
    this.map.getContainer().setPointerCapture(event.pointerId);
  }

  move(event) {
    if (!this.from) return;
    event.stopPropagation();
    const bounds = L.latLngBounds(this.from, this.at(event));
    if (this.shape) this.shape.setBounds(bounds);
    else this.shape = L.rectangle(bounds, { color: "#1d4f91", weight: 2, dashArray: "6 4", fillOpacity: 0.12, interactive: false }).addTo(this.map);
  }

  up(event) {
    if (!this.from) return;
    event.stopPropagation();
    const from = this.from, to = this.at(event);
    this.stop();
    const a = this.map.latLngToContainerPoint(from), b = this.map.latLngToContainerPoint(to);
    if (Math.hypot(a.x - b.x, a.y - b.y) < 8) return; // a click, not a box
    this.onArea(L.latLngBounds(from, to));
  }
}
