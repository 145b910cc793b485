"""Demo instance: officers, cameras, incidents and synthetic footage, all ingested
through the real ingest service with sidecars, so the demo exercises what a force uses.

Deterministic: the same seed gives the same people, times and footage.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from overt.evidence.models import (
    Device,
    DeviceAssignment,
    Incident,
    Officer,
    Original,
    Recording,
)
from overt.ingest.services import IngestResult, ingest_file
from overt.ingest.sidecar import parse_sidecar

from .footage import AUDIO_RATE, render_clip, write_corrupt_clip
from .speech import speech_track

OFFICERS = [
    ("MP4121", "PC Asha Patel", "Specialist Firearms Command"),
    ("MP4127", "PC Daniel Okafor", "Specialist Firearms Command"),
    ("MP4133", "PS Ruth Kowalski", "Specialist Firearms Command"),
    ("MP2210", "PC Tom Hughes", "Westminster BCU"),
    ("MP2291", "PC Mei Chen", "Westminster BCU"),
]
DEVICES = [
    ("AXW120-0001", "Axis W120", "11.5.1"),
    ("AXW120-0002", "Axis W120", "11.5.1"),
    ("AXW120-0003", "Axis W120", "11.5.1"),
    ("AXW110-0104", "Axis W110", "10.12.4"),
]
# Camera clocks are never perfect. Two of the armed deployment's three cameras are off
# (seconds ahead of true time; negative: behind), so their recordings claim start times
# that differ from when the shared world sounds happened, and the multi-camera offset
# estimate (review.offsets) has real errors to find.
CLOCK_ERROR_S = {"AXW120-0002": -1.3, "AXW120-0003": 0.8}


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str
    officer: str = ""  # officer number, for officers and camera-wearing supervisors
    team: str = ""  # the team a supervisor supervises
    note: str = ""


# One user of every role. Roles above officer sign in with a TOTP code: their keys are
# derived from the username (demo_totp_key) and printed by `overt demo-data`.
DEMO_USERS = [
    DemoUser(
        "pc.hughes",
        "overt-demo-officer",
        "officer",
        officer="MP2210",
        note="PC Tom Hughes: his own footage",
    ),
    DemoUser(
        "ps.kowalski",
        "overt-demo-supervisor",
        "supervisor",
        officer="MP4133",
        team="Specialist Firearms Command",
        note="her team's footage",
    ),
    DemoUser("evidence", "overt-demo-evidence", "evidence-manager", note="all footage"),
    DemoUser(
        "iopc.reid",
        "overt-demo-investigator",
        "investigator",
        note="assigned to the armed deployment",
    ),
    DemoUser(
        "cps.shah",
        "overt-demo-prosecutor",
        "prosecutor",
        note="one stop and search shared for 30 days",
    ),
    DemoUser("auditor", "overt-demo-auditor", "auditor", note="custody log, no video"),
    DemoUser("admin", "overt-demo-admin", "admin", note="users and settings, no video"),
]


def demo_totp_key(username: str) -> bytes:
    """The demo users' TOTP keys: fixed so the printed keys work on every demo run.
    Public by design, like the demo passwords: never use demo accounts for real."""
    import hashlib

    return hashlib.sha256(f"overt-demo-totp:{username}".encode()).digest()[:20]


PRE_EVENT_S = 30
DAY = datetime(2026, 11, 20, tzinfo=UTC)
LONDON = (51.5014, -0.1419)


@dataclass(frozen=True)
class PlannedRecording:
    officer: str
    device: str
    incident: str
    title: str
    trigger_on: datetime
    duration_s: float
    reason: str
    markers: tuple[tuple[float, str], ...]
    clips: int = 1


INCIDENTS = [
    (
        "CAD 4410/20NOV",
        "Armed deployment, Horseferry Road",
        "armed deployment",
        DAY.replace(hour=14),
    ),
    ("CAD 2957/20NOV", "Stop and search, Victoria Street", "stop and search", DAY.replace(hour=10)),
    ("CAD 6120/20NOV", "Domestic incident, Pimlico", "domestic", DAY.replace(hour=21)),
]


def plan(seed: int) -> list[PlannedRecording]:
    rng = random.Random(seed)
    armed_at = INCIDENTS[0][3] + timedelta(minutes=12)
    out = []
    # Three firearms officers trigger within seconds of each other at the same scene.
    for i, (officer, device) in enumerate(
        [("MP4121", "AXW120-0001"), ("MP4127", "AXW120-0002"), ("MP4133", "AXW120-0003")]
    ):
        out.append(
            PlannedRecording(
                officer,
                device,
                INCIDENTS[0][0],
                f"Armed deployment: {OFFICERS[i][1]}",
                armed_at + timedelta(seconds=rng.uniform(0, 6) + 2 * i),
                rng.uniform(44, 52),
                "weapon-drawn" if i == 0 else "manual",
                (
                    (PRE_EVENT_S + 4.0, "Subject challenged"),
                    (PRE_EVENT_S + 11.0, "Subject detained"),
                ),
                clips=2 if i == 0 else 1,
            )
        )
    for k in range(9):
        officer, device = [("MP2210", "AXW110-0104"), ("MP2291", "AXW120-0001")][k % 2]
        incident = INCIDENTS[1 + k % 2]
        start = incident[3] + timedelta(minutes=20 * (k // 2) + rng.uniform(0, 8))
        out.append(
            PlannedRecording(
                officer,
                device,
                incident[0],
                f"{incident[1]} #{k + 1}",
                start,
                rng.uniform(34, 42),
                rng.choice(["manual", "holster", "manual"]),
                ((PRE_EVENT_S + 2.0, "Grounds explained"),) if k % 3 == 0 else (),
            )
        )
    return out


def create_demo(
    seed: int = 7, *, progress: Callable[[str], None] = print, size: tuple[int, int] = (640, 360)
) -> list[IngestResult]:
    """Create the demo people and footage. Running it again adds nothing new."""
    _people()
    results = []
    with tempfile.TemporaryDirectory(prefix="overt-demo-") as tmp:
        folder = Path(tmp)
        for n, rec in enumerate(plan(seed)):
            results.extend(_record(folder, n, rec, seed, size))
            progress(f"recording {n + 1}: {rec.title}")
        corrupt = folder / "AXW110-0104_20261120T213500Z.mp4"
        write_corrupt_clip(corrupt, seed)
        results.append(
            ingest_file(
                corrupt,
                officer_number="MP2210",
                device_serial="AXW110-0104",
                source=Original.Source.DEMO,
            )
        )
        progress("one deliberately corrupt clip (kept and flagged, as evidence must be)")
    _demo_grants()
    progress("access: an investigator assigned to the armed deployment, one recording shared")
    from overt.retention.demo import seed_retention

    seed_retention()
    progress("retention: categories under policies; three recordings fall due within 20 days")
    return results


def create_light_demo(
    seed: int = 7,
    *,
    picks: tuple[int, ...] = (0, 3, 4),
    duration_s: float = PRE_EVENT_S + 2.0,  # the clip holds the pre-event buffer
    size: tuple[int, int] = (160, 96),
) -> list[IngestResult]:
    """The demo's people, users, grants and retention data with a few short recordings of
    its plan (by default one armed deployment, one stop and search, one domestic), through
    the same code as create_demo: for tests that walk as the demo's users in seconds."""
    from overt.retention.demo import seed_retention

    _people()
    planned = plan(seed)
    results = []
    with tempfile.TemporaryDirectory(prefix="overt-demo-") as tmp:
        for n in picks:
            short = replace(planned[n], duration_s=duration_s, clips=1, markers=())
            results.extend(_record(Path(tmp), n, short, seed, size))
    _demo_grants()
    seed_retention()
    return results


