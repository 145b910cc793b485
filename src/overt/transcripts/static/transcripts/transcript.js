// The transcript panel: each clip's words, following playback; click a word to play from
// there; find words; correct a word (a new version, through the audited API). Also opens
// the player at ?clip=ORIGINAL&t=SECONDS (the search results' links).
const panel = document.getElementById("transcript");
const player = () => window.overtPlayer;

function csrf() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function clipOf(original) {
  const p = player();
  return p ? p.clips.find((c) => c.original === original) : null;
}

function seek(original, seconds, play = true) {
  const p = player();
  const clip = clipOf(original);
  if (!p || !clip) return;
  p.seekClip(clip, Math.max(0, seconds), { play });
  if (p.stage) p.stage.scrollIntoView({ block: "nearest", behavior: "smooth" });
}

const fold = (text) => text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "");

class ClipWords {
  constructor(box) {
    this.box = box;
    this.original = Number(box.dataset.original);
    this.wordsUrl = box.dataset.wordsUrl;
    this.apiUrl = box.dataset.apiUrl;
    this.video = document.getElementById(box.dataset.video);
    this.list = box.querySelector(".transcript-words");
    this.buttons = [];
    this.current = -1;
  }

  async load(attempt = 1) {
    const response = await fetch(this.wordsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 503 && attempt < 6) {
      // A busy database answers 503 with Retry-After: say so and ask again.
      const wait = Math.min(Number(response.headers.get("Retry-After")) || 2, 10);
      this.list.textContent = `The server is busy; trying again in ${wait} s.`;
      setTimeout(() => this.load(attempt + 1), wait * 1000);
      return;
    }
    if (!response.ok) {
      this.list.textContent = "The transcript could not be loaded.";
      return;
    }
    this.render(await response.json());
    if (this.video) this.video.addEventListener("timeupdate", () => this.follow());
  }

  render(data) {
    this.data = data;
    this.box.querySelector(".transcript-status").textContent =
      `version ${data.version}${data.status === "ok" ? "" : `: ${data.message}`}`;
    const history = data.versions.map((v) => `v${v.version} ${v.author}, ${v.created_at.slice(0, 16).replace("T", " ")}${v.note ? ` (${v.note})` : ""}`);
    this.box.querySelector(".transcript-history").textContent = history.length > 1 ? `History: ${history.join("; ")}` : "";
    this.list.textContent = "";
    this.buttons = data.words.map((w, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "w" + (w.probability < 0.5 ? " unsure" : "");
      b.textContent = w.word;
      b.dataset.i = String(i);
      b.title = `${w.start.toFixed(1)} s`;
      b.addEventListener("click", () => seek(this.original, w.start));
      b.addEventListener("dblclick", () => correctWord(this, i));
      this.list.append(b, " ");
      return b;
    });
    if (!data.words.length) this.list.textContent = data.message;
  }

  follow() {
    if (!this.data || !this.video) return;
    const t = this.video.currentTime;
    const words = this.data.words;
    let i = words.findIndex((w) => w.start <= t && t < Math.max(w.end, w.start + 0.2));
    if (i < 0) return;
    if (i === this.current) return;
    if (this.current >= 0 && this.buttons[this.current]) this.buttons[this.current].classList.remove("now");
    this.current = i;
    this.buttons[i].classList.add("now");
    const followBox = document.getElementById("transcript-follow");
    if (followBox && followBox.checked && !this.video.paused) this.buttons[i].scrollIntoView({ block: "nearest" });
  }

  find(query) {
    const terms = query.split(/\s+/).map(fold).filter(Boolean);
    const hits = [];
    this.buttons.forEach((b, i) => {
      const hit = terms.length > 0 && terms.every((t, k) => {
        const other = this.data.words[i + k];
        return other && (k === terms.length - 1 ? fold(other.word).startsWith(t) : fold(other.word) === t);
      });
      b.classList.toggle("hit", hit);
      if (hit) hits.push(i);
    });
    return hits.map((i) => ({ clip: this, i }));
  }
}

let editing = null;
function correctWord(clip, i) {
  const form = document.getElementById("transcript-correct");
  if (!form) return;
  editing = { clip, i };
  form.hidden = false;
  document.getElementById("correct-was").textContent = `(was “${clip.data.words[i].word}” at ${clip.data.words[i].start.toFixed(1)} s)`;
  const input = document.getElementById("correct-word");
  input.value = clip.data.words[i].word;
  input.focus();
}

async function saveCorrection(event) {
  event.preventDefault();
  const status = document.getElementById("correct-status");
  if (!editing) return;
  const { clip, i } = editing;
  const body = { changes: { [i]: document.getElementById("correct-word").value }, note: document.getElementById("correct-note").value };
  const response = await fetch(clip.apiUrl, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf() },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    status.textContent = `Not saved: ${(data && (data.detail || data.title)) || response.statusText}`;
    return;
  }
  clip.render(data);
  status.textContent = `Saved as version ${data.version}.`;
  document.getElementById("transcript-correct").hidden = true;
}

if (panel) {
  const clips = [...panel.querySelectorAll(".transcript-clip")].map((box) => new ClipWords(box));
  Promise.all(clips.map((c) => c.load())).then(() => {
    const params = new URLSearchParams(window.location.search);
    const original = Number(params.get("clip"));
    const t = Number(params.get("t"));
    if (original && Number.isFinite(t)) seek(original, t, false);
  });
  const find = document.getElementById("transcript-find");
  const found = document.getElementById("transcript-found");
  let hits = [], at = -1;
  find.addEventListener("input", () => {
    hits = clips.flatMap((c) => c.find(find.value));
    at = -1;
    found.textContent = find.value.trim() ? `${hits.length} found${hits.length ? ": Enter for the next" : ""}` : "";
  });
  find.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || !hits.length) return;
    e.preventDefault();
    at = (at + 1) % hits.length;
    const { clip, i } = hits[at];
    clip.buttons[i].scrollIntoView({ block: "nearest" });
    seek(clip.original, clip.data.words[i].start, false);
    found.textContent = `${at + 1} of ${hits.length}`;
  });
  const form = document.getElementById("transcript-correct");
  if (form) {
    form.addEventListener("submit", saveCorrection);
    document.getElementById("correct-cancel").addEventListener("click", () => { form.hidden = true; editing = null; });
  }
}
