"""Benchmark: ingest speed against the hash+copy floor, peak RSS, catalogue filter latency.

Run: .venv/bin/python bench/ingest.py [--size-gib 1] [--runs 3] [--recordings 100000]
     .venv/bin/python bench/ingest.py --quick   (64 MiB, 5,000 recordings; docs untouched)

Everything runs in one temporary directory (instance and test files on the same
filesystem), removed at the end. Results are printed as markdown and, unless --quick,
written to docs/benchmarks.md under "## Ingest and catalogue". No assertions: the
numbers are for the record, compared against peers measured in the same run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:  # importing these needs Django set up, which main() does first
    from overt.evidence.catalogue import RecordingFilter
    from overt.evidence.store import EvidenceStore, StoredObject
    from overt.ingest.services import IngestResult

MiB = 1 << 20
GiB = 1 << 30
ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
HEADING = "## Ingest and catalogue"
OFFICER, DEVICE = "BENCH1", "BENCH-CAM-1"
SPEED_TARGET = 0.70
RSS_LIMIT_MB = 200
P95_LIMIT_MS = 100
BIG_FILE_FACTOR = 4  # the memory check's second file is this many times --size-gib
FREE_SPACE_FACTOR = 5  # ...and needs this many times its size free (source, object, slack)


# ---------------------------------------------------------------- files and timing


def write_random_file(path: Path, size: int, seed: int = 1) -> None:
    """Incompressible bytes, fast (numpy's PCG64 beats os.urandom about threefold here)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    with open(path, "wb") as fh:
        left = size
        while left:
            n = min(left, 16 * MiB)
            fh.write(rng.bytes(n))
            left -= n


def make_variant(path: Path, run: int) -> None:
    """Rewrite the last 8 bytes so each ingest sees new content (dedup must not help),
    while the rest of the file stays in the page cache."""
    fd = os.open(path, os.O_WRONLY)
    try:
        size = os.fstat(fd).st_size
        os.pwrite(fd, run.to_bytes(8, "big"), max(0, size - 8))
    finally:
        os.close(fd)


def warm(path: Path) -> None:
    """Read the file once so every timed run starts from a warm page cache."""
    with open(path, "rb", buffering=0) as fh:
        buffer = bytearray(16 * MiB)
        while fh.readinto(buffer):
            pass


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as fh:
        buffer = bytearray(4 * MiB)
        view = memoryview(buffer)
        while n := fh.readinto(buffer):
            digest.update(view[:n])
    return digest.hexdigest()


def floor_run(path: Path, dest: Path, *, fsync: bool = False) -> tuple[float, str]:
    """`openssl dgst -sha256 FILE && cp FILE DEST` (then `sync DEST` if fsync): seconds
    and the hash openssl printed. DEST is removed afterwards, outside the timing."""
    os.sync()  # nobody's leftover dirty pages get flushed inside a timed run
    start = time.perf_counter()
    out = subprocess.run(
        ["openssl", "dgst", "-sha256", "-r", str(path)], check=True, capture_output=True
    ).stdout
    subprocess.run(["cp", str(path), str(dest)], check=True)
    if fsync:
        subprocess.run(["sync", str(dest)], check=True)
    seconds = time.perf_counter() - start
    dest.unlink()
    return seconds, out.split()[0].decode()


class TimedStore:
    """The configured store, noting how long put_file() took: the byte path's share."""

    def __init__(self) -> None:
        from overt.evidence.store import get_store

        self._store = get_store()
        self.put_s = 0.0

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    def put_file(self, *args: Any, **kwargs: Any) -> StoredObject:
        start = time.perf_counter()
        try:
            return self._store.put_file(*args, **kwargs)
        finally:
            self.put_s = time.perf_counter() - start


def overt_run(path: Path) -> tuple[float, IngestResult, float]:
    """One ingest through the real service: (seconds, result, seconds in put_file).
    The stored object is removed afterwards."""
    from overt.ingest.services import ingest_file

    store = TimedStore()
    os.sync()
    start = time.perf_counter()
    as_store = cast("EvidenceStore", store)
    result = ingest_file(path, officer_number=OFFICER, device_serial=DEVICE, store=as_store)
    seconds = time.perf_counter() - start
    drop_object(result.sha256)
    return seconds, result, store.put_s


def drop_object(sha256: str) -> None:
    """Free the disk a benchmark object took; the catalogue row may dangle (temp instance)."""
    from overt.evidence.store import get_store

    local = get_store().local_path(sha256)
    if local is not None:
        local.unlink()


# Runs the command as its grandchild and reports the grandchild's wait4() rusage. A
# child's ru_maxrss starts at its parent's peak RSS (Linux carries the old address
# space's high-water mark across exec), so the bench's own RSS would leak into a direct
# child's figure; this small launcher's few MB are all the grandchild can inherit.
_LAUNCHER = """
import os, sys
report, argv = int(sys.argv[1]), sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.close(report)
    os.execvp(argv[0], argv)
_, status, usage = os.wait4(pid, 0)
os.write(report, b"%d %d" % (os.waitstatus_to_exitcode(status), usage.ru_maxrss))
"""


def run_with_peak_rss(argv: list[str], env: dict[str, str]) -> tuple[float, int, int, bytes]:
    """Run a command; return (seconds, exit code, its own peak RSS in bytes, stdout)."""
    read_end, write_end = os.pipe()
    launcher = [sys.executable, "-S", "-c", _LAUNCHER, str(write_end), *argv]
    start = time.perf_counter()
    try:
        proc = subprocess.run(launcher, env=env, stdout=subprocess.PIPE, pass_fds=(write_end,))
    finally:
        os.close(write_end)
    seconds = time.perf_counter() - start
    with os.fdopen(read_end, "rb") as fh:
        code, maxrss_kib = (int(x) for x in fh.read().split())
    if proc.returncode:
        raise RuntimeError(f"the rusage launcher failed ({proc.returncode})")
    return seconds, code, maxrss_kib * 1024, proc.stdout


def cli_ingest(path: Path, home: Path) -> tuple[float, int, str]:
    """`overt ingest` in a subprocess: (seconds incl. Python start-up, peak RSS, sha256)."""
    import json

    env = {k: v for k, v in os.environ.items() if not k.startswith("OVERT_")}
    env["OVERT_HOME"] = str(home)
    argv = [sys.executable, "-m", "overt", "ingest", str(path)]
    argv += ["--officer", OFFICER, "--device", DEVICE, "--json"]
    seconds, code, rss, out = run_with_peak_rss(argv, env)
    if code != 0:
        raise RuntimeError(f"overt ingest exited {code}")
    return seconds, rss, json.loads(out)[0]["sha256"]


# ---------------------------------------------------------------- instance


def start_instance(home: Path) -> None:
    """A fresh embedded instance (SQLite in WAL mode, local store) for this process."""
    for name in ("OVERT_DATABASE_URL", "OVERT_STORE_URL", "OVERT_REDIS_URL", "OVERT_CONFIG"):
        os.environ.pop(name, None)
    os.environ["OVERT_HOME"] = str(home)
    from overt.cli.bootstrap import setup

    setup()


def register_bench_people() -> None:
    from overt.evidence.models import Device, Officer

    Officer.objects.get_or_create(number=OFFICER, defaults={"name": "PC Bench"})
    Device.objects.get_or_create(serial=DEVICE, defaults={"model": "Bench Cam"})


# ---------------------------------------------------------------- ingest speed


@dataclass
class SpeedResult:
    size: int
    floor_s: list[float] = field(default_factory=list)
    overt_s: list[float] = field(default_factory=list)
    put_s: list[float] = field(default_factory=list)  # overt's time inside store.put_file()
    floor_fsync_s: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """overt's speed as a fraction of the floor's (median against median)."""
        return statistics.median(self.floor_s) / statistics.median(self.overt_s)

    def mb_s(self, timings: list[float]) -> float:
        return self.size / 1e6 / statistics.median(timings)


def bench_speed(source: Path, scratch: Path, runs: int, first_variant: int = 1) -> SpeedResult:
    """Alternate floor and overt on the same warm file, a new last-8-bytes each round.

    The floor with `sync DEST` is timed too, for information: cp's copy is not durable
    when it returns, overt's is.
    """
    result = SpeedResult(size=source.stat().st_size)
    _warm_up_code(scratch)
    warm(source)
    for run in range(first_variant, first_variant + runs):
        make_variant(source, run)
        seconds, floor_hash = floor_run(source, scratch / "floor.copy")
        result.floor_s.append(seconds)
        seconds, ingested, put_s = overt_run(source)
        result.overt_s.append(seconds)
        result.put_s.append(put_s)
        if ingested.sha256 != floor_hash or ingested.status != "stored":
            raise RuntimeError(f"overt stored {ingested}, openssl hashed {floor_hash}")
        result.floor_fsync_s.append(floor_run(source, scratch / "floor.copy", fsync=True)[0])
    return result


def _warm_up_code(scratch: Path) -> None:
    """One untimed round on a small file, so first-call costs (lazy imports, the
    openssl and cp binaries, the custody key) land in no timed run."""
    small = scratch / "warm-up.bin"
    write_random_file(small, MiB, seed=3)
    try:
        floor_run(small, scratch / "warm-up.copy")
        overt_run(small)
    finally:
        small.unlink()


# ---------------------------------------------------------------- memory


@dataclass
class MemoryResult:
    size: int
    seconds: float | None = None  # None: skipped
    peak_rss: int | None = None
    note: str = ""


def bench_memory(source: Path, home: Path, variant: int) -> MemoryResult:
    make_variant(source, variant)
    warm(source)
    os.sync()
    seconds, rss, sha256 = cli_ingest(source, home)
    drop_object(sha256)
    return MemoryResult(size=source.stat().st_size, seconds=seconds, peak_rss=rss)


def bench_memory_big(scratch: Path, home: Path, size: int) -> MemoryResult:
    free = shutil.disk_usage(scratch).free
    if free < FREE_SPACE_FACTOR * size:
        note = f"skipped: {free / GiB:.1f} GiB free, {FREE_SPACE_FACTOR * size / GiB:.0f} needed"
        return MemoryResult(size=size, note=note)
    big = scratch / "big.bin"
    try:
        write_random_file(big, size, seed=2)
        return bench_memory(big, home, variant=1)
    finally:
        big.unlink(missing_ok=True)


# ---------------------------------------------------------------- catalogue

CATEGORIES = [
    "Stop and search", "Arrest", "Domestic abuse", "Public order", "Road traffic",
    "Use of force", "Mental health", "Missing person", "Firearms", "Complaint",
]  # fmt: skip
PLACES = [
    "High Street", "Station Road", "Church Lane", "Market Square", "Park Avenue",
    "Victoria Road", "Mill Lane", "Queens Parade", "Canal Path", "Bus Station",
]  # fmt: skip
EVENTS = [
    "disturbance", "assault", "theft", "collision", "welfare check", "burglary",
    "shoplifting", "noise complaint", "vehicle stop", "fight",
]  # fmt: skip
MARKER_TEXTS = [
    "suspect detained", "weapon seen", "caution given", "handcuffs applied",
    "witness account", "vehicle searched", "medical assistance",
]  # fmt: skip
NO_MATCH_WORDS = ["zzyzx", "quokka", "xylophone"]
SPAN = timedelta(days=730)
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass
class Catalogue:
    officers: list[str]
    devices: list[str]
    incidents: list[str]
    recordings: int


def seed_catalogue(recordings: int, seed: int = 7, batch: int = 5000) -> Catalogue:
    """`recordings` recordings over two years, one Original each, spread over
    500 officers, 400 devices, 2,000 incidents and 10 categories at 100,000 (scaled
    down proportionally for smaller runs), with some notes and markers for free text."""
    from django.db import transaction

    from overt.evidence.models import Category, Device, Incident, Officer

    rng = random.Random(seed)
    n_officers, n_devices = max(5, recordings // 200), max(4, recordings // 250)
    n_incidents = max(20, recordings // 50)
    with transaction.atomic():
        officers = Officer.objects.bulk_create(
            Officer(number=f"MP{i:05d}", name=f"PC {i}", team=f"Team {i % 25}")
            for i in range(n_officers)
        )
        devices = Device.objects.bulk_create(
            Device(serial=f"CAM-{i:06d}", model="Axon Body 4") for i in range(n_devices)
        )
        incidents = Incident.objects.bulk_create(
            Incident(reference=f"CAD-{i:06d}", occurred_at=EPOCH + rng.random() * SPAN)
            for i in range(n_incidents)
        )
        categories = Category.objects.bulk_create(Category(name=name) for name in CATEGORIES)
        for start in range(0, recordings, batch):
            people = (officers, devices, incidents, categories)
            _seed_batch(rng, start, min(batch, recordings - start), people)
    return Catalogue(
        officers=[o.number for o in officers],
        devices=[d.serial for d in devices],
        incidents=[i.reference for i in incidents],
        recordings=recordings,
    )


def _seed_batch(rng: random.Random, start: int, count: int, people: tuple) -> None:
    from overt.evidence.models import Marker, Original, Recording

    officers, devices, incidents, categories = people
    made = Recording.objects.bulk_create(
        _recording(rng, officers, devices, incidents) for _ in range(count)
    )
    Original.objects.bulk_create(
        Original(
            sha256=hashlib.sha256(f"bench-{start + i}".encode()).hexdigest(),
            size=rng.randrange(10 * MiB, 2 * GiB),
            recording=r,
            filename=f"{r.device_id}_{start + i}.mp4",
            source=Original.Source.CLI,
            container="mov,mp4,m4a,3gp,3g2,mj2",
            video_codec="h264",
            audio_codec="aac",
            duration_s=(r.trigger_off_at - r.trigger_on_at).total_seconds(),
            playable=rng.random() > 0.01,
            started_at=r.trigger_on_at,
            stopped_at=r.trigger_off_at,
        )
        for i, r in enumerate(made)
    )
    through = Recording.categories.through
    through.objects.bulk_create(
        through(recording_id=r.pk, category_id=c.pk)
        for r in made
        for c in rng.sample(categories, rng.choice((0, 1, 1, 1, 2)))
    )
    Marker.objects.bulk_create(
        Marker(
            recording=r,
            at=r.trigger_on_at + timedelta(seconds=rng.randrange(1, 300)),
            text=rng.choice(MARKER_TEXTS),
            created_by=str(r.device_id),
        )
        for r in made
        if rng.random() < 0.2
    )


def _recording(rng: random.Random, officers: list, devices: list, incidents: list) -> object:
    from overt.evidence.models import Recording

    on = EPOCH + rng.random() * SPAN
    event, place = rng.choice(EVENTS), rng.choice(PLACES)
    return Recording(
        officer=rng.choice(officers),
        device=rng.choice(devices),
        incident=rng.choice(incidents) if rng.random() < 0.6 else None,
        title=f"{event.capitalize()}, {place}",
        notes=f"Attended {event} at {place}." if rng.random() < 0.3 else "",
        trigger_on_at=on,
        trigger_off_at=on + timedelta(seconds=rng.randrange(30, 3600)),
        trigger_on_reason="button",
        pre_event_seconds=30,
    )


def filter_kinds(cat: Catalogue, rng: random.Random) -> dict[str, Callable[[], RecordingFilter]]:
    """Each kind makes a fresh RecordingFilter with random but realistic values."""
    from overt.evidence.catalogue import RecordingFilter as F

    def window(max_days: int = 30) -> dict[str, datetime]:
        since = EPOCH + rng.random() * SPAN
        return {"since": since, "until": since + timedelta(days=rng.randint(1, max_days))}

    def text() -> str:
        pool = rng.choice((EVENTS, PLACES, MARKER_TEXTS, NO_MATCH_WORDS))
        return rng.choice(pool).split()[-1]

    return {
        "none": lambda: F(),
        "officer": lambda: F(officer=rng.choice(cat.officers)),
        "device": lambda: F(device=rng.choice(cat.devices)),
        "incident": lambda: F(incident=rng.choice(cat.incidents)),
        "category": lambda: F(category=rng.choice(CATEGORIES)),
        "date range": lambda: F(**window()),
        "officer + date": lambda: F(officer=rng.choice(cat.officers), **window(90)),
        "free text": lambda: F(q=text()),
    }


def bench_catalogue(
    cat: Catalogue, per_kind: int, seed: int = 11
) -> tuple[dict[str, list[float]], dict[str, list[int]]]:
    """Time the first page (50) of each filter kind, interleaving kinds so that none
    profits from running while the cache is in one state. Returns ms and row counts."""
    from overt.evidence.catalogue import filter_recordings

    rng = random.Random(seed)
    kinds = filter_kinds(cat, rng)
    timings: dict[str, list[float]] = {k: [] for k in kinds}
    rows: dict[str, list[int]] = {k: [] for k in kinds}
    for _ in range(per_kind):
        for kind, make in kinds.items():
            f = make()
            start = time.perf_counter()
            page = list(filter_recordings(f)[:50])
            timings[kind].append((time.perf_counter() - start) * 1000)
            rows[kind].append(len(page))
    return timings, rows


def query_plan(cat: Catalogue, kind: str) -> str:
    from overt.evidence.catalogue import filter_recordings

    f = filter_kinds(cat, random.Random(3))[kind]()
    return filter_recordings(f)[:50].explain()


# ---------------------------------------------------------------- report


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def machine(where: Path | None = None) -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    openssl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "ram": f"{ram / GiB:.0f} GiB",
        "fs": filesystem(where or Path(tempfile.gettempdir())),
        "python": platform.python_version(),
        "sqlite": __import__("sqlite3").sqlite_version,
        "openssl": openssl.strip(),
        "kernel": platform.release(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }


def filesystem(path: Path) -> str:
    """The filesystem type holding `path`, from the longest matching mount point."""
    best, kind = "", "unknown"
    for line in Path("/proc/mounts").read_text().splitlines():
        _, mount, fstype, *_ = line.split()
        if str(path.resolve()).startswith(mount) and len(mount) > len(best):
            best, kind = mount, fstype
    return kind


@dataclass
class Report:
    machine: dict[str, str]
    speed: SpeedResult
    memory: list[MemoryResult]
    catalogue: Catalogue
    timings: dict[str, list[float]]
    rows: dict[str, list[int]]
    plans: dict[str, str]
    cli_seconds: float
    command: str  # how it was run, e.g. "bench/ingest.py --runs 5"


def render(r: Report) -> str:
    return "\n".join([HEADING, "", *_intro(r), *_speed(r), *_memory(r), *_catalogue(r)]) + "\n"


def _intro(r: Report) -> list[str]:
    m = r.machine
    return [
        f"Measured {m['date']} by `{r.command}` "
        f"on {m['cpu']}, {m['ram']} RAM, {m['fs']} disk, Linux {m['kernel']}, "
        f"Python {m['python']}, SQLite {m['sqlite']}, {m['openssl']}. "
        "Instance and test files share one temporary directory (same filesystem); "
        "the embedded engines (SQLite in WAL mode, local store).",
        "",
    ]


def _speed(r: Report) -> list[str]:
    s = r.speed
    size = f"{s.size / GiB:g} GiB" if s.size >= GiB else f"{s.size // MiB} MiB"
    verdict = "meets" if s.ratio >= SPEED_TARGET else "**misses**"
    cli = s.size / 1e6 / r.cli_seconds
    rows = [
        ("floor: `openssl dgst -sha256` then `cp`", s.floor_s),
        ("overt `ingest_file()`: store, probe, catalogue row, custody entry", s.overt_s),
        ("of which `put_file()`: hash, write, fsync, link", s.put_s),
        ("floor + `sync DEST` (information: a durable copy)", s.floor_fsync_s),
    ]
    return [
        f"### Ingest speed ({size} of random bytes, warm page cache)",
        "",
        f"Alternating runs, {len(s.overt_s)} of each, each overt run on new content "
        "(last 8 bytes rewritten) so dedup cannot short-circuit; the junk is stored and "
        "flagged unplayable, as real corrupt footage would be.",
        "",
        "| | median s | MB/s | runs (s) |",
        "|---|---:|---:|---|",
        *(
            f"| {label} | {statistics.median(t):.2f} | {s.mb_s(t):.0f} | "
            f"{', '.join(f'{x:.2f}' for x in t)} |"
            for label, t in rows
        ),
        "",
        f"**overt runs at {s.ratio:.0%} of the floor's speed** (target ≥ {SPEED_TARGET:.0%}: "
        f"{verdict}). Against the durable floor (with `sync`) it is "
        f"{statistics.median(s.floor_fsync_s) / statistics.median(s.overt_s):.0%}. "
        "The floor's `cp` returns before its copy reaches the disk; overt fsyncs the "
        "object and its directories before it answers, so the floor is the stricter "
        "comparison. overt can still beat it: the floor hashes, then copies, on one core "
        "at a time, while overt's store hashes on one thread and writes the same 512 KiB "
        "chunks on another, asking the kernel to start writeback every 32 MiB so the "
        "final fsync has little left to wait for (`evidence/store/local.py`).",
        "",
        f"`overt ingest` as a command, once, including Python and Django start-up: "
        f"{r.cli_seconds:.2f} s ({cli:.0f} MB/s).",
        "",
    ]


def _memory(r: Report) -> list[str]:
    lines = [
        "### Peak memory of `overt ingest`",
        "",
        "Peak RSS of the `overt ingest` process, from `wait4()` through a small launcher "
        "(a direct child would start from the bench's own high-water mark). "
        f"Target: < {RSS_LIMIT_MB} MB whatever the file size.",
        "",
        "| file | peak RSS | seconds |",
        "|---|---:|---:|",
    ]
    for m in r.memory:
        size = f"{m.size / GiB:g} GiB" if m.size >= GiB else f"{m.size // MiB} MiB"
        if m.peak_rss is None:
            lines.append(f"| {size} | {m.note} | |")
        else:
            lines.append(f"| {size} | {m.peak_rss / 1e6:.0f} MB | {m.seconds:.2f} |")
    return [*lines, ""]


def _catalogue(r: Report) -> list[str]:
    per_kind = len(next(iter(r.timings.values())))
    everything = [t for ts in r.timings.values() for t in ts]
    lines = [
        f"### Catalogue filters ({r.catalogue.recordings:,} recordings)",
        "",
        f"{len(r.catalogue.officers)} officers, {len(r.catalogue.devices)} devices, "
        f"{len(r.catalogue.incidents):,} incidents, {len(CATEGORIES)} categories, two years "
        "of trigger times, one Original each, 20% with a marker; file-backed SQLite in WAL "
        "mode, no ANALYZE (as a fresh instance has it). Each query is "
        f"`list(filter_recordings(f)[:50])`, {per_kind} per kind with random values, kinds "
        f"interleaved. Target: p95 < {P95_LIMIT_MS} ms.",
        "",
        "| filter | p50 ms | p95 ms | max ms | mean rows |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind, ts in [*r.timings.items(), ("all", everything)]:
        count = r.rows.get(kind) or [n for ns in r.rows.values() for n in ns]
        lines.append(
            f"| {kind} | {statistics.median(ts):.1f} | {percentile(ts, 0.95):.1f} | "
            f"{max(ts):.1f} | {statistics.mean(count):.0f} |"
        )
    lines.append("")
    for kind, plan in r.plans.items():
        lines += [f"`{kind}` misses the target; its plan:", "", "```", plan, "```", ""]
    return lines


def write_doc(section: str, doc: Path = DOC, info: dict[str, str] | None = None) -> None:
    """Replace only our section, keeping everyone else's; create the file if missing."""
    text = doc.read_text() if doc.exists() else _doc_intro(info or machine())
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section.rstrip("\n") + "\n\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text.rstrip("\n") + "\n")


def _doc_intro(m: dict[str, str]) -> str:
    return (
        "# Benchmarks\n\n"
        "Speed targets are checked here, not in tests: each benchmark runs overt against "
        "named peers on the same machine in the same run.\n\n"
        f"Machine: {m['cpu']}; {m['ram']} RAM; {m['fs']} disk; Python {m['python']}; "
        f"measured {m['date']}.\n\n"
        "Re-run everything with `make bench`, or one benchmark with e.g. "
        "`.venv/bin/python bench/ingest.py` (`--quick` for a smoke run that leaves this "
        "file alone).\n"
    )


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-gib", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--recordings", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200, help="per filter kind")
    parser.add_argument("--quick", action="store_true", help="64 MiB, 5,000 recordings, no docs")
    parser.add_argument("--dir", type=Path, default=None, help="where the temp files go")
    args = parser.parse_args()
    size = 64 * MiB if args.quick else int(args.size_gib * GiB)
    recordings = 5_000 if args.quick else args.recordings

    scratch = Path(tempfile.mkdtemp(prefix="overt-bench-", dir=args.dir))
    try:
        report = run_all(scratch, size, args.runs, recordings, args.queries)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    section = render(report)
    print(section)
    if not args.quick:
        write_doc(section, info=report.machine)
        print(f"written to {DOC.relative_to(ROOT)}", file=sys.stderr)


def run_all(scratch: Path, size: int, runs: int, recordings: int, queries: int) -> Report:
    home = scratch / "instance"
    start_instance(home)
    register_bench_people()
    source = scratch / "source.bin"
    _say(f"writing {size / MiB:.0f} MiB of random bytes")
    write_random_file(source, size)
    _say(f"ingest speed: {runs} alternating rounds")
    speed = bench_speed(source, scratch, runs)
    _say("memory: overt ingest in a subprocess")
    memory = [bench_memory(source, home, variant=runs + 1)]
    cli_seconds = memory[0].seconds or 0.0
    source.unlink()
    memory.append(bench_memory_big(scratch, home, BIG_FILE_FACTOR * size))
    _say(f"catalogue: seeding {recordings:,} recordings")
    cat = seed_catalogue(recordings)
    _say(f"catalogue: {queries} queries per filter kind")
    timings, rows = bench_catalogue(cat, queries)
    plans = {
        k: query_plan(cat, k) for k, t in timings.items() if percentile(t, 0.95) >= P95_LIMIT_MS
    }
    command = " ".join(["bench/ingest.py", *sys.argv[1:]])
    return Report(machine(scratch), speed, memory, cat, timings, rows, plans, cli_seconds, command)


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