@transaction.atomic
def _people() -> None:
    for number, name, team in OFFICERS:
        Officer.objects.get_or_create(number=number, defaults={"name": name, "team": team})
    for serial, model, firmware in DEVICES:
        Device.objects.get_or_create(serial=serial, defaults={"model": model, "firmware": firmware})
    for reference, title, kind, when in INCIDENTS:
        Incident.objects.get_or_create(
            reference=reference, defaults={"title": title, "kind": kind, "occurred_at": when}
        )
    # Cameras are pooled: AXW120-0001 passes from a firearms officer to PC Chen at 17:00.
    for officer, device, start_hour, hours in [
        ("MP4121", "AXW120-0001", 13, 4),
        ("MP4127", "AXW120-0002", 13, 4),
        ("MP4133", "AXW120-0003", 13, 4),
        ("MP2210", "AXW110-0104", 7, 16),
        ("MP2291", "AXW120-0001", 17, 6),
    ]:
        starts_at = DAY.replace(hour=start_hour)
        DeviceAssignment.objects.get_or_create(
            device=Device.objects.get(serial=device),
            officer=Officer.objects.get(number=officer),
            starts_at=starts_at,
            defaults={"ends_at": starts_at + timedelta(hours=hours)},
        )
    _demo_users()


def _demo_users() -> None:
    from binascii import hexlify

    from django_otp.plugins.otp_totp.models import TOTPDevice

    from overt.access.grants import set_role
    from overt.access.identity import needs_totp
    from overt.custody.services import Actor

    users = get_user_model()
    for demo in DEMO_USERS:
        if users.objects.filter(username=demo.username).exists():
            continue
        user = users.objects.create_user(demo.username, password=demo.password)
        officer = Officer.objects.get(number=demo.officer) if demo.officer else None
        set_role(user, demo.role, by=Actor.system("demo"), officer=officer, team=demo.team)
        if needs_totp(user):
            TOTPDevice.objects.create(
                user=user,
                name="demo",
                key=hexlify(demo_totp_key(demo.username)).decode("ascii"),
                confirmed=True,
            )


