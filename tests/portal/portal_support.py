"""Users of every role, signed in, and the pages the navigation offers them."""

from __future__ import annotations

from datetime import UTC, datetime

from django.test import Client

from overt.access.matrix import Role
from overt.evidence.models import Device, Officer, Original, Recording
from overt.testing.access import make_user, sign_in

START = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


def people() -> dict[Role, object]:
    """One user of every role; the officer and supervisor wear cameras."""
    Officer.objects.get_or_create(number="MP1", defaults={"name": "PC One", "team": "Team A"})
    Officer.objects.get_or_create(number="MP2", defaults={"name": "PS Two", "team": "Team A"})
    return {
        Role.OFFICER: make_user("officer", Role.OFFICER, officer="MP1"),
        Role.SUPERVISOR: make_user("supervisor", Role.SUPERVISOR, officer="MP2", team="Team A"),
        Role.EVIDENCE_MANAGER: make_user("manager", Role.EVIDENCE_MANAGER),
        Role.INVESTIGATOR: make_user("investigator", Role.INVESTIGATOR),
        Role.PROSECUTOR: make_user("prosecutor", Role.PROSECUTOR),
        Role.AUDITOR: make_user("auditor", Role.AUDITOR),
        Role.ADMIN: make_user("admin", Role.ADMIN),
    }


def client_for(user: object) -> Client:
    return sign_in(Client(), user)  # type: ignore[arg-type]


def recording(title: str = "Stop on Horseferry Road", officer: str = "MP1") -> Recording:
    device, _ = Device.objects.get_or_create(serial="CAM-1")
    return Recording.objects.create(
        device=device,
        officer=Officer.objects.get(number=officer),
        title=title,
        trigger_on_at=START,
    )


def original(rec: Recording, seed: str = "a") -> Original:
    """A catalogue row for a clip of `rec` (the report and custody pages read only rows)."""
    import hashlib

    return Original.objects.create(
        sha256=hashlib.sha256(f"{rec.pk}{seed}".encode()).hexdigest(),
        size=1,
        recording=rec,
        filename=f"clip-{rec.pk}-{seed}.mp4",
        source=Original.Source.values[0],
        playable=True,
    )


def nav_urls(html: str) -> list[str]:
    """The hrefs of the main navigation bar in a page."""
    import re

    nav = html.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'href="([^"]+)"', nav)
