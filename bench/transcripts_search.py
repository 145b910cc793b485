"""Search at scale (issue 16): GET /api/recordings/?q= at N recordings, each with a
300-word transcript, on SQLite (FTS5) or PostgreSQL (full text), against named peers
measured in the same process, on the same rows, between the same requests:

- "bare FTS": the engine alone, no Django: count of the term's matching transcripts and
  their first 50 ids (SQLite: `MATCH` on the FTS5 table; PostgreSQL: `@@` on the
  stored tsvector), for the same query strings as the word queries. The floor.
- "no q": the same API request without `q` (the plumbing: session, access, count, page,
  serializer). What a search costs is what it adds to this.

Each request's wall time, and its CPU time: this process's (Django, and SQLite, which
runs in it) plus, on PostgreSQL, the server backend's (read from /proc), since the
machine is shared and wall time there is mostly waiting for a core.

Seeding 100,000 recordings takes minutes; `--seed-cache DIR` keeps the seeded database
(a file copy for SQLite, a template database for PostgreSQL) and later runs start from
it, then migrate it.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SEED_VERSION = 3  # bump when transcripts_seed changes what it writes
PSQL = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c"]


def _psql(sql: str) -> None:
    done = subprocess.run([*PSQL, sql], capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"psql: {sql}: {done.stderr}")


def _pg_exists(db: str) -> bool:
    done = subprocess.run(
        [*PSQL[:-1], "-Atc", f"SELECT 1 FROM pg_database WHERE datname = '{db}'"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() == "1"


def _migrate() -> None:
    subprocess.run(
        [sys.executable, "-m", "overt", "migrate"], check=True, capture_output=True, cwd=ROOT
    )


def prepare(engine: str, recordings: int, cache: str) -> tuple[dict[str, Any], float, str]:
    """A fresh OVERT_HOME (and database) holding `recordings` seeded recordings. Returns
    the seed's facts, the seconds seeding took (0 when restored) and the database name
    to drop afterwards ('' for SQLite)."""
    import json
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="overt-bench-search-"))
    for name in ("OVERT_DATABASE_URL", "OVERT_STORE_URL", "OVERT_REDIS_URL", "OVERT_CONFIG"):
        os.environ.pop(name, None)
    os.environ.update(OVERT_HOME=str(home), OVERT_MIN_FREE_BYTES="0")
    key = f"{engine}_{recordings}_v{SEED_VERSION}"
    cached = Path(cache) / key if cache else None
    db = ""
    if engine == "postgresql":
        db = f"overt_bench_transcripts_{os.getpid()}"
        template = f"overt_bench_seed_{recordings}_v{SEED_VERSION}"
        os.environ["OVERT_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{db}"
        restored = bool(cached and cached.with_suffix(".json").exists() and _pg_exists(template))
        _psql(f"CREATE DATABASE {db}" + (f" TEMPLATE {template}" if restored else ""))
    else:
        restored = bool(cached and cached.with_suffix(".json").exists())
        if restored and cached is not None:
            for suffix in ("", "-wal"):
                if Path(f"{cached}{suffix}").exists():
                    shutil.copyfile(f"{cached}{suffix}", home / f"overt.sqlite3{suffix}")
    _migrate()
    from overt.cli.bootstrap import setup

    setup()
    if engine == "postgresql":  # planner statistics, as autovacuum would after a bulk load
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    if restored and cached is not None:
        return json.loads(cached.with_suffix(".json").read_text("utf-8")), 0.0, db
    from transcripts_seed import seed_transcripts

    t0 = time.perf_counter()
    seeded = seed_transcripts(recordings)
    seed_s = time.perf_counter() - t0
    if cached is not None:
        from django.db import connections

        connections.close_all()
        cached.parent.mkdir(parents=True, exist_ok=True)
        if engine == "postgresql":
            _psql(f"DROP DATABASE IF EXISTS {template}")
            _psql(f"CREATE DATABASE {template} TEMPLATE {db}")
        else:
            shutil.copyfile(home / "overt.sqlite3", cached)
            if (home / "overt.sqlite3-wal").exists():
                shutil.copyfile(home / "overt.sqlite3-wal", f"{cached}-wal")
        cached.with_suffix(".json").write_text(json.dumps(seeded), "utf-8")
    return seeded, seed_s, db


class Cpu:
    """CPU seconds used so far by this process and, on PostgreSQL, its server backend."""

    def __init__(self) -> None:
        from django.db import connection

        self.backend: Path | None = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.backend = Path(f"/proc/{cursor.fetchone()[0]}/stat")
        self.tick = os.sysconf("SC_CLK_TCK")

    def __call__(self) -> float:
        used = time.process_time()
        if self.backend is not None and self.backend.exists():
            fields = self.backend.read_text().rsplit(")", 1)[1].split()
            used += (int(fields[11]) + int(fields[12])) / self.tick  # utime, stime
        return used


def bare_fts(q: str) -> tuple[int, list[int]]:
    """The floor: the engine's full-text index alone (count, first 50 ids)."""
    from django.db import connection

    from overt.transcripts import words as wordlib

    tokens = [wordlib.tokens(part) for part in q.replace('"', " ").split()]
    flat = [t for group in tokens for t in group]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            match = " ".join(f'"{t}"*' for t in flat)
            if q.startswith('"'):
                match = '"' + " ".join(flat) + '"*'
            sql = "FROM transcripts_speech_match WHERE transcripts_speech_match MATCH %s"
            cursor.execute(f"SELECT count(*) {sql}", [match])
            count = cursor.fetchone()[0]
            cursor.execute(f"SELECT rowid {sql} LIMIT 50", [match])
        else:
            joiner = " <-> " if q.startswith('"') else " & "
            query = joiner.join(f"{t}:*" for t in flat)
            # Through the index, as the search does (migration transcripts 0004).
            tsquery = "to_tsquery('simple'::regconfig, %s)"
            every = f"SELECT count(*) FROM transcripts_speech_recordings({tsquery})"
            cursor.execute(every, [query])
            count = cursor.fetchone()[0]
            sql = f"FROM transcripts_speechindex WHERE tsv @@ {tsquery}"
            cursor.execute(f"SELECT original_id {sql} LIMIT 50", [query])
        return count, [row[0] for row in cursor.fetchall()]


