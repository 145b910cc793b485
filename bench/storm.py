"""Benchmark: the shift-end storm (issue 18). Cameras dock at once and offload; a reviewer
keeps browsing meanwhile. On one embedded node, or on the multi-node layout of deploy/.

Run:
  .venv/bin/python bench/storm.py embedded --cameras 200 --segments 3 --segment-mb 1
  .venv/bin/python bench/storm.py embedded --split --cameras 1000 --segment-mb 10 \
      --segment-mb-max 60 --dock-window 300      # the issue's storm (sizes: see below)
  .venv/bin/python bench/storm.py deployed --nodes 1,2,3 --cameras 200 --segments 3 --segment-mb 1

Segment sizes: one size (--segment-mb), or a range (--segment-mb to --segment-mb-max):
whole MB skewed towards short activations, a Pareto law of shape --size-shape (3) cut at
the largest, drawn by stratified quantiles so the total is known before the run
(`overt_camera.simulate.segment_sizes`). The plan (total bytes, mean, median, largest,
counts per 10 MB) is printed first and kept in the result; the run is refused when the
disk lacks what one run stores plus a margin (--disk-margin-gb), or when moto would keep
more than a quarter of the available memory (`room_needed`: deployed, moto keeps objects
over --s3-memory-bytes in temporary files in the layout's folder, and the parts of an
object sent in parts, over --s3-part-mb MiB, beside the whole).

`--split` (embedded): cameras offload to a second `overt serve --no-worker` process on
the same instance (SQLite, local store), at lower CPU priority (--devices-nice), on a
port of its own; the reviewer's pages are served by the first. Without it, one process
serves both, as before.

`embedded` starts one `overt serve` (its worker beside it) on a fresh instance (SQLite,
local store) in a temporary folder, removed afterwards. `deployed` runs deploy/start.sh
(N app processes behind HAProxy, PostgreSQL, S3 with Object Lock on moto, Redis and
workers) and stops it afterwards. Both then:

1. register a reviewer (an officer with a password) with a few recordings of their own,
   and an admin API token with the manage-fleet scope;
2. run `overt-camera simulate` (the real client, a separate process) for the storm;
3. meanwhile a reviewer client signs in and loads the library and a recording's player
   page in a loop, timing each;
4. sample, every 0.5 s, the CPU time and RSS of every overt process (serve, workers) and
   the machine's disk writes (/proc/diskstats: the whole machine, others' work included);
5. re-hash every object the simulator sent, from the store, and count any mismatch.

It prints one JSON document (and writes it under bench/out/). Figures go in
docs/benchmarks.md and docs/scaling.md by hand, with the load of the machine (uptime).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
OUT = ROOT / "bench" / "out"


def overt(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [str(BIN / "overt"), *args],
        env=env,
        input=stdin,
        text=True,
        capture_output=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"overt {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def processes(home: str) -> list[int]:
    """Pids of the overt processes (app, workers) of the instance at OVERT_HOME=home."""
    found = []
    wanted = f"OVERT_HOME={home}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if wanted in environ and ("serve" in cmd or "worker" in cmd):
            found.append(int(entry.name))
    return found


TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float, float] | None:
    """(ppid, CPU seconds of the process and of its reaped children, RSS MB)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"VmRSS:\s+(\d+)", status)
    cpu = sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS  # utime stime cutime cstime
    return int(fields[1]), cpu, (int(found.group(1)) / 1024 if found else 0.0)


def process_table() -> dict[int, tuple[int, float, float]]:
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            row = _stat(int(entry.name))
            if row is not None:
                table[int(entry.name)] = row
    return table


