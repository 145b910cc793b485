"""Benchmark the portal: each role's home page, and what the navigation bar (links from
every app's nav.py, filtered by the access matrix, with badge counts) adds to a page.

Run: .venv/bin/python bench/portal.py [--recordings 20000]

A fresh SQLite instance with N recordings (bulk-created, a tenth uncategorised-free),
users of every role, a hold, a pending early deletion and alerts. Timed with Django's test
client, signed in: median and p95 of 30 requests after one warm-up, for
(a) /home/ of each role;
(b) the peer: the same page (/access/alerts/ for the auditor, /retention/holds/ for the
    evidence manager) rendered with and without the portal's context processor, so the
    difference is the bar's own cost.
Prints a markdown section and writes it to docs/benchmarks.md under "## Portal",
replacing only that section. No assertions: the numbers are for the record.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Portal"
RUNS = 30


def _times(client: Any, url: str) -> tuple[float, float]:
    client.get(url)
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    samples.sort()
    return statistics.median(samples) * 1000, samples[int(len(samples) * 0.95) - 1] * 1000


def measure(count: int) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="overt-bench-portal-"))
    for name in [k for k in os.environ if k.startswith("OVERT_")]:
        del os.environ[name]
    os.environ["OVERT_HOME"] = str(home)
    from overt.cli.bootstrap import run_migrations, setup

    setup(migrate=False)
    run_migrations()
    from django.test import Client, override_settings

    from overt.access.matrix import Role
    from overt.access.models import Alert
    from overt.custody.keys import ensure_signing_key
    from overt.custody.services import Actor
    from overt.evidence.models import Device, Officer, Recording
    from overt.retention.services import request_deletion, set_hold
    from overt.testing.access import make_user, sign_in

    ensure_signing_key()
    officers = [
        Officer.objects.create(number=f"MP{i}", name=f"PC {i}", team=f"Team {i % 20}")
        for i in range(200)
    ]
    device = Device.objects.create(serial="CAM-1")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    Recording.objects.bulk_create(
        [
            Recording(
                device=device,
                officer=officers[i % 200],
                title=f"Recording {i}",
                trigger_on_at=start + timedelta(minutes=i),
            )
            for i in range(count)
        ],
        batch_size=2000,
    )
    users = {
        Role.OFFICER: make_user("officer", Role.OFFICER, officer=officers[0]),
        Role.SUPERVISOR: make_user(
            "supervisor", Role.SUPERVISOR, officer=officers[1], team="Team 1"
        ),
        Role.EVIDENCE_MANAGER: make_user("manager", Role.EVIDENCE_MANAGER),
        Role.INVESTIGATOR: make_user("investigator", Role.INVESTIGATOR),
        Role.PROSECUTOR: make_user("prosecutor", Role.PROSECUTOR),
        Role.AUDITOR: make_user("auditor", Role.AUDITOR),
        Role.ADMIN: make_user("admin", Role.ADMIN),
    }
    first = Recording.objects.order_by("pk").first()
    assert first is not None
    set_hold(first.pk, reason="bench", actor=Actor.system("bench"))
    request_deletion(first.pk + 1, user=users[Role.EVIDENCE_MANAGER], reason="bench")
    for _ in range(5):
        Alert.objects.create(kind=Alert.Kind.values[0], message="bench")
    result: dict[str, Any] = {"recordings": count, "home": {}, "bar": {}}
    clients = {role: sign_in(Client(HTTP_HOST="localhost"), user) for role, user in users.items()}
    for role, client in clients.items():
        result["home"][role.value] = _times(client, "/home/")
    from django.conf import settings

    templates = [dict(t) for t in settings.TEMPLATES]
    bare = [dict(t, OPTIONS=dict(t["OPTIONS"])) for t in templates]
    for t in bare:
        t["OPTIONS"]["context_processors"] = [
            p for p in t["OPTIONS"]["context_processors"] if "portal" not in p
        ]
    for role, url in (
        (Role.AUDITOR, "/access/alerts/"),
        (Role.EVIDENCE_MANAGER, "/retention/holds/"),
    ):
        with_bar = _times(clients[role], url)
        with override_settings(TEMPLATES=bare):
            without = _times(clients[role], url)
        result["bar"][f"{role.value} {url}"] = (with_bar, without)
    return result


def section(result: dict[str, Any], load: str) -> str:
    lines = [
        HEADING,
        "",
        f"`bench/portal.py`, SQLite, {result['recordings']:,} recordings, Django's test client, "
        f"median / p95 of {RUNS} requests. Machine load while it ran: {load} (other "
        "engineers' tests share the 2 cores, so absolute times are inflated).",
        "",
        "| Home page of | median ms | p95 ms |",
        "|---|---|---|",
    ]
    for role, (median, p95) in result["home"].items():
        lines.append(f"| {role} | {median:.1f} | {p95:.1f} |")
    lines += [
        "",
        "The bar's own cost, against the same page without the portal's context processor "
        "(the peer):",
        "",
        "| Page | with bar, median ms | without, median ms | bar costs |",
        "|---|---|---|---|",
    ]
    for page, ((with_median, _), (without_median, _)) in result["bar"].items():
        lines.append(
            f"| {page} | {with_median:.1f} | {without_median:.1f} | "
            f"{with_median - without_median:+.1f} ms |"
        )
    return "\n".join(lines) + "\n"


def write(text: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    current = path.read_text("utf-8")
    if HEADING + "\n" in current:
        before, rest = current.split(HEADING + "\n", 1)
        after = rest.split("\n## ", 1)
        current = before + text + ("\n## " + after[1] if len(after) > 1 else "")
    else:
        current = current.rstrip("\n") + "\n\n" + text
    path.write_text(current, "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recordings", type=int, default=20000)
    args = parser.parse_args()
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    text = section(measure(args.recordings), load.split("load average:")[-1].strip())
    print(text)
    write(text)


if __name__ == "__main__":
    main()
