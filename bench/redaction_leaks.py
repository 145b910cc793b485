"""Benchmark (issue 15): does a face stay recognisable? overt against deface 1.5.0 at full
resolution and at --scale 640x360, in one run, on the hard evaluation set.

Run: .venv/bin/python bench/redaction_leaks.py [--seconds 2] [--scenes sizes,night]
Prints a Markdown section for docs/benchmarks.md and writes the raw figures as JSON.

Clips: one per scene of overt.redaction.evalset_scenes (1280x720, 25 fps, H.264): real
faces from scikit-image (astronaut, cameraman, LFW) 20-250 px, entering at every edge,
tilted / turned / looking down, shrinking and approaching, a crowd of 12, head-mounted
shake with motion blur and pans, night with noise and a torch, occluders, and a no-face
clip with texture, lettering and a burned-in overlay.

Tools, each as a user runs it, a fresh process per clip (start-up included):
- deface 1.5.0 at full resolution: `deface CLIP -o OUT --ep CPUExecutionProvider`
- deface 1.5.0 scaled: the same with `--scale 640x360`
- overt, coverage setting (the default): `overt redact CLIP -o OUT --json --setting coverage`
- overt, fast setting: `overt redact CLIP -o OUT --json --setting fast` (640 px, no tiles)
plus overt's leak check (`check_copy`, full resolution, every other frame) on the
coverage setting's output, timed separately: a project render runs both.

Measures (overt.redaction.recognisability): leak frames = frames with a shown face in
which some face keeps >= 30% of its band-pass energy / frames with a shown face;
recall by face height = faces not recognisable afterwards / faces shown; false-positive
frames = frames of the no-face clip in which any 32 px block was visibly altered.
deface needs its own venv (see bench/redaction.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
DEFACE = ROOT / "bench" / ".venv-deface" / "bin" / "deface"
OVERT_PY = ROOT / ".venv" / "bin" / "python"
# The redact command itself, without the rest of the CLI's start-up.
OVERT_REDACT = "import sys; from overt.cli.redact import redact; redact(sys.argv[1:])"
BANDS = ((0, 32, "20-31 px"), (32, 64, "32-63 px"), (64, 128, "64-127 px"), (128, 1e9, "128+ px"))


def load() -> str:
    return ", ".join(f"{v:.1f}" for v in os.getloadavg())


def timed(command: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)}:\n{done.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


TOOLS = {
    "deface full resolution": lambda c, o: [
        str(DEFACE),
        c,
        "-o",
        o,
        "--ep",
        "CPUExecutionProvider",
    ],
    "deface --scale 640x360": lambda c, o: [
        *[str(DEFACE), c, "-o", o, "--ep", "CPUExecutionProvider"],
        *["--scale", "640x360"],
    ],
    "overt (coverage, default)": lambda c, o: [
        *[str(OVERT_PY), "-c", OVERT_REDACT, c, "-o", o, "--json", "--setting", "coverage"],
    ],
    "overt (fast)": lambda c, o: [
        *[str(OVERT_PY), "-c", OVERT_REDACT, c, "-o", o, "--json", "--setting", "fast"],
    ],
}


def main() -> None:
    from overt.redaction.engine.leakcheck import check_copy
    from overt.redaction.evalset_scenes import SCENES, make_scene_clip
    from overt.redaction.recognisability import LeakReport, changed_frames, measure

    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    # 7 is the published set; bench/redaction_diagnose.py tunes on 11 and holds out 41.
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scenes", default=",".join(SCENES))
    parser.add_argument("--json-out", default=str(Path(tempfile.gettempdir()) / "leaks.json"))
    args = parser.parse_args()
    scenes = args.scenes.split(",")
    folder = Path(tempfile.mkdtemp(prefix="overt-bench-leaks-"))
    clips = {
        s: make_scene_clip(folder / f"{s}.mp4", s, duration_s=args.seconds, seed=args.seed)
        for s in scenes
    }
    results: dict[str, dict] = {}
    loads = {"start": load()}
    for tool, command in TOOLS.items():
        report, frames, wall, cpu, fp = LeakReport(), 0, 0.0, 0.0, 0
        per_scene: dict[str, str] = {}
        for scene, clip in clips.items():
            out = folder / f"{scene}.{len(results)}.mp4"
            print(f"[bench] {tool} on {scene} (load {load()})", file=sys.stderr, flush=True)
            w, c = timed(command(clip.path, str(out)))
            wall, cpu, frames = wall + w, cpu + c, frames + clip.frames
            if scene == "noface":
                changed = len(changed_frames(clip.path, out))
                fp += changed
                per_scene[scene] = f"{changed} FP"
            else:
                measured = measure(clip.path, out, clip.truth, clip.detail)
                report.add(measured)
                per_scene[scene] = f"{measured.leak_share:.0%}"

        results[tool] = {
            "fps": frames / wall,
            "cpu_ms_per_frame": 1000 * cpu / frames,
            "wall_s": wall,
            "frames": frames,
            "leak_frames": report.leak_frames,
            "face_frames": report.face_frames,
            "recall": report.recall(),
            "bands": {name: report.recall(lo, hi) for lo, hi, name in BANDS},
            "fp_frames": fp,
            "load_after": load(),
            "scenes": per_scene,
        }
    # The leak check on overt's default output, as a project render runs it.
    check_s, checked_frames, findings = 0.0, 0, 0
    for scene in clips:
        copy = folder / f"{scene}.2.mp4"
        started = time.perf_counter()
        check = check_copy(copy)
        check_s += time.perf_counter() - started
        checked_frames += check.frames
        findings += len(check.findings)
    results["leak check"] = {"seconds": check_s, "frames": checked_frames, "findings": findings}
    loads["end"] = load()
    footage_s = sum(c.frames / c.fps for c in clips.values())
    Path(args.json_out).write_text(
        json.dumps({"results": results, "loads": loads, "footage_s": footage_s}, indent=1)
    )
    print(markdown(results, loads, footage_s, clips))


def markdown(results: dict, loads: dict, footage_s: float, clips: dict) -> str:
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; "
        f"load average (1, 5, 15 min) at the start {loads['start']}, at the end {loads['end']}.",
        f"Clips: {len(clips)} scenes x {next(iter(clips.values())).frames} frames, 1280x720, "
        f"25 fps ({footage_s:.0f} s of footage).",
        "",
        "| tool | leak frames | recall | "
        + " | ".join(n for *_, n in BANDS)
        + " | FP frames (no-face clip) | fps | CPU ms/frame | load after |",
        "|---|---:|---:|" + "---:|" * len(BANDS) + "---:|---:|---:|---|",
    ]
    for tool, r in results.items():
        if tool == "leak check":
            continue
        hidden, shown = r["recall"]
        bands = " | ".join(f"{h / n:.3f} ({h}/{n})" if n else "-" for h, n in r["bands"].values())
        lines.append(
            f"| {tool} | {r['leak_frames'] / max(1, r['face_frames']):.1%} "
            f"({r['leak_frames']}/{r['face_frames']}) | {hidden / max(1, shown):.3f} | {bands} | "
            f"{r['fp_frames']} | {r['fps']:.1f} | {r['cpu_ms_per_frame']:.0f} | {r['load_after']} |"
        )
    tools = [t for t in results if t != "leak check"]
    lines += [
        "",
        "Leak frames by scene (`noface`: false-positive frames):",
        "",
        "| scene | " + " | ".join(tools) + " |",
        "|---|" + "---:|" * len(tools),
    ]
    for scene in next(iter(results.values()))["scenes"]:
        lines.append(
            f"| {scene} | " + " | ".join(results[t]["scenes"][scene] for t in tools) + " |"
        )
    check = results["leak check"]
    default = results["overt (coverage, default)"]
    lines += [
        "",
        f"Leak check on overt's default output: {check['seconds']:.1f} s for {check['frames']} "
        f"frames ({check['frames'] / check['seconds']:.1f} fps), {check['findings']} findings. "
        f"Render plus leak check: {default['wall_s'] + check['seconds']:.0f} s for "
        f"{footage_s:.0f} s of footage.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