def tree_usage(
    table: dict[int, tuple[int, float, float]], roots: list[int], skip: set[int]
) -> tuple[float, float]:
    """CPU seconds and RSS MB of these processes and their descendants (not `skip`'s).
    A process's reaped children count in its own cutime/cstime, so a short-lived child (a
    PostgreSQL backend, an RQ work-horse) is counted once it has ended."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    cpu = rss = 0.0
    todo = [r for r in roots if r in table]
    seen: set[int] = set()
    while todo:
        pid = todo.pop()
        if pid in seen or pid in skip:
            continue
        seen.add(pid)
        cpu += table[pid][1]
        rss += table[pid][2]
        todo.extend(children.get(pid, []))
    return cpu, rss


def disk_bytes() -> tuple[int, int]:
    """Bytes read and written by the machine's disks so far."""
    read = written = 0
    for line in Path("/proc/diskstats").read_text().splitlines():
        parts = line.split()
        if len(parts) > 9 and re.fullmatch(r"(vd|sd|nvme\d+n)\w*?[a-z]|nvme\d+n\d+", parts[2]):
            read += int(parts[5]) * 512
            written += int(parts[9]) * 512
    return read, written


def disk_used(path: Path) -> int:
    info = os.statvfs(path)
    return (info.f_blocks - info.f_bfree) * info.f_frsize


class Sampler(threading.Thread):
    """Every 0.5 s: CPU and RSS of each named group of processes (a root pid and its
    descendants), the machine's disk reads and writes, the disk space in use where the
    bench writes, and the load average."""

    def __init__(self, groups: Callable[[], dict[str, list[int]]], where: Path) -> None:
        super().__init__(daemon=True)
        self.groups, self.where = groups, where
        self.stop = threading.Event()
        self.samples: list[tuple[float, dict[str, tuple[float, float]], int, int, int]] = []
        self.loads: list[float] = []  # the machine's 1-minute load average

    def run(self) -> None:
        roots: dict[str, list[int]] = {}
        found_at = -10.0
        while not self.stop.is_set():
            if time.monotonic() - found_at > 5:  # scanning /proc is not free: every 5 s
                roots, found_at = self.groups(), time.monotonic()
            table = process_table()
            every_root = {pid for pids in roots.values() for pid in pids}
            usage = {
                name: tree_usage(table, pids, every_root - set(pids))
                for name, pids in roots.items()
            }
            read, written = disk_bytes()
            self.samples.append((time.monotonic(), usage, read, written, disk_used(self.where)))
            self.loads.append(os.getloadavg()[0])
            self.stop.wait(0.5)

    def summary(self) -> dict[str, Any]:
        if len(self.samples) < 2:
            return {}
        (t0, u0, r0, w0, d0), (t1, u1, r1, w1, _) = self.samples[0], self.samples[-1]
        span = t1 - t0
        per: dict[str, Any] = {}
        for name in u1:
            if name not in u0:
                continue
            cpu = u1[name][0] - u0[name][0]
            per[name] = {
                "cpu_seconds": round(cpu, 1),
                "cores_mean": round(cpu / span, 2),
                "rss_mb_peak": round(max(s[1].get(name, (0, 0))[1] for s in self.samples), 1),
            }
        overt = [n for n in per if n.startswith(("serve", "pages", "devices", "worker"))]
        overt_cpu = sum(per[n]["cpu_seconds"] for n in overt)
        return {
            "processes": per,
            "overt_cpu_seconds": round(overt_cpu, 1),
            "overt_cores_mean": round(overt_cpu / span, 2),
            "overt_rss_mb_peak": round(
                max(sum(s[1].get(n, (0, 0))[1] for n in overt) for s in self.samples), 1
            ),
            "disk_write_mb_s_machine": round((w1 - w0) / span / 1e6, 1),
            "disk_read_mb_s_machine": round((r1 - r0) / span / 1e6, 1),
            "disk_write_mb_s_peak_5s": round(self._peak_write_rate(10) / 1e6, 1),
            "disk_used_growth_gb_peak": round(max(s[4] for s in self.samples) / 1e9 - d0 / 1e9, 2),
            "seconds": round(span, 1),
            "load1_min_mean_max": [
                round(min(self.loads), 1),
                round(statistics.mean(self.loads), 1),
                round(max(self.loads), 1),
            ],
        }

    def _peak_write_rate(self, every: int) -> float:
        best = 0.0
        for a, b in zip(self.samples, self.samples[every:], strict=False):
            best = max(best, (b[3] - a[3]) / (b[0] - a[0]))
        return best


