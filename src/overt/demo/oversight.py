"""Demo oversight content: a month of deployments in three boroughs attended by the demo
officers, with real (synthetic) footage for most attendances, some late, some stopped
early, a few with muted audio and some with none at all; two complaints (one with footage,
under a complaint hold), one supervisor-review draw, and November's compliance computed,
so the dashboards and the transparency report have real content.

Demo time is compressed: an attendance lasts 90 seconds and its clip two minutes (small,
at 2 frames a second), so `make demo` stays quick; the rules are the same at any length.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from overt.custody.services import Actor
from overt.ingest.services import IngestResult, ingest_file
from overt.ingest.sidecar import parse_sidecar
from overt.oversight import complaints, compliance, supervision
from overt.oversight.deployments import import_deployments
from overt.oversight.models import Deployment

from .footage import render_clip

ACTOR = Actor.system("demo")
BOROUGHS = {  # borough: (team, centre, deployment type, officers and their cameras)
    "Westminster": (
        "SCO19",
        (51.4977, -0.1415),
        "armed-deployment",
        [("MP4121", "AXW120-0001"), ("MP4127", "AXW120-0002"), ("MP4133", "AXW120-0003")],
    ),
    "Camden": ("TSG", (51.5390, -0.1426), "stop-and-search", [("MP2210", "AXW110-0104")]),
    "Hackney": ("Response", (51.5450, -0.0553), "cad-incident", [("MP2291", "AXW120-0001")]),
}
PRE_EVENT_S = 10
ATTENDANCE_S = 90
# What happens at the n-th attendance (cycling): mostly recorded from the outset.
PATTERN = [
    "recorded",
    "recorded",
    "late",
    "recorded",
    "recorded",
    "no-footage",
    "recorded",
    "early-stop",
    "recorded",
    "recorded",
    "late",
    "recorded-muted",
    "recorded",
    "no-footage",
]


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def plan() -> list[dict[str, Any]]:
    """The month's deployments in the contract's JSON form."""
    out = []
    for b, (borough, (team, centre, kind, people)) in enumerate(BOROUGHS.items()):
        for d, day in enumerate(range(1, 31, 3)):
            arrived = datetime(2026, 11, day, 9 + 3 * b, 15 + d, tzinfo=UTC)
            crew = [people[d % len(people)]] + (
                [people[(d + 1) % len(people)]] if len(people) > 1 else []
            )
            out.append(
                {
                    "reference": f"CAD {1000 + 100 * b + d}/{day:02d}NOV",
                    "type": kind,
                    "borough": borough,
                    "team": team,
                    "authorised_at": _iso(arrived - timedelta(minutes=4))
                    if kind == "armed-deployment"
                    else None,
                    "arrived_at": _iso(arrived),
                    "ended_at": _iso(arrived + timedelta(seconds=ATTENDANCE_S)),
                    "location": {"lat": centre[0], "lon": centre[1]},
                    "officers": [
                        {"number": n, "arrived_at": None, "departed_at": None} for n, _ in crew
                    ],
                }
            )
    return out


def _cameras() -> dict[str, str]:
    return {n: cam for _, _, _, people in BOROUGHS.values() for n, cam in people}


def _film(
    folder: Path, n: int, dep: dict[str, Any], number: str, outcome: str
) -> IngestResult | None:
    if outcome == "no-footage":
        return None
    arrived = datetime.fromisoformat(dep["arrived_at"].replace("Z", "+00:00"))
    ended = arrived + timedelta(seconds=ATTENDANCE_S)
    on = arrived + timedelta(seconds=55 if outcome == "late" else -5)
    off = ended - timedelta(seconds=45) if outcome == "early-stop" else ended + timedelta(seconds=5)
    start = on - timedelta(seconds=PRE_EVENT_S)
    device = _cameras()[number]
    path = folder / f"{device}_{start:%Y%m%dT%H%M%SZ}.mp4"
    render_clip(
        path,
        seed=500 + n,
        start_utc=start,
        duration_s=(off - start).total_seconds(),
        device_serial=device,
        officer_number=number,
        width=160,
        height=90,
        fps=2,
        with_audio=outcome != "recorded-muted",
        world_seed=7,
    )
    rng = random.Random(n)
    lat = dep["location"]["lat"] + rng.uniform(-0.001, 0.001)
    lon = dep["location"]["lon"] + rng.uniform(-0.001, 0.001)
    sidecar = {
        "schema": "overt.sidecar/1",
        "officer": number,
        "device": device,
        "recording": {
            "trigger_on_at": _iso(on),
            "trigger_off_at": _iso(off),
            "trigger_on_reason": "manual",
            "trigger_off_reason": "manual",
            "pre_event_seconds": PRE_EVENT_S,
            "title": f"{dep['type'].replace('-', ' ').capitalize()}, {dep['borough']}",
            "location": {"lat": round(lat, 6), "lon": round(lon, 6)},
        },
        "clip": {"started_at": _iso(start)},
        "markers": [],
    }
    meta = parse_sidecar(json.dumps(sidecar).encode(), f"demo sidecar {path.name}")
    return ingest_file(path, officer_number=None, device_serial=None, sidecar=meta, source="demo")


def seed_oversight(progress: Callable[[str], None] = print) -> list[IngestResult]:
    """Import the month, film it, register complaints, draw a review sample, judge it.
    Running it again adds nothing."""
    if Deployment.objects.filter(reference__startswith="CAD 1000/").exists():
        return []
    deployments = plan()
    import_deployments(json.dumps(deployments).encode(), name="demo-deployments.json", actor=ACTOR)
    progress(f"oversight: {len(deployments)} deployments in November in three boroughs")
    results: list[IngestResult] = []
    late_recording = None
    with tempfile.TemporaryDirectory(prefix="overt-demo-oversight-") as tmp:
        n = 0
        for dep in deployments:
            for officer in dep["officers"]:
                outcome = PATTERN[n % len(PATTERN)]
                made = _film(Path(tmp), n, dep, officer["number"], outcome)
                if made is not None:
                    results.append(made)
                    if outcome == "late" and late_recording is None:
                        late_recording = (dep, officer["number"])
                n += 1
    progress(
        f"oversight: {len(results)} clips filmed; some late, a few muted, some unrecorded"
    )
    compliance.run(date(2026, 11, 1), date(2026, 11, 30))
    _complaints(late_recording)
    supervision.draw(
        "Specialist Firearms Command", date(2026, 11, 16), actor=ACTOR, seed="demo-2026-11-16"
    )
    progress("oversight: compliance judged; two complaints (one holding footage); a review sample")
    return results


def _complaints(late: tuple[dict[str, Any], str] | None) -> None:
    if late is not None:
        dep, number = late
        arrived = dep["arrived_at"]
        made = complaints.register(
            complaints.new_complaint(
                {
                    "reference": "CO/2026/0117",
                    "received_on": arrived[:10],
                    "occurred_from": arrived,
                    "occurred_to": dep["ended_at"],
                    "officers": [number],
                    "latitude": dep["location"]["lat"],
                    "longitude": dep["location"]["lon"],
                    "borough": dep["borough"],
                    "summary": "Complainant says the search began before the camera was on.",
                }
            ),
            actor=ACTOR,
        )
        for rec in complaints.proposed(made):
            complaints.link(made.reference, rec.pk, actor=ACTOR)
    other = complaints.register(
        complaints.new_complaint(
            {
                "reference": "CO/2026/0121",
                "received_on": "2026-11-09",
                "occurred_from": "2026-11-08T22:00:00Z",
                "occurred_to": "2026-11-08T22:30:00Z",
                "officers": ["MP2291"],
                "borough": "Hackney",
                "summary": "Incivility at a call (no deployment recorded at that time).",
            }
        ),
        actor=ACTOR,
    )
    complaints.close(
        other.reference, outcome="not upheld", closed_on=date(2026, 11, 27), actor=ACTOR
    )
