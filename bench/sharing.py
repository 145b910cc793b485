"""Benchmark of sharing (issue 17): watermarked streams, and the case disclosure bundle.

1. Watermarked playback of 720p footage (a 1280x720 25 fps proxy with AAC), N streams at
   once, as the server runs them (one thread each, like ASGI's sync_to_async):
   - on the fly: decode, burn the marks in, encode (overt.cases.watermark), per stream:
     time to the first video fragment (the first `moof`) and speed against real time;
   - pre-rendered: the same, made once to a file, then N readers of that file.
   Target: 10 streams, each at real time or faster, first frame under 2 s.
2. A 50-recording case bundle: overt's streamed zip (reports, schedule PDF, verifier and
   all) against `zip -0` of the same originals, and the peak memory of the bundle's
   process while it streams (constant memory: it must not grow with the case).
   Target: at least 70% of zip -0's speed.

Run: .venv/bin/python bench/sharing.py [--streams 10] [--seconds 20] [--recordings 50]
     [--clip-seconds 20] [--no-write]
Results print as markdown and go into docs/benchmarks.md under "## Sharing".
"""

from __future__ import annotations

import argparse
import io
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
HEADING = "## Sharing"
TEXT = "Jane Prosecutor, CPS · share 1a2b3c4d · 2026-12-06 09:00 UTC"


def say(message: str) -> None:
    print(f"[sharing bench] {message}", file=sys.stderr, flush=True)


def load() -> str:
    out = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    return out.split("load average:")[-1].strip() if "load average" in out else out


def make_proxy_720p(folder: Path, seconds: float) -> Path:
    from overt.demo.footage import render_clip
    from overt.media.derivatives import make_proxy

    src, proxy = folder / "camera.mp4", folder / "proxy.mp4"
    render_clip(
        src,
        seed=17,
        start_utc=datetime(2026, 11, 20, 14, tzinfo=UTC),
        duration_s=seconds,
        device_serial="CAM-B",
        officer_number="MP1",
    )
    make_proxy(src, proxy, max_height=720)
    return proxy


def _stream(chunks: object, started: float, out: dict[str, float]) -> None:
    first = None
    size = 0
    for chunk in chunks:  # type: ignore[attr-defined]
        if first is None and b"moof" in chunk:
            first = time.perf_counter() - started
        size += len(chunk)
    out["first"] = first if first is not None else float("nan")
    out["total"] = time.perf_counter() - started
    out["bytes"] = size


def run_streams(n: int, make: object) -> list[dict[str, float]]:
    results: list[dict[str, float]] = [{} for _ in range(n)]
    threads = []
    start = time.perf_counter()
    for i in range(n):
        t = threading.Thread(target=_stream, args=(make(), start, results[i]))  # type: ignore[operator]
        threads.append(t)
        t.start()
    for t in threads:
        t.join()
    return results


def _file_chunks(path: Path, size: int = 256 * 1024) -> object:
    with open(path, "rb") as fh:
        while chunk := fh.read(size):
            yield chunk


def bench_streams(proxy: Path, streams: int, seconds: float) -> list[str]:
    from overt.cases.watermark import watermarked_mp4

    rows = []
    for n in sorted({1, streams}):
        say(f"on the fly, {n} stream(s)")
        res = run_streams(n, lambda: watermarked_mp4(str(proxy), TEXT))
        firsts = [r["first"] for r in res]
        speeds = [seconds / r["total"] for r in res]
        rows.append(
            f"| on the fly, {n} at once | {max(firsts):.2f} s | {min(speeds):.2f}x "
            f"| {sum(speeds) / n:.2f}x | {load()} |"
        )
    say("pre-rendering one copy")
    rendered = proxy.with_name("watermarked.mp4")
    started = time.perf_counter()
    with open(rendered, "wb") as fh:
        for chunk in watermarked_mp4(str(proxy), TEXT):
            fh.write(chunk)
    render_s = time.perf_counter() - started
    rows.append(
        f"| pre-render one copy (once per share and item) | — | "
        f"{seconds / render_s:.2f}x | — | {load()} |"
    )
    say(f"pre-rendered, {streams} readers")
    res = run_streams(streams, lambda: _file_chunks(rendered))
    # A file is sent as fast as the network takes it; the player then plays in real time.
    rows.append(
        f"| pre-rendered, {streams} at once | {max(r['first'] for r in res):.3f} s | "
        f"{min(seconds / r['total'] for r in res):.0f}x | — | {load()} |"
    )
    return rows


