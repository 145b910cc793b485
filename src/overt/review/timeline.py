"""The tracks under the player: one timeline per recording, in seconds from its first
picture, with the clips (originals) laid on it by their start times.

A track is data, not code in the page: `{"id", "label", "kind", "items"}`, where kind is
`points` (items with `t`), `ranges` (items with `start` and `end`) or `waveform` (one
item per clip: the peaks derivative to draw). The page's script draws each kind, so a
later feature (detected events, the transcript) adds a track by registering a provider:

    @track("events", order=50)
    def detected_events(ctx: TimelineContext) -> Track | None:
        return Track("events", "Detected events", "ranges", [...])

Providers see only what the viewer may see: they receive the access decision for the
recording's custody entries (`ctx.may_audit`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.urls import reverse

from overt.custody.models import CustodyEntry
from overt.evidence.models import Derivative, Original, Recording

from .status import clip_position


@dataclass
class Track:
    id: str
    label: str
    kind: str  # "points", "ranges" or "waveform"
    items: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""


@dataclass(frozen=True)
class TimelineContext:
    recording: Recording
    originals: list[Original]  # in start order
    origin: datetime  # timeline zero
    derivatives: dict[int, dict[str, Derivative]]  # original id -> kind -> one of each
    username: str
    may_audit: bool

    def at(self, moment: datetime) -> float:
        return round((moment - self.origin).total_seconds(), 3)

    def clip_start(self, original: Original) -> float:
        return self.at(original.started_at) if original.started_at else 0.0


Provider = Callable[[TimelineContext], "Track | None"]
_PROVIDERS: list[tuple[int, str, Provider]] = []


def track(track_id: str, order: int = 100) -> Callable[[Provider], Provider]:
    """Register a track provider; lower `order` draws higher up."""

    def register(provider: Provider) -> Provider:
        _PROVIDERS[:] = [p for p in _PROVIDERS if p[1] != track_id]
        _PROVIDERS.append((order, track_id, provider))
        _PROVIDERS.sort(key=lambda p: (p[0], p[1]))
        return provider

    return register


def origin_of(recording: Recording, originals: list[Original]) -> datetime:
    starts = [o.started_at for o in originals if o.started_at is not None]
    if starts:
        return min(starts)
    return recording.trigger_on_at - timedelta(seconds=recording.pre_event_seconds)


def build(
    recording: Recording, originals: list[Original], *, username: str, may_audit: bool
) -> dict[str, Any]:
    """The timeline as JSON-ready data: its length, the clips and every track."""
    origin = origin_of(recording, originals)
    by_original: dict[int, dict[str, Derivative]] = {o.pk: {} for o in originals}
    for d in Derivative.objects.filter(original__in=originals).order_by("id"):
        by_original[d.original_id].setdefault(d.kind, d)
    ctx = TimelineContext(recording, originals, origin, by_original, username, may_audit)
    clips = []
    end = 0.0
    for number, original in enumerate(originals, start=1):
        start = ctx.clip_start(original)
        length = original.duration_s or 0.0
        end = max(end, start + length)
        made = by_original[original.pk]
        sprite = made.get(Derivative.Kind.SPRITE)
        clips.append(
            {
                "original": original.pk,
                "number": number,
                "start": start,
                "duration": length,
                "fps": original.fps,
                "playable": original.playable,
                "player": f"player-{original.pk}",
                "sprite": _sprite(sprite) if sprite else None,
            }
        )
    if recording.trigger_off_at:
        end = max(end, ctx.at(recording.trigger_off_at))
    tracks = []
    for _, _, provider in _PROVIDERS:
        made_track = provider(ctx)
        if made_track is not None:
            tracks.append(asdict(made_track))
    return {
        "origin": origin.isoformat(),
        "duration": round(end, 3),
        "clips": clips,
        "tracks": tracks,
    }


def as_json(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


def _sprite(sprite: Derivative) -> dict[str, Any]:
    facts = sprite.facts or {}
    return {
        "url": reverse("derivative-media", args=[sprite.pk]),
        "columns": facts.get("columns"),
        "rows": facts.get("rows"),
        "tile_width": facts.get("tile_width"),
        "tile_height": facts.get("tile_height"),
        "interval": facts.get("interval_s"),
        "count": facts.get("count"),
    }


# --- the tracks every recording has -------------------------------------------------------


@track("trigger", order=10)
def trigger_track(ctx: TimelineContext) -> Track:
    rec = ctx.recording
    items: list[dict[str, Any]] = []
    if rec.pre_event_seconds and ctx.originals and ctx.originals[0].started_at:
        buffer_end = ctx.originals[0].started_at + timedelta(seconds=rec.pre_event_seconds)
        items.append(
            {
                "start": ctx.clip_start(ctx.originals[0]),
                "end": ctx.at(buffer_end),
                "label": f"Pre-event buffer ({rec.pre_event_seconds:g} s)",
                "kind": "buffer",
            }
        )
        items.append(
            {"t": ctx.at(buffer_end), "label": "End of pre-event buffer", "kind": "buffer-end"}
        )
    items.append(
        {
            "t": ctx.at(rec.trigger_on_at),
            "label": f"Trigger on{f' ({rec.trigger_on_reason})' if rec.trigger_on_reason else ''}",
            "kind": "trigger-on",
        }
    )
    if rec.trigger_off_at:
        items.append(
            {
                "t": ctx.at(rec.trigger_off_at),
                "label": "Trigger off"
                + (f" ({rec.trigger_off_reason})" if rec.trigger_off_reason else ""),
                "kind": "trigger-off",
            }
        )
    return Track("trigger", "Trigger", "ranges", items, "Trigger on and off, pre-event buffer")


@track("bookmarks", order=20)
def bookmarks_track(ctx: TimelineContext) -> Track:
    items = []
    for marker in ctx.recording.markers.order_by("at", "id"):
        position = clip_position(marker, ctx.originals)
        items.append(
            {
                "t": ctx.at(marker.at),
                "label": marker.text,
                "id": marker.pk,
                "by": marker.created_by,
                "mine": bool(ctx.username) and marker.created_by == ctx.username,
                "original": position.original.pk if position else None,
                "offset": round(position.offset_s, 3) if position else None,
            }
        )
    return Track(
        "bookmarks", "Bookmarks", "points", items, "Camera markers and reviewers' bookmarks"
    )


@track("waveform", order=30)
def waveform_track(ctx: TimelineContext) -> Track:
    items = []
    for original in ctx.originals:
        waveform = ctx.derivatives.get(original.pk, {}).get(Derivative.Kind.WAVEFORM)
        if waveform is not None:
            items.append(
                {
                    "original": original.pk,
                    "start": ctx.clip_start(original),
                    "url": reverse("derivative-media", args=[waveform.pk]),
                }
            )
    return Track("waveform", "Audio", "waveform", items, "Audio waveform (peaks per clip)")


_CUSTODY_LABELS = {
    "view": "Viewed",
    "derivative-create": "Made",
    "marker-add": "Bookmark added",
    "metadata-change": "Details changed",
    "category-change": "Category changed",
    "export": "Exported",
    "download": "Downloaded",
    "redaction": "Redacted",
    "ingest": "Ingested",
}


@track("custody", order=40)
def custody_track(ctx: TimelineContext) -> Track | None:
    """Custody entries that point at a moment or a range of the footage (clips, stills,
    bookmarks); entries about the whole recording are listed beside the player."""
    if not ctx.may_audit:
        return None
    by_sha = {o.sha256: o for o in ctx.originals}
    items = []
    for entry in CustodyEntry.objects.filter(object_sha256__in=list(by_sha)).order_by("index"):
        body = json.loads(entry.entry)
        details = body.get("details") or {}
        original = by_sha[entry.object_sha256]
        base = ctx.clip_start(original)
        actor = (body.get("actor") or {}).get("id", "")
        what = _CUSTODY_LABELS.get(entry.action, entry.action)
        label = f"{what} by {actor}, {entry.recorded_at:%d %b %Y %H:%M} UTC"
        item: dict[str, Any] = {"index": entry.index, "action": entry.action, "label": label}
        if entry.action == "derivative-create" and "in_s" in details and "out_s" in details:
            item.update(
                start=round(base + details["in_s"], 3), end=round(base + details["out_s"], 3)
            )
            item["label"] = f"Clip: {label}"
        elif entry.action == "derivative-create" and "at_s" in details:
            item.update(t=round(base + details["at_s"], 3))
            item["label"] = f"Still: {label}"
        elif entry.action == "marker-add" and details.get("at"):
            moment = datetime.fromisoformat(details["at"].replace("Z", "+00:00"))
            item.update(t=ctx.at(moment))
        else:
            continue
        items.append(item)
    return Track("custody", "Custody", "ranges", items, "Custody entries at a point of the footage")