class Reviewer:
    """Signs in with a password and loads the library and a player page, timing each: a
    process of its own, so that this bench's sampler thread does not share its GIL (that
    showed as reviewer latency that the server never caused)."""

    def __init__(self, base: str, username: str, password: str, recording: int) -> None:
        self.base, self.recording = base, recording
        self.username, self.password = username, password
        context = multiprocessing.get_context("fork")
        self.stop = context.Event()
        self._results = context.Queue()
        self._process = context.Process(target=self._main, daemon=True)
        self.times: dict[str, list[float]] = {"library": [], "player": []}
        self.failures: list[str] = []

    def start(self) -> None:
        self._process.start()

    def join(self, timeout: float) -> None:
        try:
            self.times, self.failures = self._results.get(timeout=timeout)
        except queue.Empty:
            self.failures.append("the reviewer process did not report")
        self._process.join(timeout=10)

    def _main(self) -> None:
        try:
            self.run()
        finally:
            self._results.put((self.times, self.failures))

    def run(self) -> None:
        session = requests.Session()
        session.get(f"{self.base}/login/", timeout=30)
        answer = session.post(
            f"{self.base}/login/",
            timeout=30,
            data={
                "username": self.username,
                "password": self.password,
                "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
            },
            headers={"Referer": f"{self.base}/login/"},
        )
        if "sessionid" not in session.cookies:
            self.failures.append(f"sign-in failed: {answer.status_code}")
            return
        pages = {"library": "/", "player": f"/recordings/{self.recording}/"}
        while not self.stop.is_set():
            for name, path in pages.items():
                began = time.monotonic()
                answer = session.get(self.base + path, timeout=60)
                took = time.monotonic() - began
                if answer.status_code != 200:
                    self.failures.append(f"{name}: {answer.status_code}")
                self.times[name].append(took)
            self.stop.wait(0.2)

    def summary(self) -> dict[str, object]:
        out: dict[str, object] = {"failures": len(self.failures)}
        for name, values in self.times.items():
            if values:
                ordered = sorted(values)
                out[f"{name}_n"] = len(values)
                out[f"{name}_p50_ms"] = round(statistics.median(ordered) * 1000)
                out[f"{name}_p95_ms"] = round(ordered[int(0.95 * (len(ordered) - 1))] * 1000)
                out[f"{name}_p99_ms"] = round(ordered[int(0.99 * (len(ordered) - 1))] * 1000)
                out[f"{name}_max_ms"] = round(ordered[-1] * 1000)
        return out


def seed(env: dict[str, str], work: Path) -> tuple[str, int]:
    """A reviewer (officer REV1 with a password) with recordings; an admin token."""
    from overt.demo.footage import render_clip  # PyAV: a real small clip, made here

    overt(env, "officer", "add", "REV1", "--name", "PC Reviewer")
    overt(env, "device", "add", "CAM-REV1", "--model", "VB400")
    overt(
        env,
        "user",
        "add",
        "reviewer",
        "--role",
        "officer",
        "--officer",
        "REV1",
        "--password-stdin",
        stdin="storm-reviewer-pass\n",
    )
    overt(env, "user", "add", "fleetadmin", "--role", "admin")
    text = overt(env, "token", "create", "fleetadmin", "--name", "storm", "--scope", "manage-fleet")
    token = re.search(r"ovt_[A-Za-z0-9_-]+", text).group(0)  # type: ignore[union-attr]
    from datetime import UTC, datetime, timedelta

    clips = []
    for n in range(3):
        clip = work / f"rev{n}.mp4"
        render_clip(
            clip,
            seed=100 + n,
            start_utc=datetime.now(UTC) - timedelta(hours=n + 1),
            duration_s=4,
            device_serial="CAM-REV1",
            officer_number="REV1",
            width=320,
            height=180,
        )
        clips.append(str(clip))
    result = json.loads(
        overt(env, "ingest", "--officer", "REV1", "--device", "CAM-REV1", "--json", *clips)
    )
    return token, int(result[0]["recording_id"])


