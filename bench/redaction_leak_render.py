"""Benchmark (issue 15): the render path with its leak check, float-only against the
int8-screened check, against the footage's own length.

Run (after `bench/redaction.py --make-clips DIR --clips 2 --seconds 8` and, for each
clip and setting, `overt redact DIR/eval-N.mp4 -o DIR/out/eval-N.overt-SETTING.mp4
--setting SETTING`, which writes the detections beside the copy, as `--speed` does):

  /tmp/team/bin/quiet .venv/bin/python bench/redaction_leak_render.py DIR \
      [--variant coverage:2:float --variant coverage:2:screen=0.03 ...]

A variant is SETTING:LEAK_STRIDE:CHECK, CHECK being `float` (overt's leak check as it
is: the float CenterFace on every checked frame) or `screen=T` (the int8 screener of
bench/redaction_leak_screener.py at threshold T first, the float graph only on frames
it passes; patched into the command, not part of overt). Each run is what
`bench/redaction.py --speed` times for the render path: `overt redact CLIP --detections
FILE --leak-check --setting SETTING --leak-stride N` in a fresh process (start-up and
model loading included), wall and CPU (user + system of the process). The variants'
order alternates clip by clip. The screener graph is built before the timed runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
OVERT_PY = ROOT / ".venv" / "bin" / "python"
OVERT_REDACT = "import sys; from overt.cli.redact import redact; redact(sys.argv[1:])"
SCREENED_REDACT = (
    "import os, sys; sys.path.insert(0, os.environ['BENCH_DIR']); "
    "import redaction_leak_screener as s; s.patch_leak_check(float(os.environ['SCREEN_T'])); "
    "from overt.cli.redact import redact; redact(sys.argv[1:])"
)
DEFAULT_VARIANTS = (
    "coverage:2:float",
    "coverage:2:screen=0.03",
    "fast:4:float",
    "fast:2:float",
    "fast:2:screen=0.03",
)


def load() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def run(
    clip: Path, variant: str, out: Path
) -> tuple[float, float, dict[str, Any], tuple[int, int] | None]:
    setting, stride, check = variant.split(":")
    detections = clip.parent / "out" / f"{clip.stem}.overt-{setting}.detections.json"
    target = out / f"{clip.stem}.{setting}-{stride}-{check}.mp4"
    screened = check.startswith("screen=")
    code = SCREENED_REDACT if screened else OVERT_REDACT
    command = [str(OVERT_PY), "-c", code, str(clip), "-o", str(target), "--json"]
    command += ["--detections", str(detections), "--leak-check", "--setting", setting]
    command += ["--leak-stride", stride]
    env = {**os.environ, "BENCH_DIR": str(ROOT / "bench")}
    if screened:
        env["SCREEN_T"] = check.split("=", 1)[1]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)}:\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    passed: tuple[int, int] | None = None
    for line in done.stderr.splitlines():
        if line.startswith("screener: "):
            counts = json.loads(line.split(": ", 1)[1])
            passed = (sum(c["passed"] for c in counts), sum(c["screened"] for c in counts))
    return wall, cpu, json.loads(done.stdout), passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--variant", action="append", default=None)
    args = parser.parse_args()
    variants = args.variant or list(DEFAULT_VARIANTS)
    clips = sorted(args.folder.glob("eval-*.mp4"))
    sys.path.insert(0, str(ROOT / "bench"))
    from redaction_leak_screener import screener_path

    screener_path()  # built once, untimed
    out = Path(tempfile.mkdtemp(prefix="overt-leak-render-"))
    rows: dict[str, list[tuple[int, float, float, int, tuple[int, int] | None]]] = {
        v: [] for v in variants
    }
    start = f"{time.strftime('%H:%M:%S', time.gmtime())} UTC, load {load()}"
    for k, clip in enumerate(clips):
        frames = int(clip.with_suffix(".frames").read_text())
        for variant in variants if k % 2 == 0 else variants[::-1]:
            wall, cpu, data, passed = run(clip, variant, out)
            check = data.get("leak_check") or {}
            rows[variant].append((frames, wall, cpu, len(check.get("findings", [])), passed))
            print(f"{variant} {clip.name}: {wall:.1f} s wall (load {load()})", file=sys.stderr)
    end = f"{time.strftime('%H:%M:%S', time.gmtime())} UTC, load {load()}"
    print(f"Start {start}; end {end}. {len(clips)} clips, 1280x720, 25 fps.\n")
    print(
        "| setting | leak stride | check | footage s | wall s | CPU s | wall / footage "
        "| findings | frames passed to float / screened |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for variant, runs in rows.items():
        setting, stride, check = variant.split(":")
        footage = sum(r[0] for r in runs) / 25.0
        wall = sum(r[1] for r in runs)
        cpu = sum(r[2] for r in runs)
        found = sum(r[3] for r in runs)
        screens = [r[4] for r in runs if r[4] is not None]
        share = f"{sum(c[0] for c in screens)} / {sum(c[1] for c in screens)}" if screens else "-"
        print(
            f"| {setting} | {stride} | {check} | {footage:.1f} | {wall:.1f} | {cpu:.1f} | "
            f"{wall / footage:.2f} | {found} | {share} |"
        )


if __name__ == "__main__":
    main()