def bench_bundle(folder: Path, proxy: Path, recordings: int, clip_seconds: float) -> list[str]:
    os.environ["OVERT_HOME"] = str(folder / "instance")
    from overt.cli.bootstrap import initialise, setup

    initialise()
    setup()
    from django.db import transaction

    from overt.access.matrix import Role
    from overt.cases import items, services
    from overt.cases.bundle import case_bundle
    from overt.custody.services import Actor, Subject, record
    from overt.demo.footage import render_clip
    from overt.evidence.models import Device, Officer, Original, Recording
    from overt.evidence.store import get_store
    from overt.testing.access import make_user

    say(f"making {recordings} recordings of {clip_seconds:.0f} s (720p camera files)")
    officer = Officer.objects.create(number="MP1", name="PC One")
    device = Device.objects.create(serial="CAM-B", model="bench")
    user = make_user("bench-em", Role.EVIDENCE_MANAGER)
    case = services.create_case(user, "URN-BENCH", "Bench case")
    originals = folder / "originals"
    originals.mkdir()
    base = folder / "base.mp4"
    render_clip(
        base,
        seed=5,
        start_utc=datetime(2026, 11, 20, 14, tzinfo=UTC),
        duration_s=clip_seconds,
        device_serial="CAM-B",
        officer_number="MP1",
    )
    data = base.read_bytes()
    store = get_store()
    for i in range(recordings):
        body = data + f"recording {i}".encode()  # each a distinct object
        path = originals / f"clip{i:03d}.mp4"
        path.write_bytes(body)
        stored = store.put(io.BytesIO(body))
        rec = Recording.objects.create(
            officer=officer,
            device=device,
            title=f"Bench {i}",
            trigger_on_at=datetime(2026, 11, 20, 14, tzinfo=UTC),
        )
        o = Original.objects.create(
            sha256=stored.sha256,
            size=stored.size,
            recording=rec,
            filename=path.name,
            source=Original.Source.CLI,
            playable=True,
        )
        with transaction.atomic():
            record(
                "ingest",
                Actor.system("bench"),
                Subject(o.sha256, {"original": o.pk}),
                details={"size": o.size},
            )
        items.add_recording(user, case, rec.pk)
    total = sum(p.stat().st_size for p in originals.iterdir())
    say("warming up (a server process has its templates and WeasyPrint loaded already)")
    warm = services.create_case(user, "URN-WARM", "Warm-up")
    items.add_recording(user, warm, Recording.objects.order_by("pk").first().pk)  # type: ignore[union-attr]
    for _chunk in case_bundle(
        user, warm.pk, category="Investigation", text="warm", client=None
    ).chunks:
        pass
    say("zip -0 of the same files")
    out = folder / "plain.zip"
    started = time.perf_counter()
    subprocess.run(["zip", "-0", "-q", "-r", str(out), "."], cwd=originals, check=True)
    zip_s = time.perf_counter() - started
    say("overt's bundle, streamed to a file")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    made = case_bundle(user, case.pk, category="Investigation", text="bench", client=None)
    written = 0
    with open(folder / "bundle.zip", "wb") as fh:
        for chunk in made.chunks:
            fh.write(chunk)
            written += len(chunk)
    bundle_s = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    share = zip_s / bundle_s
    mib = 1024 * 1024
    return [
        f"| `zip -0` of the {recordings} originals ({total / mib:.0f} MiB) | {zip_s:.2f} s | "
        f"{total / mib / zip_s:.0f} MiB/s | 100% | {load()} |",
        f"| overt bundle of the same {recordings} (+ custody reports, MG6C PDF, verifier) | "
        f"{bundle_s:.2f} s | {written / mib / bundle_s:.0f} MiB/s | {share:.0%} | {load()} |",
        f"| peak RSS of the process: before the bundle {rss_before / 1024:.0f} MiB, after "
        f"{rss_after / 1024:.0f} MiB ({written / mib:.0f} MiB written) | | | | |",
    ]


def write_doc(text: str) -> None:
    doc = DOC.read_text()
    section = f"{HEADING}\n\n{text}\n"
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.S | re.M)
    doc = (
        pattern.sub(lambda _m: section + "\n", doc)
        if pattern.search(doc)
        else (doc.rstrip() + "\n\n" + section)
    )
    DOC.write_text(doc)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the 720p clip")
    parser.add_argument("--recordings", type=int, default=50)
    parser.add_argument("--clip-seconds", type=float, default=120.0, help="each original's length")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    for name in [k for k in os.environ if k.startswith("OVERT_")]:
        del os.environ[name]
    folder = Path(tempfile.mkdtemp(prefix="overt-bench-sharing-"))
    try:
        proxy = make_proxy_720p(folder, args.seconds)
        streams = bench_streams(proxy, args.streams, args.seconds)
        bundle = bench_bundle(folder, proxy, args.recordings, args.clip_seconds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    text = "\n".join(
        [
            f"`bench/sharing.py` on {os.cpu_count()} cores, shared with other engineers' work "
            f"(load at start and per row). 720p proxy of {args.seconds:.0f} s, 25 fps.",
            "",
            "| watermarked playback | first video fragment (worst) | speed vs real time (slowest)"
            " | mean | load |",
            "| --- | --- | --- | --- | --- |",
            *streams,
            "",
            "| disclosure bundle | time | throughput | of zip -0's speed | load |",
            "| --- | --- | --- | --- | --- |",
            *bundle,
        ]
    )
    print(text)
    if not args.no_write:
        write_doc(text)


if __name__ == "__main__":
    main()
