"""Benchmark the custody log on the embedded engine (SQLite, WAL, synchronous=FULL).

Run: .venv/bin/python bench/custody.py [--entries 1000000] [--samples 1000]

Measures, in a fresh temporary instance:

(a) appends: one transaction per action (every entry its own durable commit), several
    actions per transaction calling record() each, and record_many() group commits;
(b) inclusion proofs at the full size through the DB-backed, process-cached tree (what the
    API and CLI use), cold (first call loads the tree) and warm p50/p95/max;
(c) `overt verify --log-only` at the full size, as a subprocess, wall-clock.

Prints a markdown section and writes it to docs/benchmarks.md under "## Custody",
replacing only that section. No assertions: the numbers are for the record.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Custody"


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def _actions(n: int, rng: random.Random, start: int = 0):  # type: ignore[no-untyped-def]
    from overt.custody.services import Action, Actor, Client, Subject

    objects = [f"{i:064x}" for i in range(1000)]
    for i in range(start, start + n):
        sha = objects[rng.randrange(len(objects))]
        yield Action(
            "view",
            Actor("user", f"officer{i % 50}"),
            Subject(sha, {"original": i % 1000 + 1, "recording": i % 400 + 1}),
            justification="Reviewing footage for case file 4410/20NOV",
            client=Client("10.20.30.40", "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"),
        )


def _rate(n: int, work: Callable[[], None]) -> tuple[float, float]:
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    return n / seconds, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000, help="log size for (b), (c)")
    parser.add_argument("--samples", type=int, default=1000, help="proofs timed for (b)")
    parser.add_argument("--per-action", type=int, default=2000, help="actions for (a) 1")
    parser.add_argument("--grouped", type=int, default=50_000, help="actions for (a) 2 and 3")
    parser.add_argument("--group", type=int, default=100, help="actions per transaction")
    parser.add_argument("--keep", action="store_true", help="keep the instance folder")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args()
    rng = random.Random(9162)
    load = os.getloadavg()

    home = Path(tempfile.mkdtemp(prefix="overt-bench-custody-"))
    for name in [k for k in os.environ if k.startswith("OVERT_")]:
        del os.environ[name]
    os.environ["OVERT_HOME"] = str(home)
    from overt.cli.bootstrap import setup

    setup()
    from django.db import transaction

    from overt.custody import tree
    from overt.custody.checkpoints import issue_checkpoint
    from overt.custody.proofs import inclusion_json
    from overt.custody.services import record, record_many

    rows: list[tuple[str, str]] = []

    # (a) appends
    def per_action() -> None:
        for item in _actions(args.per_action, rng):
            with transaction.atomic():
                record(item.action, item.actor, item.subject, justification=item.justification,
                       client=item.client)

    rate, _ = _rate(args.per_action, per_action)
    rows.append(("(a) append, one transaction (one fsync'd commit) per action",
                 f"{rate:,.0f} entries/s ({args.per_action:,} actions)"))

    def grouped_record() -> None:
        items = list(_actions(args.grouped, rng))
        for i in range(0, len(items), args.group):
            with transaction.atomic():
                for item in items[i : i + args.group]:
                    record(item.action, item.actor, item.subject,
                           justification=item.justification, client=item.client)

    rate, _ = _rate(args.grouped, grouped_record)
    rows.append((f"(a) append, {args.group} actions per transaction, record() each",
                 f"{rate:,.0f} entries/s ({args.grouped:,} actions)"))

    def grouped_many() -> None:
        items = list(_actions(args.grouped, rng))
        for i in range(0, len(items), args.group):
            with transaction.atomic():
                record_many(items[i : i + args.group])

    rate, _ = _rate(args.grouped, grouped_many)
    rows.append((f"(a) append, {args.group} actions per transaction, record_many()",
                 f"{rate:,.0f} entries/s ({args.grouped:,} actions)"))

    # Fill up to the full size with group commits of 1,000 (also a sustained-rate figure).
    have = tree.head_size()
    fill = max(0, args.entries - have)
    batch = 1000

    def fill_log() -> None:
        done = 0
        while done < fill:
            n = min(batch, fill - done)
            with transaction.atomic():
                record_many(_actions(n, rng, have + done))
            done += n

    rate, seconds = _rate(fill, fill_log)
    rows.append((f"(a) sustained fill to {args.entries:,}, record_many() of {batch:,}",
                 f"{rate:,.0f} entries/s ({fill:,} entries in {seconds:,.0f} s)"))
    size = tree.head_size()

    # (b) proofs
    tree.LOG_TREE.reset()
    start = time.perf_counter()
    checkpoint = issue_checkpoint()
    cold_s = time.perf_counter() - start
    rows.append((f"checkpoint at {size:,} entries, cold (loads the tree from the database)",
                 f"{cold_s:,.2f} s"))
    timings = []
    for _ in range(args.samples):
        index = rng.randrange(size)
        start = time.perf_counter()
        inclusion_json(index, checkpoint.size)
        timings.append((time.perf_counter() - start) * 1000)
    ordered = sorted(timings)
    rows.append((f"(b) inclusion proof at {size:,} entries, warm ({args.samples:,} random)",
                 f"p50 {statistics.median(ordered):.3f} ms, "
                 f"p95 {_percentile(ordered, 0.95):.3f} ms, max {ordered[-1]:.3f} ms"))

    # (c) verify --log-only, as an operator runs it
    env = {k: v for k, v in os.environ.items() if not k.startswith("OVERT_")}
    env["OVERT_HOME"] = str(home)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "overt", "verify", "--log-only", "--json"],
        env=env, capture_output=True, text=True, check=False,
    )
    verify_s = time.perf_counter() - start
    result = json.loads(done.stdout) if done.stdout else {"ok": False}
    rows.append((f"(c) `overt verify --log-only` at {size:,} entries (whole command)",
                 f"{verify_s:,.1f} s, ok={str(result.get('ok')).lower()}"))
    db_bytes = sum(p.stat().st_size for p in home.glob("overt.sqlite3*"))

    section = _markdown(rows, size, db_bytes, load)
    print(section)
    if not args.no_write:
        _write_section(ROOT / "docs" / "benchmarks.md", section)
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)


def _markdown(
    rows: list[tuple[str, str]], size: int, db_bytes: int, load: tuple[float, ...]
) -> str:
    cpus = os.cpu_count()
    lines = [
        HEADING,
        "",
        f"`bench/custody.py` on {platform.machine()}, {cpus} CPU(s), Python "
        f"{platform.python_version()}, embedded SQLite (WAL, synchronous=FULL), fresh instance; "
        f"{time.strftime('%Y-%m-%d')}. Targets (issue 3): ≥ 5,000 entries/s sustained, "
        "inclusion proof p95 < 5 ms at 1,000,000 entries, `overt verify --log-only` < 60 s "
        "at 1,000,000 entries.",
        "",
        "| measurement | result |",
        "| --- | --- |",
        *[f"| {name} | {value} |" for name, value in rows],
        "",
        f"Database size at {size:,} entries: {db_bytes / 1e6:,.0f} MB. Load average before and "
        f"after: {load[0]:.1f}, {os.getloadavg()[0]:.1f} (a shared machine: other work "
        "running beside the benchmark slows it). Proof times include one database round trip "
        "(the head size, and the stored leaf that the cached tree's last leaf must equal, so "
        "that other processes' appends and rollbacks are seen); the cold figure is paid once "
        "per process (the web server and worker keep the tree warm). Group "
        "commits keep the rule that an action's entry commits with it: each transaction holds "
        "whole actions with their entries. One transaction per action is bounded by the "
        "fsync of each commit.",
        "",
    ]
    return "\n".join(lines)


def _write_section(path: Path, section: str) -> None:
    text = path.read_text("utf-8") if path.exists() else "# Benchmarks\n\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == HEADING), None)
    if start is None:
        new = text.rstrip("\n") + "\n\n" + section
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        before = "".join(lines[:start])
        after = "".join(lines[end:])
        new = before + section + ("\n" + after if after else "")
    path.write_text(new.rstrip("\n") + "\n", "utf-8")


if __name__ == "__main__":
    main()
