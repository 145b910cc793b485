"""Benchmark oversight: importing a month of deployments, judging compliance for it, and
the dashboard pages once computed, on SQLite and PostgreSQL.

Run: .venv/bin/python bench/oversight.py [--scale 1.0] [--engine sqlite|postgresql|both]

At --scale 1.0 one month of a force the Met's size: 60,000 deployments, 150,000
attendances (2.5 each), 500,000 recordings by 6,000 officers. Rows are generated in bulk
(recordings with bulk_create, deployments through the real importer from one JSON file),
then timed:

(a) `import_deployments` of the month's JSON file (parse, validate, write, log);
(b) `compliance.run` for the month (read, judge, store every verdict);
(c) the peer: the obvious way, one ORM query per attendance for its officer's recordings,
    timed on 2,000 attendances and scaled to the month (same run, same database);
(d) the dashboard page (/oversight/) and a drill-down page, served by Django's test client
    to a signed-in evidence manager: median and p95 of 20 requests after one warm-up.

Each engine runs in its own process and fresh instance (PostgreSQL: a throwaway database
on OVERT_BENCH_PG, default postgresql://postgres@127.0.0.1:5432). Prints a markdown
section and writes it to docs/benchmarks.md under "## Oversight", replacing only that
section. No assertions: the numbers are for the record.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Oversight"
FULL = {"deployments": 60_000, "attendances": 150_000, "recordings": 500_000, "officers": 6_000}
MONTH = datetime(2026, 11, 1, tzinfo=UTC)
BOROUGHS = [f"Borough {i:02d}" for i in range(32)]


def _z(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def generate(scale: float, rng: random.Random) -> tuple[list[dict[str, Any]], int]:
    """The month's deployments (contract JSON) and the officers count."""
    n_dep = int(FULL["deployments"] * scale)
    n_att = int(FULL["attendances"] * scale)
    officers = max(10, int(FULL["officers"] * scale))
    sizes = [1] * n_dep
    for _ in range(n_att - n_dep):
        sizes[rng.randrange(n_dep)] += 1
    out = []
    for i, size in enumerate(sizes):
        arrived = MONTH + timedelta(seconds=rng.randrange(29 * 86400))
        ended = arrived + timedelta(minutes=rng.randint(10, 90))
        crew = rng.sample(range(officers), min(size, officers))
        borough = BOROUGHS[i % len(BOROUGHS)]
        out.append(
            {
                "reference": f"CAD {i}/NOV",
                "type": "armed-deployment" if i % 7 == 0 else "cad-incident",
                "borough": borough,
                "team": f"{borough} team {i % 4}",
                "authorised_at": None,
                "arrived_at": _z(arrived),
                "ended_at": _z(ended),
                "location": {
                    "lat": 51.5 + rng.uniform(-0.1, 0.1),
                    "lon": -0.12 + rng.uniform(-0.2, 0.2),
                },
                "officers": [
                    {"number": f"B{o:05d}", "arrived_at": None, "departed_at": None} for o in crew
                ],
            }
        )
    return out, officers


