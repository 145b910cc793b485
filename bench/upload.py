"""Benchmark: tus uploads into `overt serve`, against the official Node.js tus server.

Run: .venv/bin/python bench/upload.py [--size-gib 1] [--runs 3] [--docks 200] [--dock-mib 20]
     .venv/bin/python bench/upload.py --quick   (64 MiB, 20 docks of 2 MiB; docs untouched)

Needs curl, and `npm install` in bench/node/ for the peer (@tus/server with
@tus/file-store; skipped with a note if missing). Everything runs in one temporary
directory, removed at the end. Results are printed as markdown and, unless --quick,
written to docs/benchmarks.md under "## Uploads".

What is measured:
- one large upload: POST then one PATCH of the whole file by curl (`-T`, so curl streams
  it) with `Upload-Checksum: sha256`, wall time from the POST to the PATCH's answer.
  For overt that answer comes after the bytes are fsynced, verified and ingested (the
  upload is evidence by then); for @tus/server after the bytes are written. Alternating
  runs, each on new content (last 8 bytes rewritten) so deduplication cannot help.
- the server's peak RSS (VmHWM) over the whole benchmark;
- the streaming trap: the same PATCH sent to Django's own ASGI handler, which spools the
  body to a temporary file before any view runs;
- a dock storm: N simulated docks each create and PATCH one upload at the same moment;
  every answer and every stored object's SHA-256 is checked.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

MiB = 1 << 20
GiB = 1 << 30
ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
NODE_DIR = ROOT / "bench" / "node"
HEADING = "## Uploads"
OFFICER, DEVICE = "BENCH1", "BENCH-DOCK-1"
SPEED_TARGET_MB_S = 200
RSS_LIMIT_MB = 300
RATIO_TARGET = 1.0


# ---------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_random_file(path: Path, size: int) -> None:
    import numpy as np

    rng = np.random.default_rng(7)
    with open(path, "wb") as fh:
        left = size
        while left:
            n = min(left, 16 * MiB)
            fh.write(rng.bytes(n))
            left -= n


def new_content(path: Path, run: int) -> str:
    """Rewrite the last 8 bytes; return the file's SHA-256 (read from the page cache)."""
    fd = os.open(path, os.O_RDWR)
    try:
        size = os.fstat(fd).st_size
        os.pwrite(fd, (run + 1_000_003).to_bytes(8, "big"), max(0, size - 8))
    finally:
        os.close(fd)
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as fh:
        while chunk := fh.read(16 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


# ---------------------------------------------------------------- servers


@dataclass
class Overt:
    home: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    token: str = ""
    peak: int = 0

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OVERT_")}
        env.update({"OVERT_HOME": str(self.home), "OVERT_MIN_FREE_BYTES": "0"})
        return env

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "overt", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout

    def setup(self) -> None:
        self.cli("init")
        self.cli("officer", "add", OFFICER, "--name", "Bench Officer")
        self.cli("device", "add", DEVICE, "--model", "Bench dock")
        self.token = self.cli("device", "token", DEVICE, "--dock").strip()

    def start(self, *, copy_into_store: bool = False) -> None:
        if copy_into_store:
            # The other way to finish an upload: ingest_file() copies it into the store
            # (hashing again) instead of taking it by hard link.
            code = (
                "import sys; from overt.uploads import storage; "
                "from overt.evidence.store import get_store; "
                "storage.store_for = lambda path, sha: get_store(); "
                "from overt.cli.main import main; sys.argv[0] = 'overt'; main()"
            )
            argv = [sys.executable, "-c", code]
        else:
            argv = [sys.executable, "-m", "overt"]
        argv += ["serve", "--no-worker", "--bind", f"127.0.0.1:{self.port}"]
        self.proc = subprocess.Popen(
            argv, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port, self.proc, "overt serve")

    def stop(self) -> None:
        if self.proc is not None:
            self.peak = max(self.peak, peak_rss(self.proc.pid))
            stop(self.proc)
            self.proc = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/files/"

    @property
    def auth(self) -> list[str]:
        return ["-H", f"Authorization: Bearer {self.token}"]


@dataclass
class NodeTus:
    directory: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    peak: int = 0

    @staticmethod
    def available() -> str | None:
        if not shutil.which("node"):
            return "node is not installed"
        if not (NODE_DIR / "node_modules" / "@tus" / "server").is_dir():
            return "run `npm install` in bench/node/"
        return None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["node", str(NODE_DIR / "server.mjs"), str(self.port), str(self.directory)],
            cwd=NODE_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.proc, "@tus/server")

    def stop(self) -> None:
        if self.proc is not None:
            self.peak = max(self.peak, peak_rss(self.proc.pid))
            stop(self.proc)
            self.proc = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/files"

    auth: list[str] = field(default_factory=list)

    @staticmethod
    def version() -> str:
        package = json.loads((NODE_DIR / "node_modules/@tus/server/package.json").read_text())
        store = json.loads((NODE_DIR / "node_modules/@tus/file-store/package.json").read_text())
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
        return (
            f"@tus/server {package['version']}, @tus/file-store {store['version']}, "
            f"Node.js {node.strip()}"
        )


