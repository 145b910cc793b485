"""Benchmark: the shift-end storm (issue 18). Cameras dock at once and offload; a reviewer
keeps browsing meanwhile. On one embedded node, or on the multi-node layout of deploy/.

Run:
  .venv/bin/python bench/storm.py embedded --cameras 200 --segments 3 --segment-mb 1
  .venv/bin/python bench/storm.py deployed --nodes 2 --cameras 200 --segments 3 --segment-mb 1

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
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

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


def cpu_rss(pids: list[int]) -> tuple[float, float]:
    """Total CPU seconds (user + system) and RSS MB of these processes now."""
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = rss = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / ticks
            status = Path(f"/proc/{pid}/status").read_text()
            rss += int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]
        except (OSError, AttributeError, IndexError):
            continue
    return cpu, rss


def disk_written_bytes() -> int:
    total = 0
    for line in Path("/proc/diskstats").read_text().splitlines():
        parts = line.split()
        if len(parts) > 9 and re.fullmatch(r"(vd|sd|nvme\d+n)\w*?[a-z]|nvme\d+n\d+", parts[2]):
            total += int(parts[9]) * 512
    return total


class Sampler(threading.Thread):
    def __init__(self, home: str) -> None:
        super().__init__(daemon=True)
        self.home = home
        self.stop = threading.Event()
        self.samples: list[tuple[float, float, float, int]] = []
        self.loads: list[float] = []  # the machine's 1-minute load average

    def run(self) -> None:
        pids: list[int] = []
        found_at = 0.0
        while not self.stop.is_set():
            if time.monotonic() - found_at > 5:  # scanning /proc is not free: every 5 s
                pids, found_at = processes(self.home), time.monotonic()
            cpu, rss = cpu_rss(pids)
            self.samples.append((time.monotonic(), cpu, rss, disk_written_bytes()))
            self.loads.append(os.getloadavg()[0])
            self.stop.wait(0.5)

    def summary(self) -> dict[str, float]:
        if len(self.samples) < 2:
            return {}
        (t0, c0, _, d0), (t1, c1, _, d1) = self.samples[0], self.samples[-1]
        span = t1 - t0
        return {
            "cpu_cores_mean": round((c1 - c0) / span, 2),
            "rss_mb_peak": round(max(s[2] for s in self.samples), 1),
            "disk_write_mb_s_machine": round((d1 - d0) / span / 1e6, 1),
            "cpu_seconds": round(c1 - c0, 1),
            "seconds": round(span, 1),
            "load1_min_mean_max": [
                round(min(self.loads), 1),
                round(statistics.mean(self.loads), 1),
                round(max(self.loads), 1),
            ],
        }


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


def storm(args: argparse.Namespace, env: dict[str, str], base: str, work: Path) -> dict:
    token, recording = seed(env, work)
    reviewer = Reviewer(base, "reviewer", "storm-reviewer-pass", recording)
    sampler = Sampler(env["OVERT_HOME"])
    sampler.start()
    reviewer.start()
    time.sleep(3)  # a reviewer baseline before the storm
    began = time.monotonic()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sim = subprocess.run(
        [
            sys.executable,
            "-m",
            "overt_camera.simulate",
            "--server",
            base,
            "--token",
            token,
            "--cameras",
            str(args.cameras),
            "--segments",
            str(args.segments),
            "--segment-mb",
            str(args.segment_mb),
            "--concurrency",
            str(args.concurrency),
            "--dock-window",
            str(args.dock_window),
            "--json",
        ],
        text=True,
        capture_output=True,
        timeout=7200,
        check=False,
    )
    wall = time.monotonic() - began
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = (children.ru_utime + children.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    reviewer.stop.set()
    sampler.stop.set()
    reviewer.join(timeout=60)
    summary = json.loads(sim.stdout) if sim.stdout.strip() else {}
    sent = summary.pop("sha256s", [])
    return {
        "simulator": summary,
        "simulator_stderr_tail": sim.stderr[-2000:],
        "wall_s": round(wall, 1),
        "simulator_cpu_s": round(client_cpu, 1),
        "throughput_mb_s": round(summary.get("bytes", 0) / wall / 1e6, 2),
        "uploads_per_s": round(summary.get("uploads", 0) / wall, 2),
        "mismatched_after_rehash": _rehash_or_why(env, sent),
        "server": sampler.summary(),
        "reviewer": reviewer.summary(),
    }


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=("embedded", "deployed"))
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--cameras", type=int, default=200)
    parser.add_argument("--segments", type=int, default=3)
    parser.add_argument("--segment-mb", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--dock-window", type=float, default=0.0)
    parser.add_argument(
        "--port-base",
        type=int,
        default=0,
        help="deployed: balancer on this port, nodes from +1, Redis +50, S3 +60 (else 8080...)",
    )
    args = parser.parse_args()
    load_before = os.getloadavg()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("OVERT_")}
    with tempfile.TemporaryDirectory(prefix="overt-storm-") as tmp:
        work = Path(tmp)
        if args.mode == "embedded":
            env = {**base_env, "OVERT_HOME": str(work / "home"), "OVERT_MIN_FREE_BYTES": "0"}
            overt(env, "init")
            port = 8190
            server = subprocess.Popen(
                [str(BIN / "overt"), "serve", "--bind", f"127.0.0.1:{port}"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    requests.get(base + "/healthz", timeout=10)
                    break
                except requests.RequestException:
                    time.sleep(0.2)
            try:
                result = storm(args, env, base, work)
            finally:
                server.terminate()
                server.wait(timeout=60)
        else:
            state = work / "deploy"
            env = {
                **base_env,
                "DEPLOY_DATABASE": f"overt_storm_{os.getpid()}",
                "DEPLOY_OVERT": str(BIN / "overt"),
                "DEPLOY_PYTHON": sys.executable,
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
                    str(args.nodes),
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
            )
            settings = (state / "overt.env").read_text().splitlines()
            pairs = (line.split("=", 1) for line in settings if "=" in line)
            env.update({key: value.strip("'") for key, value in pairs})
            try:
                result = storm(args, env, f"http://127.0.0.1:{port}", work)
            finally:
                subprocess.run(
                    [str(ROOT / "deploy" / "start.sh"), "stop", "--state", str(state)],
                    env=env,
                    check=False,
                    timeout=120,
                )
                drop_database(env["DEPLOY_DATABASE"])
    result.update(
        {
            "mode": args.mode,
            "nodes": args.nodes if args.mode == "deployed" else 1,
            "workers": args.workers if args.mode == "deployed" else 1,
            "cameras": args.cameras,
            "segments": args.segments,
            "segment_mb": args.segment_mb,
            "concurrency": args.concurrency,
            "load_before": load_before,
            "load_after": os.getloadavg(),
        }
    )
    OUT.mkdir(parents=True, exist_ok=True)
    name = f"storm-{args.mode}-{result['nodes']}n-{args.cameras}c.json"
    (OUT / name).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