def rehash(env: dict[str, str], sha256s: list[str]) -> int:
    """Objects whose stored bytes do not hash to what was sent (read by overt's store)."""
    script = (
        "import hashlib, json, sys, django, os\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'overt.project.settings')\n"
        "django.setup()\n"
        "from overt.evidence.store import get_store\n"
        "store, bad = get_store(), 0\n"
        "for sha in json.load(sys.stdin):\n"
        "    h = hashlib.sha256()\n"
        "    for block in store.read_range(sha): h.update(block)\n"
        "    bad += h.hexdigest() != sha\n"
        "print(bad)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        input=json.dumps(sha256s),
        text=True,
        capture_output=True,
        timeout=3600,
        check=True,
    )
    return int(done.stdout.strip())


def _rehash_or_why(env: dict[str, str], sent: list[str]) -> int | str:
    try:
        return rehash(env, sent)
    except subprocess.CalledProcessError as exc:  # say why, keep the storm's figures
        return f"re-hash failed: {exc.stderr.strip()[-300:]}"


def size_plan(args: argparse.Namespace) -> dict[str, Any]:
    """The segment sizes the simulator will send (it draws them the same way)."""
    from overt_camera.simulate import segment_sizes

    sizes = segment_sizes(
        args.cameras * args.segments, args.segment_mb, args.segment_mb_max, args.size_shape
    )
    ordered = sorted(sizes)
    if args.segment_mb_max and args.segment_mb_max > args.segment_mb:
        law = (
            f"whole MB from {args.segment_mb:g} to {args.segment_mb_max:g} (10**6 bytes), a "
            f"Pareto law of shape {args.size_shape:g} truncated at the largest (short "
            "activations most common), stratified quantiles"
        )
    else:
        law = f"every segment {args.segment_mb:g} MB"
    bands: dict[str, int] = {}
    for size in ordered:
        low = int(size // 10_000_000) * 10
        key = f"{low}-{low + 10} MB"
        bands[key] = bands.get(key, 0) + 1
    return {
        "distribution": law,
        "segments": len(sizes),
        "total_bytes": sum(sizes),
        "total_gb": round(sum(sizes) / 1e9, 2),
        "min_mb": ordered[0] / 1e6,
        "median_mb": ordered[len(ordered) // 2] / 1e6,
        "mean_mb": round(statistics.mean(sizes) / 1e6, 2),
        "max_mb": ordered[-1] / 1e6,
        "count_by_10_mb": bands,
    }


def room_needed(args: argparse.Namespace) -> dict[str, int]:
    """Disk and memory one run needs beyond the margin. Embedded: the objects, once (a
    finished upload becomes the object by hard link). Deployed: moto keeps each object in
    a temporary file under the layout's state folder once it is larger than
    --s3-memory-bytes (smaller ones in its memory), and it keeps a multipart object's
    parts beside the whole, so an object larger than --s3-part-mb MiB counts twice. The
    layouts of one run follow each other, each removed after its run, so the need is one
    layout's."""
    from overt_camera.simulate import segment_sizes

    sizes = segment_sizes(
        args.cameras * args.segments, args.segment_mb, args.segment_mb_max, args.size_shape
    )
    if args.mode == "embedded":
        return {"disk": sum(sizes), "memory": 0}
    part = args.s3_part_mb << 20
    disk = sum(s for s in sizes if s > args.s3_memory_bytes)
    disk += sum(s for s in sizes if s > part)  # the parts moto keeps
    memory = sum(s for s in sizes if s <= args.s3_memory_bytes)
    memory += sum(s % part for s in sizes if s > part and s % part <= args.s3_memory_bytes)
    return {"disk": disk, "memory": memory}


def refuse_without_room(args: argparse.Namespace, work: Path) -> float:
    """Exit, saying why, when the run's objects would not fit; else the free disk (bytes)."""
    need = room_needed(args)
    free = shutil.disk_usage(work).free
    if free < need["disk"] + args.disk_margin_gb * 1e9:
        raise SystemExit(
            f"storm: {need['disk'] / 1e9:.2f} GB to store in {work} but {free / 1e9:.1f} GB "
            f"free (a margin of {args.disk_margin_gb:g} GB is kept)"
        )
    available = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            available = int(line.split()[1]) * 1024
    if need["memory"] > available / 4:
        raise SystemExit(
            f"storm: moto would hold {need['memory'] / 1e9:.2f} GB in memory, more than a "
            f"quarter of the {available / 1e9:.1f} GB available (raise --s3-memory-bytes' "
            "objects to disk: lower it)"
        )
    return free


def storm(
    args: argparse.Namespace,
    env: dict[str, str],
    base: str,
    work: Path,
    groups: Callable[[], dict[str, list[int]]],
    devices_base: str | None = None,
) -> dict[str, Any]:
    token, recording = seed(env, work)
    reviewer = Reviewer(base, "reviewer", "storm-reviewer-pass", recording)
    sampler = Sampler(groups, work)
    sampler.start()
    reviewer.start()
    time.sleep(3)  # a reviewer baseline before the storm
    began = time.monotonic()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = [
        sys.executable,
        "-m",
        "overt_camera.simulate",
        "--server",
        devices_base or base,
        "--token",
        token,
        "--cameras",
        str(args.cameras),
        "--segments",
        str(args.segments),
        "--segment-mb",
        str(args.segment_mb),
        "--size-shape",
        str(args.size_shape),
        "--concurrency",
        str(args.concurrency),
        "--dock-window",
        str(args.dock_window),
        "--json",
    ]
    if args.segment_mb_max:
        command += ["--segment-mb-max", str(args.segment_mb_max)]
    sim = subprocess.run(command, text=True, capture_output=True, timeout=7200, check=False)
    wall = time.monotonic() - began
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = (children.ru_utime + children.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    reviewer.stop.set()
    sampler.stop.set()
    reviewer.join(timeout=60)
    sampler.join(timeout=10)
    summary = json.loads(sim.stdout) if sim.stdout.strip() else {}
    sent = summary.pop("sha256s", [])
    rehash_began = time.monotonic()
    mismatched = _rehash_or_why(env, sent)
    return {
        "simulator": summary,
        "simulator_stderr_tail": sim.stderr[-2000:],
        "wall_s": round(wall, 1),
        "simulator_cpu_s": round(client_cpu, 1),
        "throughput_mb_s": round(summary.get("bytes", 0) / wall / 1e6, 2),
        "uploads_per_s": round(summary.get("uploads", 0) / wall, 2),
        "objects_rehashed": len(sent),
        "mismatched_after_rehash": mismatched,
        "rehash_s": round(time.monotonic() - rehash_began, 1),
        "server": sampler.summary(),
        "reviewer": reviewer.summary(),
    }


def one_copy(env: dict[str, str], sent_bytes: int, used_before: int, where: Path) -> dict[str, Any]:
    """Embedded: does the disk hold each finished upload once? The local store adopts a
    finished tus file by hard link (same inode), then the partial's name is removed."""
    home = Path(env["OVERT_HOME"])
    partial = list((home / "uploads" / "tus").glob("*"))
    objects = [p for p in (home / "store" / "objects").rglob("*") if p.is_file()]
    linked = sum(1 for p in objects if p.stat().st_nlink != 1)
    stored = sum(p.stat().st_size for p in objects)
    grown = disk_used(where) - used_before
    return {
        "partial_files_left": len(partial),
        "partial_bytes_left": sum(p.stat().st_size for p in partial),
        "objects": len(objects),
        "objects_with_a_second_name": linked,
        "stored_bytes": stored,
        "disk_used_growth_bytes": grown,
        "disk_growth_over_bytes_sent": round(grown / sent_bytes, 3) if sent_bytes else None,
    }


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pid_file(path: Path) -> list[int]:
    try:
        return [int(path.read_text().split()[0])]
    except (OSError, ValueError, IndexError):
        return []


def postmaster() -> list[int]:
    """The PostgreSQL server's main process (its backends are its children)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if cmd and cmd[0].endswith(b"/bin/postgres") and ppid == 1:
            return [int(entry.name)]
    return []


def wait_up(base: str) -> None:
    for _ in range(300):
        try:
            requests.get(base + "/healthz", timeout=10)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{base} did not come up")


def run_embedded(args: argparse.Namespace, base_env: dict[str, str], work: Path) -> dict[str, Any]:
    home = work / "home"
    env = {**base_env, "OVERT_HOME": str(home), "OVERT_MIN_FREE_BYTES": "0"}
    if args.upload_max_concurrent:
        env["OVERT_UPLOAD_MAX_CONCURRENT"] = str(args.upload_max_concurrent)
    overt(env, "init")
    port = 8190
    pages = subprocess.Popen(
        [str(BIN / "overt"), "serve", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    devices = None
    base, devices_base = f"http://127.0.0.1:{port}", None
    if args.split:
        devices = subprocess.Popen(
            [
                "nice",
                "-n",
                str(args.devices_nice),
                str(BIN / "overt"),
                "serve",
                "--no-worker",
                "--bind",
                f"127.0.0.1:{port + 1}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        devices_base = f"http://127.0.0.1:{port + 1}"
    wait_up(base)
    if devices_base:
        wait_up(devices_base)

    def groups() -> dict[str, list[int]]:
        table = process_table()
        workers = [pid for pid, row in table.items() if row[0] == pages.pid]
        found = {"pages" if args.split else "serve": [pages.pid], "worker": workers}
        if devices is not None:
            found["devices"] = [devices.pid]
        return found

    used_before = disk_used(work)
    try:
        result = storm(args, env, base, work, groups, devices_base)
        result["one_copy"] = one_copy(env, result["simulator"].get("bytes", 0), used_before, work)
    finally:
        for proc in (devices, pages):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=60)
    return result


def run_deployed(
    args: argparse.Namespace, base_env: dict[str, str], work: Path, nodes: int
) -> dict[str, Any]:
    state = work / f"deploy-{nodes}"
    env = {
        **base_env,
        "DEPLOY_DATABASE": f"overt_storm_{os.getpid()}_{nodes}",
        "DEPLOY_OVERT": str(BIN / "overt"),
        "DEPLOY_PYTHON": sys.executable,
        "DEPLOY_S3_PART_MB": str(args.s3_part_mb),
        "DEPLOY_S3_MEMORY_BYTES": str(args.s3_memory_bytes),
    }
    port = 8080
    if args.port_base:  # a second layout beside the first: ports of its own
        port = args.port_base
        env.update(
            DEPLOY_NODE_PORT=str(port + 1),
            DEPLOY_REDIS_PORT=str(port + 50),
            DEPLOY_S3_PORT=str(port + 60),
        )
    subprocess.run(
        [
            str(ROOT / "deploy" / "start.sh"),
            "--nodes",
            str(nodes),
            "--pages",
            str(args.pages),
            "--workers",
            str(args.workers),
            "--state",
            str(state),
            "--port",
            str(port),
        ],
        env=env,
        check=True,
        timeout=900,
        stdout=sys.stderr,  # its report is not this bench's JSON
    )
    settings = (state / "overt.env").read_text().splitlines()
    pairs = (line.split("=", 1) for line in settings if "=" in line)
    env.update({key: value.strip("'") for key, value in pairs})
    run = state / "run"

    def groups() -> dict[str, list[int]]:
        found = {f"serve-{i}": _pid_file(run / f"serve-{i}.pid") for i in range(nodes)}
        found.update({f"pages-{i}": _pid_file(run / f"pages-{i}.pid") for i in range(args.pages)})
        found.update(
            {f"worker-{i}": _pid_file(run / f"worker-{i}.pid") for i in range(args.workers)}
        )
        found.update(
            moto=_pid_file(run / "moto.pid"),
            haproxy=_pid_file(run / "haproxy.pid"),
            redis=_pid_file(run / "redis.pid"),
            postgresql=postmaster(),
        )
        return found

    try:
        result = storm(args, env, f"http://127.0.0.1:{port}", work, groups)
    finally:
        subprocess.run(
            [str(ROOT / "deploy" / "start.sh"), "stop", "--state", str(state)],
            env=env,
            check=False,
            timeout=120,
            stdout=sys.stderr,
        )
        drop_database(env["DEPLOY_DATABASE"])
        subprocess.run(["rm", "-rf", str(state)], check=False)
    result.update(nodes=nodes, pages=args.pages, workers=args.workers)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=("embedded", "deployed"))
    parser.add_argument(
        "--nodes", default="2", help="deployed: app processes; a list (1,2,3) runs each in turn"
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--pages", type=int, default=1, help="deployed: app processes for pages (0: none)"
    )
    parser.add_argument("--cameras", type=int, default=200)
    parser.add_argument("--segments", type=int, default=3)
    parser.add_argument("--segment-mb", type=float, default=1.0)
    parser.add_argument("--segment-mb-max", type=float, default=None)
    parser.add_argument("--size-shape", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--dock-window", type=float, default=0.0)
    parser.add_argument(
        "--split", action="store_true", help="embedded: cameras on a process of their own"
    )
    parser.add_argument("--devices-nice", type=int, default=10)
    parser.add_argument("--upload-max-concurrent", type=int, default=0)
    parser.add_argument("--disk-margin-gb", type=float, default=15.0)
    parser.add_argument(
        "--s3-part-mb",
        type=int,
        default=64,
        help="deployed: objects up to this many MiB go to S3 in one PUT, larger in parts",
    )
    parser.add_argument(
        "--s3-memory-bytes",
        type=int,
        default=1 << 20,
        help="deployed: moto keeps objects up to this size in memory, larger ones on disk",
    )
    parser.add_argument(
        "--port-base",
        type=int,
        default=0,
        help="deployed: balancer on this port, nodes from +1, Redis +50, S3 +60 (else 8080...)",
    )
    args = parser.parse_args()
    plan = size_plan(args)
    print(f"storm: segment sizes {json.dumps(plan)}", file=sys.stderr, flush=True)
    load_before = os.getloadavg()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("OVERT_")}
    with tempfile.TemporaryDirectory(prefix="overt-storm-") as tmp:
        work = Path(tmp)
        free = refuse_without_room(args, work)
        if args.mode == "embedded":
            result = run_embedded(args, base_env, work)
            result.update(nodes=1, workers=1)
        else:
            runs = []
            for n in args.nodes.split(","):
                runs.append(run_deployed(args, base_env, work, int(n)))
                # Each layout's figures are kept as soon as it is done, so that a run
                # stopped later (a time limit) still leaves them.
                OUT.mkdir(parents=True, exist_ok=True)
                done = OUT / f"storm-deployed-{n}n-{args.cameras}c-{int(time.time())}-part.json"
                done.write_text(json.dumps(runs[-1], indent=2))
                print(f"storm: {n} app process(es) done: {done}", file=sys.stderr, flush=True)
            result = runs[0] if len(runs) == 1 else {"runs": runs}
    result.update(
        {
            "mode": args.mode,
            "split": bool(args.split) if args.mode == "embedded" else None,
            "devices_nice": args.devices_nice if args.split else None,
            "upload_max_concurrent": args.upload_max_concurrent or "default",
            "cameras": args.cameras,
            "segments": args.segments,
            "segment_sizes": plan,
            "concurrency": args.concurrency,
            "dock_window_s": args.dock_window,
            "s3_part_mb": args.s3_part_mb if args.mode == "deployed" else None,
            "s3_memory_bytes": args.s3_memory_bytes if args.mode == "deployed" else None,
            "free_disk_gb_before": round(free / 1e9, 1),
            "load_before": load_before,
            "load_after": os.getloadavg(),
        }
    )
    OUT.mkdir(parents=True, exist_ok=True)
    tag = "split" if args.split else (args.nodes.replace(",", "-") + "n")
    name = f"storm-{args.mode}-{tag}-{args.cameras}c-{int(time.time())}.json"
    (OUT / name).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
