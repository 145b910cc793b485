"""`overt-camera simulate`: a fleet of virtual cameras docking at once (issue 18).

Each virtual camera is registered by an admin's API token (`POST /api/devices/`, the
token's only use), then gets its own credential: by enrolment with an Ed25519 key of its
own when the server offers a one-time code, else the device token the answer carries. At
its dock time it reports status, fetches its config, and offloads K segments by tus
(with a signed manifest first when it has a key). Segments are pre-made: one random block
of the asked size, shared, with a unique tail per segment, so every segment is distinct
evidence yet the simulator hashes only the tail (a copied SHA-256 state) and is not
CPU-bound. It prints the protocol's JSON summary:

    {"cameras", "uploads", "bytes", "errors", "p50_s", "p95_s", "p99_s", "sha256s": [...]}

An upload counts once the server has catalogued it and its Overt-Sha256 equals what was
sent; anything else is an error (with the reason on stderr). It imports nothing of overt
or Django: only the standard library and cryptography, as the agent.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import random
import secrets
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .simulate_client import (
    SEGMENT_SECONDS,
    Camera,
    Link,
    Refused,
    Segments,
    enrol,
    retrying,
    rfc3339,
    upload,
)


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    sha256s: list[str] = field(default_factory=list)
    bytes: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, sha256: str, size: int, took: float) -> None:
        with self.lock:
            self.sha256s.append(sha256)
            self.latencies.append(took)
            self.bytes += size

    def fail(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)
        print(f"overt-camera simulate: {what}", file=sys.stderr)


def shift(
    server: str, camera: Camera, segments: Segments, sizes: list[int], chunk: int, out: Outcome
) -> None:
    """One camera at the dock: status, config, then its segments (of these sizes) in order."""
    count = len(sizes)
    link = Link(server, camera.token)
    try:
        recording = secrets.token_hex(16)
        camera.sequence += 1
        start = time.time() - count * SEGMENT_SECONDS - random.uniform(60, 6 * 3600)
        if camera.key is not None:  # a signing camera's shift began after its enrolment
            start = max(start, camera.enrolled_at)
        report = {
            "agent_version": "overt-camera-simulator",
            "battery_percent": 35.0,
            "charging": True,
            "free_bytes": 20 << 30,
            "pending_segments": count,
            "pending_bytes": sum(sizes),
            "clock_offset_s": 0.0,
            "last_error": None,
            "config_version": None,
            "reported_at": rfc3339(time.time()),
        }
        try:
            retrying(lambda: link.json("POST", "/api/device/status/", report))
            config = retrying(lambda: link.json("GET", "/api/device/config/"))
        except (Refused, OSError, http.client.HTTPException) as exc:
            out.fail(f"{camera.serial}: status/config: {exc}")
            config = None
        for index in range(count):
            began = time.monotonic()
            try:
                sha256, size = upload(
                    link,
                    camera,
                    segments,
                    recording,
                    index,
                    index == count - 1,
                    start + index * SEGMENT_SECONDS,
                    chunk,
                    sizes[index],
                )
            except (Refused, OSError, http.client.HTTPException, KeyError, ValueError) as exc:
                out.fail(f"{camera.serial} segment {index}: {exc}")
                continue
            out.ok(sha256, size, time.monotonic() - began)
        if config is not None:
            report.update(
                {
                    "pending_segments": 0,
                    "pending_bytes": 0,
                    "config_version": config.get("version"),
                    "reported_at": rfc3339(time.time()),
                }
            )
            try:
                retrying(lambda: link.json("POST", "/api/device/status/", report))
            except (Refused, OSError, http.client.HTTPException) as exc:
                out.fail(f"{camera.serial}: final status: {exc}")
    finally:
        link.close()


def segment_sizes(
    count: int, low_mb: float, high_mb: float | None = None, shape: float = 3.0, seed: int = 0
) -> list[int]:
    """The byte sizes of `count` segments: all `low_mb` MB (10**6 bytes) when `high_mb` is
    None or no more than `low_mb`; else whole MB from `low_mb` to `high_mb`, skewed towards
    short activations by a Pareto law of this shape truncated at `high_mb` (shape 3 on
    10-60 MB: mean 14.6 MB, median 13 MB, 3.4% of segments at 30 MB or more).

    The draw is stratified, not random: segment i takes the distribution's quantile at
    (i + 0.5) / count, so the total is known before the run (a bench checks its disk
    against it); the order is then shuffled with `seed`."""
    if high_mb is None or high_mb <= low_mb:
        return [max(1, int(low_mb * 1_000_000))] * count
    if low_mb <= 0 or shape <= 0 or math.ceil(low_mb) > math.floor(high_mb):
        raise ValueError(
            "a size range needs --segment-mb > 0, a whole MB up to --segment-mb-max, "
            "and --size-shape > 0"
        )
    ratio = (low_mb / high_mb) ** shape  # the truncated Pareto's mass beyond high_mb
    sizes = []
    for i in range(count):
        u = (i + 0.5) / count
        mb = low_mb * (1 - u * (1 - ratio)) ** (-1 / shape)
        mb = min(max(round(mb), math.ceil(low_mb)), math.floor(high_mb))
        sizes.append(mb * 1_000_000)
    random.Random(seed).shuffle(sizes)
    return sizes


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[rank], 4)


def simulate(args: argparse.Namespace) -> dict[str, Any]:
    prefix = args.prefix or f"SIM-{secrets.token_hex(3).upper()}"
    serials = [f"{prefix}-{i:05d}" for i in range(args.cameras)]
    out = Outcome()
    cameras: list[Camera] = []
    with ThreadPoolExecutor(max_workers=min(args.concurrency, 16)) as pool:

        def _enrol(serial: str) -> Camera | None:
            try:
                return enrol(args.server, args.token, serial, args.model)
            except (Refused, OSError, http.client.HTTPException, KeyError, ValueError) as exc:
                out.fail(f"{serial}: enrolment: {exc}")
                return None

        cameras = [c for c in pool.map(_enrol, serials) if c is not None]
    plan = segment_sizes(
        len(cameras) * args.segments,
        args.segment_mb,
        args.segment_mb_max,
        args.size_shape,
        args.seed,
    )
    sizes = {
        c.serial: plan[n * args.segments : (n + 1) * args.segments] for n, c in enumerate(cameras)
    }
    segments = Segments(plan or [1])
    chunk = max(64 * 1024, int(args.chunk_mb * 1_000_000))
    began = time.monotonic()
    due = {c.serial: random.uniform(0, args.dock_window) for c in cameras}

    def dock(camera: Camera) -> None:
        wait = due[camera.serial] - (time.monotonic() - began)
        if wait > 0:
            time.sleep(wait)
        shift(args.server, camera, segments, sizes[camera.serial], chunk, out)

    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        list(pool.map(dock, sorted(cameras, key=lambda c: due[c.serial])))
    return {
        "cameras": len(cameras),
        "uploads": len(out.sha256s),
        "bytes": out.bytes,
        "errors": len(out.errors),
        "p50_s": percentile(out.latencies, 50),
        "p95_s": percentile(out.latencies, 95),
        "p99_s": percentile(out.latencies, 99),
        "sha256s": out.sha256s,
        "wall_s": round(time.monotonic() - began, 3),
    }


def add_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--server", required=True, metavar="URL", help="overt's base URL")
    command.add_argument(
        "--token",
        required=True,
        metavar="API_TOKEN",
        help="an admin's API token (scope manage-fleet); used only to enrol",
    )
    command.add_argument("--cameras", type=int, required=True, metavar="N")
    command.add_argument("--segments", type=int, default=3, metavar="K", help="per camera")
    command.add_argument(
        "--segment-mb",
        type=float,
        default=1.0,
        metavar="MB",
        help="segment size (10**6 bytes); with --segment-mb-max, the smallest",
    )
    command.add_argument(
        "--segment-mb-max",
        type=float,
        default=None,
        metavar="MB",
        help="the largest segment: sizes then spread over the range, most of them short "
        "(whole MB, a truncated Pareto law of --size-shape, drawn by stratified quantiles "
        "so the total is fixed, shuffled by --seed)",
    )
    command.add_argument("--size-shape", type=float, default=3.0, metavar="ALPHA")
    command.add_argument("--seed", type=int, default=0, help="the shuffle of the sizes")
    command.add_argument(
        "--dock-window",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="cameras dock at random times over this span (default: at once)",
    )
    command.add_argument(
        "--concurrency", type=int, default=32, metavar="N", help="cameras offloading at once"
    )
    command.add_argument(
        "--chunk-mb", type=float, default=8.0, metavar="MB", help="bytes per tus PATCH"
    )
    command.add_argument("--prefix", default="", help="serial prefix (default SIM-<random>)")
    command.add_argument("--model", default="overt-sim", help="camera model to register")
    command.add_argument("--json", action="store_true", help="print the summary as JSON")
    command.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for name in ("cameras", "segments", "concurrency"):
        if getattr(args, name) < 1:
            print(f"overt-camera simulate: --{name} must be at least 1", file=sys.stderr)
            return 2
    if args.segment_mb <= 0 or args.dock_window < 0:
        print("overt-camera simulate: --segment-mb must be > 0, --dock-window ≥ 0", file=sys.stderr)
        return 2
    try:
        segment_sizes(1, args.segment_mb, args.segment_mb_max, args.size_shape)  # checked early
    except ValueError as exc:
        print(f"overt-camera simulate: {exc}", file=sys.stderr)
        return 2
    try:
        summary = simulate(args)
    except ValueError as exc:
        print(f"overt-camera simulate: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(
            json.dumps(
                {
                    k: summary[k]
                    for k in (
                        "cameras",
                        "uploads",
                        "bytes",
                        "errors",
                        "p50_s",
                        "p95_s",
                        "p99_s",
                        "sha256s",
                    )
                }
            )
        )
    else:
        print(
            f"{summary['cameras']} cameras, {summary['uploads']} uploads, "
            f"{summary['bytes']} bytes, {summary['errors']} errors in {summary['wall_s']} s; "
            f"latency p50 {summary['p50_s']} s, p95 {summary['p95_s']} s, "
            f"p99 {summary['p99_s']} s"
        )
    return 0 if summary["errors"] == 0 else 1


def register(commands: Any) -> None:
    """Add `simulate` to the `overt-camera` command (its OPTIONAL_COMMANDS hook)."""
    add_arguments(commands.add_parser("simulate", help="a fleet of virtual cameras docking"))


def main(argv: Sequence[str] | None = None) -> int:
    top = argparse.ArgumentParser(prog="overt-camera simulate", description=__doc__.split("\n")[0])
    add_arguments(top)
    args = top.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