# ---------------------------------------------------------------- one large upload


@dataclass
class Run:
    seconds: float
    status: str


def curl_upload(
    server_url: str, auth: list[str], path: Path, sha256_hex: str, *, check: bool = True
) -> Run:
    """POST + one PATCH of the whole file with curl; (wall seconds, final status)."""
    size = path.stat().st_size
    meta = ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}"
        for k, v in (("filename", path.name), ("officer", OFFICER), ("sha256", sha256_hex))
    )
    checksum = base64.b64encode(bytes.fromhex(sha256_hex)).decode()
    os.sync()  # nobody's dirty pages get written inside the timed run
    start = time.perf_counter()
    created = subprocess.run(
        [
            "curl",
            "-sS",
            "-D",
            "-",
            "-o",
            "/dev/null",
            "-X",
            "POST",
            *auth,
            "-H",
            "Tus-Resumable: 1.0.0",
            "-H",
            f"Upload-Length: {size}",
            "-H",
            f"Upload-Metadata: {meta}",
            server_url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"^location:\s*(\S+)", created, re.I | re.M)
    if not match:
        raise RuntimeError(f"no Location in {created!r}")
    location = match.group(1)
    if location.startswith("/"):
        parts = urlsplit(server_url)
        location = f"{parts.scheme}://{parts.netloc}{location}"
    patched = subprocess.run(
        [
            "curl",
            "-sS",
            "-D",
            "-",
            "-o",
            "/dev/null",
            "-X",
            "PATCH",
            *auth,
            "-H",
            "Tus-Resumable: 1.0.0",
            "-H",
            "Upload-Offset: 0",
            "-H",
            "Content-Type: application/offset+octet-stream",
            "-H",
            f"Upload-Checksum: sha256 {checksum}",
            "-H",
            "Expect:",
            "-T",
            str(path),
            location,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    seconds = time.perf_counter() - start
    status = patched.split("\r\n", 1)[0]
    if check and " 204" not in status:
        raise RuntimeError(f"upload failed: {patched!r}")
    if check and "overt-upload-status" in patched.lower():
        if sha256_hex not in patched:
            raise RuntimeError("overt answered with another SHA-256")
    return Run(seconds, status)


def verify_overt_object(home: Path, sha256_hex: str, *, drop: bool = True) -> None:
    path = home / "store" / "objects" / sha256_hex[:2] / sha256_hex[2:4] / sha256_hex
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as fh:
        while chunk := fh.read(16 * MiB):
            digest.update(chunk)
    if digest.hexdigest() != sha256_hex:
        raise RuntimeError(f"stored object {sha256_hex} hashes to {digest.hexdigest()}")
    if drop:  # free the disk; the catalogue row may dangle (temporary instance)
        path.unlink()


def sync_newest(directory: Path) -> float:
    """Seconds to fsync the newest upload file (`sync FILE`): the durability overt has."""
    files = [p for p in directory.iterdir() if not p.name.endswith(".json")]
    newest = max(files, key=lambda p: p.stat().st_mtime)
    start = time.perf_counter()
    subprocess.run(["sync", str(newest)], check=True)
    return time.perf_counter() - start


def verify_node_upload(directory: Path, sha256_hex: str) -> None:
    files = [p for p in directory.iterdir() if not p.name.endswith(".json")]
    newest = max(files, key=lambda p: p.stat().st_mtime)
    digest = hashlib.sha256()
    with open(newest, "rb", buffering=0) as fh:
        while chunk := fh.read(16 * MiB):
            digest.update(chunk)
    if digest.hexdigest() != sha256_hex:
        raise RuntimeError("@tus/server stored other bytes")
    for p in files:
        p.unlink()
    for p in directory.glob("*.json"):
        p.unlink()


# ---------------------------------------------------------------- the streaming trap


def django_trap(work: Path, home: Path, path: Path) -> dict[str, float]:
    """PATCH the file to Django's own ASGI handler (no upload router): the view cannot
    run until Django has read the whole body into a temporary file."""
    spool = work / "django-tmp"
    spool.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OVERT_")}
    env.update({"OVERT_HOME": str(home), "TMPDIR": str(spool)})
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "overt.project.asgi:django_application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peak_spool = 0
    done = threading.Event()

    def watch() -> None:
        # Django's spool file is unlinked as soon as it is made: find it among the
        # server's open files and read its size there.
        nonlocal peak_spool
        fds = Path(f"/proc/{proc.pid}/fd")
        while not done.is_set():
            size = 0
            try:
                for fd in fds.iterdir():
                    try:
                        if os.readlink(fd).startswith(str(spool)):
                            size += os.stat(fd).st_size
                    except OSError:
                        pass
            except OSError:
                pass
            peak_spool = max(peak_spool, size)
            time.sleep(0.02)

    try:
        wait_for_port(port, proc, "uvicorn with Django's ASGI handler")
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        start = time.perf_counter()
        status = subprocess.run(
            [
                "curl",
                "-sS",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-X",
                "PATCH",
                "-H",
                "Tus-Resumable: 1.0.0",
                "-H",
                "Upload-Offset: 0",
                "-H",
                "Expect:",
                "-H",
                "Content-Type: application/offset+octet-stream",
                "-T",
                str(path),
                f"http://127.0.0.1:{port}/files/{'0' * 32}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        seconds = time.perf_counter() - start
        done.set()
        watcher.join()
        rss = peak_rss(proc.pid)
    finally:
        done.set()
        stop(proc)
    return {"seconds": seconds, "spooled": peak_spool, "status": float(status), "rss": rss}


# ---------------------------------------------------------------- dock storm


@dataclass
class StormResult:
    docks: int
    size: int
    seconds: float
    errors: list[str]
    per_upload: list[float]
    verified: int = 0


def storm(base_url: str, token: str | None, docks: int, size: int, *, overt: bool) -> StormResult:
    """`docks` threads, released together, each POSTs then PATCHes its own `size` bytes
    (with Upload-Checksum) over its own connection."""
    import http.client

    import numpy as np

    template = np.random.default_rng(11).bytes(size)
    bodies = [i.to_bytes(8, "big") + template[8:] for i in range(docks)]
    hashes = [hashlib.sha256(b).hexdigest() for b in bodies]
    parts = urlsplit(base_url)
    errors: list[str] = []
    times: list[float] = [0.0] * docks
    lock = threading.Lock()
    gate = threading.Barrier(docks + 1)

    def dock(i: int) -> None:
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        meta = ",".join(
            f"{k} {base64.b64encode(v.encode()).decode()}"
            for k, v in (
                ("filename", f"dock-{i}.mp4"),
                ("officer", OFFICER),
                ("device", DEVICE),
                ("sha256", hashes[i]),
            )
        )
        gate.wait()
        start = time.perf_counter()
        try:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
            conn.request(
                "POST",
                parts.path,
                headers={
                    "Tus-Resumable": "1.0.0",
                    "Upload-Length": str(size),
                    "Upload-Metadata": meta,
                    **auth,
                },
            )
            created = conn.getresponse()
            created.read()
            if created.status != 201:
                raise RuntimeError(f"POST {created.status}")
            location = created.getheader("Location")
            path = urlsplit(location).path if location.startswith("http") else location
            conn.request(
                "PATCH",
                path,
                body=bodies[i],
                headers={
                    "Tus-Resumable": "1.0.0",
                    "Upload-Offset": "0",
                    "Content-Type": "application/offset+octet-stream",
                    "Upload-Checksum": "sha256 "
                    + base64.b64encode(bytes.fromhex(hashes[i])).decode(),
                    **auth,
                },
            )
            done = conn.getresponse()
            body = done.read()
            if done.status != 204:
                raise RuntimeError(f"PATCH {done.status}: {body[:200]!r}")
            if overt and done.getheader("Overt-Sha256") != hashes[i]:
                raise RuntimeError("answered with another SHA-256")
            conn.close()
        except Exception as exc:
            with lock:
                errors.append(f"dock {i}: {exc}")
        times[i] = time.perf_counter() - start

    threads = [threading.Thread(target=dock, args=(i,)) for i in range(docks)]
    for t in threads:
        t.start()
    os.sync()
    gate.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    result = StormResult(docks, size, seconds, errors, times)
    result.hashes = hashes  # type: ignore[attr-defined]
    return result


def verify_storm_overt(home: Path, result: StormResult) -> None:
    db = sqlite3.connect(home / "overt.sqlite3")
    rows = dict(db.execute("SELECT sha256, size FROM evidence_original"))
    db.close()
    for sha in result.hashes:  # type: ignore[attr-defined]
        if rows.get(sha) != result.size:
            result.errors.append(f"no catalogued original {sha}")
            continue
        try:
            verify_overt_object(home, sha, drop=False)
            result.verified += 1
        except (OSError, RuntimeError) as exc:
            result.errors.append(str(exc))


def verify_storm_node(directory: Path, result: StormResult) -> None:
    found = set()
    for p in directory.iterdir():
        if p.name.endswith(".json"):
            continue
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
        found.add(digest)
    result.verified = sum(1 for sha in result.hashes if sha in found)  # type: ignore[attr-defined]
    for sha in result.hashes:  # type: ignore[attr-defined]
        if sha not in found:
            result.errors.append(f"@tus/server lost {sha}")


# ---------------------------------------------------------------- report


@dataclass
class Report:
    command: str
    machine: dict[str, str]
    size: int
    overt: list[float]
    node: list[float]
    node_durable: list[float]
    overt_cpu: list[float]
    node_cpu: list[float]
    copy: list[float]
    node_note: str
    overt_rss: int
    node_rss: int
    trap: dict[str, float] | None
    storm_overt: StormResult | None
    storm_node: StormResult | None
    storm_rss: int
    load: tuple[float, float] = (0.0, 0.0)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def render(r: Report) -> str:
    mb = r.size / 1e6
    size = f"{r.size / GiB:g} GiB" if r.size >= GiB else f"{r.size // MiB} MiB"
    m = r.machine
    lines = [
        HEADING,
        "",
        f"Measured {m['date']} by `{r.command}` on {m['cpu']}, {m['ram']} RAM, {m['fs']} "
        f"disk, Linux {m['kernel']}, Python {m['python']}, curl {m['curl']}; peer: "
        f"{r.node_note}. Server and files share one temporary directory; overt runs "
        "`overt serve` (uvicorn with httptools and uvloop) on the embedded engines. "
        f"The machine was shared: 1-minute load average {r.load[0]:.1f} at the start, "
        f"{r.load[1]:.1f} at the end (the figures are as noisy as that suggests; peers "
        "ran alternately in the same minutes, so the comparisons hold better than the "
        "absolute numbers).",
        "",
        f"### One large upload ({size}, curl, `Upload-Checksum: sha256`)",
        "",
        "POST, then one PATCH of the whole file (`curl -T`), timed from the POST to the "
        "PATCH's answer; alternating runs, each on new content. overt answers once the bytes "
        "are fsynced, the checksum verified and the file ingested (hashed, linked into the "
        "store, probed, catalogued, custody entry written); @tus/server once it has written "
        "them (it offers no checksum extension, so it ignores the header, and does not "
        "fsync).",
        "",
        "| server | median s | MB/s | runs (s) |",
        "|---|---:|---:|---|",
    ]

    def row(name: str, runs: list[float]) -> None:
        if runs:
            lines.append(
                f"| {name} | {median(runs):.2f} | {mb / median(runs):.0f} | "
                + ", ".join(f"{x:.2f}" for x in runs)
                + " |"
            )

    row("overt `/files/`", r.overt)
    row("@tus/server + @tus/file-store", r.node)
    row("@tus/server, then `sync` of its file (information: a durable copy)", r.node_durable)
    row("overt, finishing by copy into the store (not chosen)", r.copy)
    lines.append("")
    speed = mb / median(r.overt)
    verdict = "meets" if speed >= SPEED_TARGET_MB_S else "**misses**"
    lines.append(
        f"**overt: {speed:.0f} MB/s** (target ≥ {SPEED_TARGET_MB_S} MB/s: {verdict}). "
        f"Peak server RSS {r.overt_rss / 1e6:.0f} MB (target < {RSS_LIMIT_MB} MB: "
        f"{'meets' if r.overt_rss < RSS_LIMIT_MB * 1e6 else '**misses**'})"
        + (f"; @tus/server {r.node_rss / 1e6:.0f} MB." if r.node_rss else ".")
    )
    if r.overt_cpu:
        cpu = f"overt {median(r.overt_cpu):.2f} s"
        if r.node_cpu:
            cpu += f", @tus/server {median(r.node_cpu):.2f} s"
        lines.append("")
        lines.append(
            f"Server CPU time per upload (user + system, all threads; median): {cpu}. "
            "This depends less on the other load than the wall times do."
        )
    if r.node:
        ratio = median(r.node) / median(r.overt)
        lines.append("")
        lines.append(
            f"**Ratio overt / @tus/server: {ratio:.2f}** (throughput; target ≥ "
            f"{RATIO_TARGET:.1f}: {'meets' if ratio >= RATIO_TARGET else '**misses**'})."
        )
        if r.node_durable:
            durable = median(r.node_durable) / median(r.overt)
            lines.append(
                f"Against @tus/server with its file then made durable: {durable:.2f}. "
                "overt does more per byte than the peer: it fsyncs before it answers, "
                "verifies the checksum, and ingests."
            )
    if r.copy:
        lines.append("")
        lines.append(
            f"Finishing by link instead of copy saves {median(r.copy) - median(r.overt):.2f} s "
            f"per {size}: the bytes are hashed as they arrive (the chunk checksum and the "
            "file's SHA-256 share one pass when the PATCH starts at 0), fsynced as they "
            "arrive, and the finished file becomes the store object by hard link when the "
            "upload directory and the local store share a filesystem. Elsewhere (S3, "
            "another disk) `ingest_file()` copies it, verifying the declared hash again."
        )
    if r.trap:
        t = r.trap
        lines += [
            "",
            "### The streaming trap",
            "",
            f"The same {size} PATCH sent to Django's own ASGI handler: Django read the whole "
            f"body into a temporary file ({t['spooled'] / 1e6:.0f} MB on disk at the peak) "
            f"before any view could run; the answer came after {t['seconds']:.2f} s (a 501 "
            "from the view, which never saw a byte as it arrived). Nothing of it was durable "
            "or counted for a resume until the end, and the body would be written twice. "
            "overt's `/files/` route is a raw ASGI handler in front of Django: each chunk is "
            "written to the upload file as it arrives, its writeback started every 16 MiB, "
            "fsynced every 64 MiB (without a checksum to wait for, the offset is recorded "
            "each time) and at the end; the offset counts only fsynced bytes.",
        ]
    for name, s in (("overt", r.storm_overt), ("@tus/server", r.storm_node)):
        if s is None:
            continue
        if name == "overt":
            lines += [
                "",
                f"### Dock storm ({s.docks} docks x {s.size // MiB} MiB at once)",
                "",
                "Each simulated dock opens its own connection, POSTs, then PATCHes its own "
                "bytes with `Upload-Checksum: sha256` and the file's `sha256` in the metadata; "
                "all start together. Afterwards every stored object is hashed again.",
                "",
                "| server | wall s | aggregate MB/s | per upload p50 / p95 s | errors | verified |",
                "|---|---:|---:|---:|---:|---:|",
            ]
        p = sorted(s.per_upload)
        lines.append(
            f"| {name} | {s.seconds:.1f} | {s.docks * s.size / 1e6 / s.seconds:.0f} | "
            f"{p[len(p) // 2]:.1f} / {p[int(len(p) * 0.95) - 1]:.1f} | {len(s.errors)} | "
            f"{s.verified}/{s.docks} |"
        )
    if r.storm_overt is not None:
        s = r.storm_overt
        ok = not s.errors and s.verified == s.docks
        lines += [
            "",
            f"**Storm: {len(s.errors)} errors, {s.verified} of {s.docks} uploads stored "
            f"byte for byte** ({'meets' if ok else '**misses**'} the target of zero errors, "
            f"no byte lost). Peak server RSS {r.storm_rss / 1e6:.0f} MB.",
        ]
        if s.errors:
            lines.append("")
            lines += [f"- {e}" for e in s.errors[:10]]
    return "\n".join(lines) + "\n"


def machine(where: Path) -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    fs = "unknown"
    best = ""
    for line in Path("/proc/mounts").read_text().splitlines():
        _, mount, fstype, *_ = line.split()
        if str(where.resolve()).startswith(mount) and len(mount) > len(best):
            best, fs = mount, fstype
    curl = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split()[1]
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "ram": f"{ram / GiB:.0f} GiB",
        "fs": fs,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "curl": curl,
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }


def write_doc(section: str) -> None:
    """Replace only our section of docs/benchmarks.md, keeping everyone else's."""
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section.rstrip("\n") + "\n\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text.rstrip("\n") + "\n")


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-gib", type=float)
    parser.add_argument("--runs", type=int)
    parser.add_argument("--docks", type=int)
    parser.add_argument("--dock-mib", type=int)
    parser.add_argument("--no-copy", action="store_true", help="skip the copy-variant runs")
    parser.add_argument(
        "--quick", action="store_true", help="64 MiB, 20 docks x 2 MiB, docs untouched"
    )
    args = parser.parse_args()
    defaults = (1 / 16, 1, 20, 2) if args.quick else (1.0, 3, 200, 20)
    for name, value in zip(("size_gib", "runs", "docks", "dock_mib"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, value)
    if not shutil.which("curl"):
        sys.exit("bench/upload.py needs curl")
    size = int(args.size_gib * GiB)
    work = Path(tempfile.mkdtemp(prefix="overt-bench-upload-"))
    command = "bench/upload.py" + (" --quick" if args.quick else "")
    load_start = os.getloadavg()[0]
    try:
        info = machine(work)
        source = work / "footage.bin"
        write_random_file(source, size)
        overt = Overt(work / "instance")
        overt.setup()
        node_missing = NodeTus.available()
        node = None if node_missing else NodeTus(work / "node-files")

        overt_runs: list[float] = []
        node_runs: list[float] = []
        node_durable: list[float] = []
        overt_cpu: list[float] = []
        node_cpu: list[float] = []
        copy_runs: list[float] = []
        for run in range(args.runs):
            sha = new_content(source, run)
            overt.start()
            before = cpu_seconds(overt.proc.pid)  # type: ignore[union-attr]
            overt_runs.append(curl_upload(overt.url, overt.auth, source, sha).seconds)
            overt_cpu.append(cpu_seconds(overt.proc.pid) - before)  # type: ignore[union-attr]
            overt.stop()
            verify_overt_object(overt.home, sha)
            print(f"overt run {run + 1}: {overt_runs[-1]:.2f} s", file=sys.stderr)
            if node is not None:
                sha = new_content(source, 100 + run)
                node.start()
                before = cpu_seconds(node.proc.pid)  # type: ignore[union-attr]
                node_runs.append(curl_upload(node.url, [], source, sha).seconds)
                node_cpu.append(cpu_seconds(node.proc.pid) - before)  # type: ignore[union-attr]
                node_durable.append(node_runs[-1] + sync_newest(node.directory))
                node.stop()
                verify_node_upload(node.directory, sha)
                print(f"@tus/server run {run + 1}: {node_runs[-1]:.2f} s", file=sys.stderr)
            if not args.no_copy:
                sha = new_content(source, 200 + run)
                overt.start(copy_into_store=True)
                copy_runs.append(curl_upload(overt.url, overt.auth, source, sha).seconds)
                overt.stop()
                verify_overt_object(overt.home, sha)
                print(f"overt (copy) run {run + 1}: {copy_runs[-1]:.2f} s", file=sys.stderr)
        overt_rss = overt.peak
        node_rss = node.peak if node else 0
        if node is not None:
            node.peak = 0

        trap = django_trap(work, overt.home, source)
        print(f"Django ASGI trap: {trap}", file=sys.stderr)
        source.unlink()

        overt.peak = 0
        overt.start()
        storm_overt = storm(overt.url, overt.token, args.docks, args.dock_mib * MiB, overt=True)
        overt.stop()
        verify_storm_overt(overt.home, storm_overt)
        print(
            f"overt storm: {storm_overt.seconds:.1f} s, {len(storm_overt.errors)} errors",
            file=sys.stderr,
        )
        storm_node = None
        if node is not None:
            node.start()
            storm_node = storm(node.url, None, args.docks, args.dock_mib * MiB, overt=False)
            node.stop()
            verify_storm_node(node.directory, storm_node)
            print(f"@tus/server storm: {storm_node.seconds:.1f} s", file=sys.stderr)

        report = Report(
            command=command,
            machine=info,
            size=size,
            overt=overt_runs,
            node=node_runs,
            node_durable=node_durable,
            copy=copy_runs,
            node_note=node_missing or NodeTus.version(),
            overt_rss=overt_rss,
            node_rss=node_rss,
            overt_cpu=overt_cpu,
            node_cpu=node_cpu,
            trap=trap,
            storm_overt=storm_overt,
            storm_node=storm_node,
            storm_rss=overt.peak,
            load=(load_start, os.getloadavg()[0]),
        )
        section = render(report)
        print(section)
        if not args.quick:
            write_doc(section)
            print(f"written to {DOC.relative_to(ROOT)}", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