def bulk_insert(model: Any, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert `rows` (values for `columns`, as Python values) into `model`'s table, every
    other column at its model default: COPY on PostgreSQL, executemany on SQLite. The ORM's
    bulk_create costs a model instance per row, which at 500,000 rows is most of the seed."""
    from django.db import connection, transaction

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    named = {f.attname: f for f in fields}
    rest = [f for f in fields if f.attname not in columns]
    template = model()
    fixed = [f.get_db_prep_save(f.pre_save(template, True), connection) for f in rest]
    names = [named[c].column for c in columns] + [f.column for f in rest]
    table = model._meta.db_table
    prep = [named[c] for c in columns]
    with transaction.atomic(), connection.cursor() as cursor:  # SQLite: not one commit a row
        if connection.vendor == "postgresql":
            quoted = ", ".join(f'"{n}"' for n in names)
            with cursor.cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                for row in rows:
                    values = [
                        f.get_db_prep_save(v, connection) for f, v in zip(prep, row, strict=True)
                    ]
                    copy.write_row([_plain(v) for v in values + fixed])
        else:
            marks = ", ".join(["%s"] * len(names))
            sql = f'INSERT INTO "{table}" ({", ".join(names)}) VALUES ({marks})'
            batch = []
            for row in rows:
                batch.append(
                    [f.get_db_prep_save(v, connection) for f, v in zip(prep, row, strict=True)]
                    + fixed
                )
                if len(batch) >= 20_000:
                    cursor.executemany(sql, batch)
                    batch.clear()
            cursor.executemany(sql, batch)


def _plain(value: Any) -> Any:
    """A value COPY can take: the JSON adapters Django hands back as their text."""
    inner = getattr(value, "obj", None)
    return json.dumps(inner) if inner is not None and hasattr(value, "dumps") else value


def fill_catalogue(
    deployments: list[dict[str, Any]], officers: int, total: int, rng: random.Random
) -> None:
    """Officers, devices, `total` recordings and one original each (2% with no audio
    track): most attendances filmed (some late, some stopped early), the rest of the
    month's recordings spread at random."""
    from overt.evidence.models import Device, Officer, Original, Recording

    bulk_insert(
        Officer,
        ["number", "name", "team"],
        [(f"B{o:05d}", f"Bench {o}", f"team {o % 200}") for o in range(officers)],
    )
    bulk_insert(Device, ["serial"], [(f"BD{o:05d}",) for o in range(officers)])
    ids = dict(Officer.objects.values_list("number", "pk"))
    devices = dict(Device.objects.values_list("serial", "pk"))
    rows: list[tuple[Any, ...]] = []

    def add(number: str, on: datetime, off: datetime, place: tuple[float, float]) -> None:
        rows.append((ids[number], devices["BD" + number[1:]], on, off, 30.0, place[0], place[1]))

    made = 0
    for dep in deployments:
        arrived = datetime.fromisoformat(dep["arrived_at"].replace("Z", "+00:00"))
        ended = datetime.fromisoformat(dep["ended_at"].replace("Z", "+00:00"))
        for o in dep["officers"]:
            roll = rng.random()
            if roll < 0.05 or made >= total:
                continue  # no footage
            late = timedelta(seconds=rng.randint(60, 300) if roll < 0.12 else -20)
            early = timedelta(seconds=rng.randint(120, 600) if roll > 0.95 else -10)
            add(
                o["number"],
                arrived + late,
                ended - early,
                (dep["location"]["lat"], dep["location"]["lon"]),
            )
            made += 1
    while made < total:
        on = MONTH + timedelta(seconds=rng.randrange(30 * 86400))
        place = (51.5 + rng.uniform(-0.1, 0.1), -0.12 + rng.uniform(-0.2, 0.2))
        add(
            f"B{rng.randrange(officers):05d}", on, on + timedelta(minutes=rng.randint(1, 40)), place
        )
        made += 1
    columns = [
        "officer_id",
        "device_id",
        "trigger_on_at",
        "trigger_off_at",
        "pre_event_seconds",
        "start_latitude",
        "start_longitude",
    ]
    bulk_insert(Recording, columns, rows)
    rows.clear()
    originals = []
    for n, (pk, on, off) in enumerate(
        Recording.objects.order_by("pk").values_list("pk", "trigger_on_at", "trigger_off_at")
    ):
        audio = "" if rng.random() < 0.02 else "aac"
        size = int((off - on).total_seconds() * 750_000)
        originals.append(
            (f"{n:064x}", size, pk, f"clip{n}.mp4", "cli", "mp4", "h264", audio, on, off, True)
        )
    bulk_insert(
        Original,
        [
            "sha256",
            "size",
            "recording_id",
            "filename",
            "source",
            "container",
            "video_codec",
            "audio_codec",
            "started_at",
            "stopped_at",
            "playable",
        ],
        originals,
    )


def timed(work: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def run_engine(engine: str, scale: float) -> dict[str, Any]:
    """A fresh instance on `engine`: seeded in this process, then measured in a second
    process (so its wall, CPU and peak memory are the compliance run's alone)."""
    home = Path(tempfile.mkdtemp(prefix=f"overt-bench-oversight-{engine}-"))
    for name in [k for k in os.environ if k.startswith("OVERT_")]:
        del os.environ[name]
    os.environ["OVERT_HOME"] = str(home)
    db_name = f"overt_bench_oversight_{os.getpid()}"
    admin = os.environ.get("OVERT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
    if engine == "postgresql":
        import psycopg

        with psycopg.connect(admin + "/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        os.environ["OVERT_DATABASE_URL"] = f"{admin}/{db_name}"
    try:
        out = _seed(engine, scale)
        from django.db import connections

        connections.close_all()
        if engine == "postgresql":
            with connections["default"].cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")  # as autovacuum would, after a bulk load
            connections.close_all()
        done = subprocess.run(
            [sys.executable, __file__, "--measure", engine, "--scale", str(scale)],
            capture_output=True,
            text=True,
            check=False,
        )
        found = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        if not found:
            raise SystemExit(f"measuring {engine} failed:\n{done.stderr[-3000:]}")
        out.update(json.loads(found[-1][len("RESULT ") :]))
        return out
    finally:
        if engine == "postgresql":
            from django.db import connections

            connections.close_all()
            import psycopg

            with psycopg.connect(admin + "/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def _seed(engine: str, scale: float) -> dict[str, Any]:
    from overt.cli.bootstrap import run_migrations, setup

    setup(migrate=False)
    run_migrations()  # PostgreSQL: overt processes refuse a schema that is behind

    from overt.custody.keys import ensure_signing_key

    ensure_signing_key()

    from overt.custody.services import Actor
    from overt.evidence.models import Recording
    from overt.oversight.deployments import import_deployments

    rng = random.Random(2026)
    deployments, officers = generate(scale, rng)
    out: dict[str, Any] = {"engine": engine, "scale": scale}
    print("generating", file=sys.stderr, flush=True)
    out["generate_s"], _ = timed(
        lambda: fill_catalogue(deployments, officers, int(FULL["recordings"] * scale), rng)
    )
    body = json.dumps(deployments).encode()
    deployments.clear()
    out["import_s"], result = timed(
        lambda: import_deployments(body, name="month.json", actor=Actor.system("bench"))
    )
    out["attendances"] = result.attendances
    out["deployments"] = len(result.created) + len(result.updated) + len(result.unchanged)
    out["recordings"] = Recording.objects.count()
    return out


def _measure(engine: str) -> dict[str, Any]:
    """In a fresh process on the seeded instance: (b) the compliance run, (c) the peers,
    (d) the pages."""
    from overt.cli.bootstrap import setup

    setup(migrate=False)
    from overt.oversight import compliance

    out: dict[str, Any] = {"load_before": os.getloadavg()[0]}
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    server = _server_cpu(engine)
    cpu = time.process_time()
    out["compliance_s"], outcome = timed(
        lambda: compliance.run(date(2026, 11, 1), date(2026, 11, 30))
    )
    # This process's CPU time: on SQLite all of the work (the engine runs in-process),
    # on PostgreSQL without the server's share. Less sensitive to the machine's load.
    out["compliance_cpu_s"] = time.process_time() - cpu
    if server is not None:  # PostgreSQL: the server's share, from its backend's /proc entry
        out["server_cpu_s"] = _server_cpu(engine) - server
    out["compliance_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["rss_before_mib"] = rss_before / 1024
    out["load_after"] = os.getloadavg()[0]
    statuses: dict[str, int] = {}
    for j in outcome.judged:
        statuses[j.status] = statuses.get(j.status, 0) + 1
    out["statuses"] = statuses
    out["attendances_judged"] = len(outcome.judged)
    del outcome
    _floor(engine, out)
    _naive(out)
    try:  # the pages import every app's URLs: a broken app elsewhere must not lose (b)-(c)
        _pages(out)
    except Exception as exc:  # recorded in the output, not hidden
        out["page_error"] = f"{type(exc).__name__}: {exc}"[:300]
    return out


def _server_cpu(engine: str) -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend (same machine)."""
    if engine != "postgresql":
        return None
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # the server is elsewhere
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# The floor: the database alone matching every attendance of the month to its officer's
# recordings near it (the same window) and counting them, with no rules and no writes.
_FLOOR = {
    "sqlite": (
        "SELECT COUNT(*), SUM(n) FROM (SELECT a.id, COUNT(r.id) AS n FROM oversight_attendance a "
        "LEFT JOIN evidence_recording r ON r.officer_id = a.officer_id "
        "AND r.trigger_on_at >= datetime(a.arrived_at, '-44100 seconds') "
        "AND r.trigger_on_at <= datetime(a.departed_at, '+44100 seconds') "
        "WHERE a.arrived_at >= '2026-11-01' AND a.arrived_at < '2026-12-01' GROUP BY a.id)"
    ),
    "postgresql": (
        "SELECT COUNT(*), SUM(n) FROM (SELECT a.id, COUNT(r.id) AS n FROM oversight_attendance a "
        "LEFT JOIN evidence_recording r ON r.officer_id = a.officer_id "
        "AND r.trigger_on_at >= a.arrived_at - interval '44100 seconds' "
        "AND r.trigger_on_at <= a.departed_at + interval '44100 seconds' "
        "WHERE a.arrived_at >= '2026-11-01' AND a.arrived_at < '2026-12-01' GROUP BY a.id) t"
    ),
}


def _floor(engine: str, out: dict[str, Any]) -> None:
    from django.db import connection

    cpu = time.process_time()
    with connection.cursor() as cursor:
        out["floor_s"], _ = timed(lambda: cursor.execute(_FLOOR[engine]))
        out["floor_rows"] = [int(v or 0) for v in cursor.fetchone()]
    out["floor_cpu_s"] = time.process_time() - cpu


def _naive(out: dict[str, Any]) -> None:
    """The obvious way: one ORM query per attendance, on 2,000, scaled to the month."""
    from overt.evidence.models import Recording
    from overt.oversight import compliance
    from overt.oversight.models import Attendance
    from overt.oversight.rules import AttendanceFacts, RecordingFacts, judge

    limits = compliance.thresholds()
    sample = list(Attendance.objects.select_related("deployment").order_by("pk")[:2000])

    def naive() -> None:
        for a in sample:
            recs = Recording.objects.filter(
                officer_id=a.officer_id,
                trigger_on_at__lte=a.departed_at + timedelta(minutes=15),
                trigger_on_at__gte=a.arrived_at - timedelta(hours=12),
            )
            facts = [
                RecordingFacts(r.pk, r.trigger_on_at, r.trigger_off_at, r.pre_event_seconds)
                for r in recs
            ]
            judge(AttendanceFacts(a.arrived_at, a.departed_at), facts, limits)

    cpu = time.process_time()
    naive_s, _ = timed(naive)
    share = out["attendances_judged"] / max(1, len(sample))
    out["naive_month_s"] = naive_s * share
    out["naive_month_cpu_s"] = (time.process_time() - cpu) * share


REQUESTS = 40


def _pages(out: dict[str, Any]) -> None:
    from django.test import Client

    from overt.access.matrix import Role
    from overt.testing.access import make_user, sign_in

    client = sign_in(Client(HTTP_HOST="localhost"), make_user("bench-em", Role.EVIDENCE_MANAGER))
    for name, url in [
        ("dashboard", "/oversight/"),
        ("dashboard_borough", f"/oversight/?borough={BOROUGHS[3]}&month=2026-11"),
        ("drilldown", f"/oversight/attendances/?borough={BOROUGHS[3]}&status=late"),
    ]:
        client.get(url)
        times, cpus = [], []
        for _ in range(REQUESTS):
            cpu = time.process_time()
            t, response = timed(lambda url=url: client.get(url))
            cpus.append((time.process_time() - cpu) * 1000)
            assert response.status_code == 200, response.status_code
            times.append(t * 1000)
        times.sort()
        out[f"{name}_ms"] = (statistics.median(times), times[int(len(times) * 0.95) - 1])
        out[f"{name}_cpu_ms"] = statistics.median(cpus)
    out["load_pages"] = os.getloadavg()[0]


def section(results: list[dict[str, Any]], load: tuple[float, float, float]) -> str:
    lines = [
        HEADING,
        "",
        "`bench/oversight.py --scale S` (S: the fraction of a full month, per column), "
        f"{datetime.now(UTC):%Y-%m-%d}, "
        f"{os.cpu_count()} CPUs, load average at start "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        + (
            "(the machine was otherwise idle; compare each figure with its peer in the same "
            "column)."
            if load[0] < 2
            else "(other work was running on the same machine: compare the CPU times, and "
            "each figure with its peer in the same column)."
        ),
        "",
        "| | " + " | ".join(f"{r['engine']}, S = {r['scale']}" for r in results) + " |",
        "|---|" + "---|" * len(results),
    ]

    def row(label: str, values: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(values) + " |")

    def ms(r: dict[str, Any], key: str) -> str:
        got = r.get(key + "_ms")
        if not got:
            return "not measured: " + r.get("page_error", "")
        return f"{got[0]:.0f} / {got[1]:.0f} ms (CPU {r[key + '_cpu_ms']:.0f} ms)"

    row(
        "deployments / attendances / recordings (one original each)",
        [f"{r['deployments']:,} / {r['attendances']:,} / {r['recordings']:,}" for r in results],
    )
    row("seeding the catalogue (COPY / executemany)", [f"{r['generate_s']:.0f} s" for r in results])
    row(
        "(a) import the month's JSON (all or nothing, logged)",
        [f"{r['import_s']:.1f} s" for r in results],
    )
    row(
        "**(b) compliance for the month** (read, judge, store every verdict, snapshot): wall",
        [f"**{r['compliance_s']:.1f} s**" for r in results],
    )
    row(
        "(b) CPU time of the overt process (SQLite: all of it; PostgreSQL: without the server)",
        [f"{r['compliance_cpu_s']:.1f} s" for r in results],
    )
    row(
        "(b) CPU time of the PostgreSQL backend serving it",
        [f"{r['server_cpu_s']:.1f} s" if "server_cpu_s" in r else "n/a" for r in results],
    )
    row(
        "(b) peak RSS of the process doing it (before it: after start-up)",
        [f"{r['compliance_rss_mib']:.0f} MiB ({r['rss_before_mib']:.0f})" for r in results],
    )
    row(
        "load average (1 min) before / after (b)",
        [f"{r['load_before']:.1f} / {r['load_after']:.1f}" for r in results],
    )
    row(
        "(c) floor: one SQL join of every attendance to its officer's recordings near it, "
        "counted (no rules, no writes): wall (CPU in overt's process)",
        [f"{r['floor_s']:.1f} s ({r['floor_cpu_s']:.1f} s)" for r in results],
    )
    row(
        "(c) peer: one ORM query per attendance (timed on 2,000, scaled to the month): wall (CPU)",
        [f"{r['naive_month_s']:.0f} s ({r['naive_month_cpu_s']:.0f} s)" for r in results],
    )
    row(
        f"**(d) dashboard page** /oversight/, median / p95 of {REQUESTS}",
        [ms(r, "dashboard") for r in results],
    )
    row(
        "(d) dashboard filtered to a borough and month, median / p95",
        [ms(r, "dashboard_borough") for r in results],
    )
    row(
        "(d) drill-down page (borough, late), median / p95",
        [ms(r, "drilldown") for r in results],
    )
    row("load average (1 min) after (d)", [f"{r.get('load_pages', 0):.1f}" for r in results])
    row(
        "verdicts",
        [", ".join(f"{k} {v:,}" for k, v in sorted(r["statuses"].items())) for r in results],
    )
    lines += [
        "",
        "Targets (issue 14): compliance for a full month under 60 s on each engine; a dashboard "
        "page under 300 ms once computed. (b) runs in its own process after seeding "
        "(PostgreSQL: after VACUUM ANALYZE, as autovacuum would after a bulk load). Pages are "
        "served by Django's test client to a signed-in evidence manager, after one warm-up "
        "request; they read the snapshot the run took (the retention-due count only with "
        "`?retention=1`, since that reads every recording's retention).",
        "",
    ]
    return "\n".join(lines)


def _write_section(path: Path, text: str) -> None:
    current = path.read_text("utf-8") if path.exists() else "# Benchmarks\n\n"
    lines = current.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == HEADING), None)
    if start is None:
        new = current.rstrip("\n") + "\n\n" + text
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        after = "".join(lines[end:])
        new = "".join(lines[:start]) + text + ("\n" + after if after else "")
    path.write_text(new.rstrip("\n") + "\n", "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of a full month")
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one engine, print JSON
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: the timed part
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args()
    if args.one:
        print("RESULT " + json.dumps(run_engine(args.one, args.scale)))
        return
    if args.measure:
        print("RESULT " + json.dumps(_measure(args.measure)))
        return
    load = os.getloadavg()
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    results = []
    for engine in engines:
        done = subprocess.run(
            [sys.executable, __file__, "--one", engine, "--scale", str(args.scale)],
            capture_output=True,
            text=True,
            check=False,
        )
        found = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        if not found:
            sys.exit(f"{engine} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        results.append(json.loads(found[-1][len("RESULT ") :]))
        print(results[-1], flush=True)
    text = section(results, load)
    print(text)
    if not args.no_write:
        _write_section(ROOT / "docs" / "benchmarks.md", text)


if __name__ == "__main__":
    main()