@transaction.atomic
def _demo_grants() -> None:
    """The investigator's assignment and the prosecutor's share (once)."""
    from overt.access.grants import assign, share
    from overt.access.models import Assignment, Share
    from overt.custody.services import Actor

    users = get_user_model()
    by = Actor.system("demo")
    investigator = users.objects.get(username="iopc.reid")
    if not Assignment.objects.filter(user=investigator).exists():
        assign(
            investigator,
            by=by,
            incident=Incident.objects.get(reference=INCIDENTS[0][0]),
            reason="IOPC independent investigation of the armed deployment (demo)",
        )
    prosecutor = users.objects.get(username="cps.shah")
    first = Recording.objects.filter(incident__reference=INCIDENTS[1][0]).order_by("id").first()
    if first is not None and not Share.objects.filter(grantee=prosecutor).exists():
        share(
            first,
            prosecutor,
            expires_at=datetime.now(UTC) + timedelta(days=30),
            by=by,
            reason="Charging decision (demo)",
        )


def _record(
    folder: Path, n: int, rec: PlannedRecording, seed: int, size: tuple[int, int]
) -> list[IngestResult]:
    # The plan's times are true times; the camera records (and claims) its own clock's.
    clock_error_s = CLOCK_ERROR_S.get(rec.device, 0.0)
    trigger_on = rec.trigger_on + timedelta(seconds=clock_error_s)
    clip_start = trigger_on - timedelta(seconds=PRE_EVENT_S)
    rng = random.Random(seed * 1000 + n)
    track = _gps_track(rng, clip_start, rec.duration_s)
    trigger_off = clip_start + timedelta(seconds=rec.duration_s)
    results = []
    clip_len = rec.duration_s / rec.clips
    for c in range(rec.clips):
        start = clip_start + timedelta(seconds=c * clip_len)
        stamp = start.strftime("%Y%m%dT%H%M%SZ")
        path = folder / f"{rec.device}_{stamp}_{c}.mp4"
        render_clip(
            path,
            seed=seed * 100 + n * 10 + c,
            start_utc=start,
            duration_s=clip_len,
            device_serial=rec.device,
            officer_number=rec.officer,
            width=size[0],
            height=size[1],
            world_seed=seed,
            clock_error_s=clock_error_s,
            speech=speech_track(n, c * clip_len, clip_len, AUDIO_RATE),
            faces=True,
        )
        sidecar = {
            "schema": "overt.sidecar/1",
            "officer": rec.officer,
            "device": rec.device,
            "recording": {
                "trigger_on_at": _iso(trigger_on),
                "trigger_off_at": _iso(trigger_off),
                "trigger_on_reason": rec.reason,
                "trigger_off_reason": "manual",
                "pre_event_seconds": PRE_EVENT_S,
                "incident": rec.incident,
                "title": rec.title,
                "location": {"lat": track[0]["lat"], "lon": track[0]["lon"]},
                "gps_track": track,
            },
            "clip": {"started_at": _iso(start)},
            "markers": [
                {"at": _iso(clip_start + timedelta(seconds=t)), "text": text}
                for t, text in rec.markers
            ]
            if c == 0
            else [],
        }
        meta = parse_sidecar(json.dumps(sidecar).encode(), f"demo sidecar {path.name}")
        results.append(
            ingest_file(path, officer_number=None, device_serial=None, sidecar=meta, source="demo")
        )
    return results


def _gps_track(rng: random.Random, start: datetime, duration_s: float) -> list[dict[str, Any]]:
    lat, lon = LONDON[0] + rng.uniform(-0.01, 0.01), LONDON[1] + rng.uniform(-0.01, 0.01)
    points = []
    for t in range(0, int(duration_s) + 1, 5):
        lat += rng.uniform(-0.0002, 0.0002)
        lon += rng.uniform(-0.0003, 0.0003)
        points.append(
            {"t": _iso(start + timedelta(seconds=t)), "lat": round(lat, 6), "lon": round(lon, 6)}
        )
    return points


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