def measure(seeded: dict[str, Any], requests: int) -> dict[str, Any]:
    """Interleaved requests of each kind; wall and CPU milliseconds for each.

    Through the real service path: the API (`GET /api/recordings/?q=`: window, count,
    page, snippets) as an evidence manager (sees everything), a supervisor (their team's
    ~4,000 recordings) and an officer (their own ~200); each filter combined with a word;
    the library page (`GET /?q=`: the same search, plus facets, drop-downs, map)."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.test import Client

    from ingest import CATEGORIES, EPOCH, SPAN
    from overt.testing.access import make_user, sign_in
    from transcripts_seed import VOCABULARY

    def user(name: str, role: str, **extra: Any) -> Any:  # a cached database may have them
        found = get_user_model().objects.filter(username=name).first()
        return found or make_user(name, role, **extra)

    client = sign_in(Client(HTTP_HOST="127.0.0.1"), user("bench", "evidence-manager"))
    officer = sign_in(
        Client(HTTP_HOST="127.0.0.1"), user("bench-pc", "officer", officer=seeded["officer"])
    )
    supervisor = sign_in(
        Client(HTTP_HOST="127.0.0.1"), user("bench-sgt", "supervisor", team="Team 3")
    )
    rng = random.Random(4)
    words = {
        "common word": lambda: rng.choice(VOCABULARY[:20]),
        "rare word": lambda: rng.choice(VOCABULARY[-500:]),
        "two words": lambda: f"{rng.choice(VOCABULARY[:300])} {rng.choice(VOCABULARY[:300])}",
        "phrase": lambda: f'"{rng.choice(seeded["phrases"])}"',
    }
    others = {
        "collar number": lambda: rng.choice(seeded["numbers"]),
        "CAD reference": lambda: rng.choice(seeded["incidents"]),
        "no match": lambda: "zzyzxquokka",
    }

    def since() -> str:
        return (EPOCH + rng.random() * (SPAN - timedelta(days=30))).date().isoformat()

    filtered: dict[str, Any] = {  # a word from the 300 commonest, and one filter
        "word + officer": lambda: {"officer": rng.choice(seeded["numbers"])},
        "word + device": lambda: {"device": rng.choice(seeded["devices"])},
        "word + incident": lambda: {"incident": rng.choice(seeded["incidents"])},
        "word + category": lambda: {"category": rng.choice(CATEGORIES)},
        "word + 30 days": lambda: (lambda d: {"since": d, "until": _plus_days(d, 30)})(since()),
        "word + place (1 km)": lambda: {
            "near": f"{51.3 + rng.random() * 0.4:.4f},{-0.5 + rng.random() * 0.8:.4f},1000"
        },
    }
    cpu = Cpu()
    timings: dict[str, list[tuple[float, float]]] = {}

    def timed(kind: str, call: Any) -> Any:
        t0, c0 = time.perf_counter(), cpu()
        result = call()
        wall, used = (time.perf_counter() - t0) * 1000, (cpu() - c0) * 1000
        timings.setdefault(kind, []).append((wall, used))
        return result

    def api(who: Client, params: dict[str, str]) -> Any:
        response = who.get("/api/recordings/", params)
        assert response.status_code == 200, (params, response.status_code, response.content[:300])
        return response

    def page(who: Client, params: dict[str, str]) -> Any:
        response = who.get("/", params)
        assert response.status_code == 200, (params, response.status_code)
        return response

    api(client, {"q": "warm"})
    page(client, {"q": "warm"})
    counts: dict[str, list[int]] = {}
    exact: dict[str, list[bool]] = {}

    def searched(kind: str, who: Client, params: dict[str, str]) -> None:
        body = timed(kind, lambda: api(who, params)).json()
        counts.setdefault(kind, []).append(body["count"])
        exact.setdefault(kind, []).append(body.get("count_exact", True))

    for _ in range(requests):
        for kind, make in {**words, **others}.items():
            q = make()
            searched(kind, client, {"q": q})
            if kind in words:
                timed(f"bare FTS: {kind}", lambda q=q: bare_fts(q))
        for kind, make in filtered.items():
            searched(kind, client, {"q": rng.choice(VOCABULARY[:300]), **make()})
        timed("no q (the API's plumbing)", lambda: api(client, {}))
        searched("officer (own footage), word", officer, {"q": rng.choice(VOCABULARY[:300])})
        searched("supervisor (team), word", supervisor, {"q": rng.choice(VOCABULARY[:300])})
        timed("library page, common word", lambda: page(client, {"q": words["common word"]()}))
        timed("library page, rare word", lambda: page(client, {"q": words["rare word"]()}))
    return {"timings": timings, "counts": counts, "exact": exact}


def _plus_days(day: str, days: int) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def child(engine: str, recordings: int, requests: int, cache: str) -> dict[str, Any]:
    """Runs in its own process (settings are per process): prepare, then measure."""
    seeded, seed_s, db = prepare(engine, recordings, cache)
    from overt.project.startup import settle

    settle()  # what a serving process does before its first request (project/asgi.py)
    one, five, _ = os.getloadavg()
    found = measure(seeded, requests)
    one_after, five_after, _ = os.getloadavg()
    from django.db import connections

    connections.close_all()
    if db:
        _psql(f"DROP DATABASE IF EXISTS {db}")
    shutil.rmtree(os.environ["OVERT_HOME"], ignore_errors=True)  # a 2 GB copy on SQLite
    return {
        "engine": engine,
        "recordings": recordings,
        "seed_s": seed_s,
        "load": f"load average {one:.1f} / {five:.1f} before, "
        f"{one_after:.1f} / {five_after:.1f} after",
        **found,
    }
