"""Where do overt's leaks come from? A per-scene, per-cause breakdown (issue 15).

Run: .venv/bin/python bench/redaction_diagnose.py [--seed 11] [--seconds 1.2]
         [--scenes sizes,shake] [--option threshold=0.15 ...]
         [--option detectors.FOCUS_WITH_TILES=0]

Runs `overt.redaction.engine.adhoc.redact_file` in process (no deface, no CLI start-up)
on the hard scenes of `overt.redaction.evalset_scenes` made with `--seed`, measures
every shown face with `overt.redaction.recognisability`, and puts each leaking face
(face x frame) in one cause, from the tracks the run wrote:

- never found: no track ever covered this face;
- before its track: the face is covered later, not yet (a track's first frames);
- after its track: covered earlier, no longer (a track that ended too soon);
- gap: covered before and after, not here;
- mask too small: a mask overlaps the face but covers under 90% of its box;
- covered, still leaks: masked over 90% and the detail survived anyway.

Seeds: the published figures use seed 7 (docs/benchmarks.md). Settings are chosen on
seed 11 only. Seed 23 was held out for the second round and, once looked at, retired;
seed 41 is held out from the third round on (run once, at the end, for the final
figures). Clips are cached under $TMPDIR/overt-diag, so a re-run only redacts and
measures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pickle
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

BANDS = ((0, 32, "20-31"), (32, 64, "32-63"), (64, 128, "64-127"), (128, 1e9, "128+"))


def clip_for(scene: str, seed: int, seconds: float):  # -> EvalClip
    from overt.redaction.evalset_scenes import make_scene_clip

    folder = Path(tempfile.gettempdir()) / "overt-diag" / f"seed{seed}-{seconds}"
    folder.mkdir(parents=True, exist_ok=True)
    meta = folder / f"{scene}.pickle"
    if meta.exists():
        return pickle.loads(meta.read_bytes())
    clip = make_scene_clip(folder / f"{scene}.mp4", scene, seed=seed, duration_s=seconds)
    meta.write_bytes(pickle.dumps(clip))
    return clip


def covered(face, masks) -> float:
    from overt.redaction.evalset import covered_fraction

    return covered_fraction(face, masks)


def options_from(pairs: list[str]):  # -> Options
    from overt.redaction.engine.adhoc import Options
    from overt.redaction.engine.tracking import TrackingSettings

    options = Options()
    tracking: dict[str, object] = {}
    for pair in pairs:
        key, _, raw = pair.partition("=")
        value: object = json.loads(raw) if raw not in ("none", "None") else None
        if key.startswith("detectors."):  # a module constant, e.g. FOCUS_WITH_TILES
            from overt.redaction.engine import detectors

            setattr(detectors, key.split(".", 1)[1], value)
        elif key.startswith("tracking."):
            tracking[key.split(".", 1)[1]] = value
        else:
            if key == "tiles" and value is not None:
                value = tuple(value)  # type: ignore[arg-type]
            setattr(options, key, value)
    if tracking:
        options.tracking = dataclasses.replace(TrackingSettings(), **tracking)  # type: ignore[arg-type]
    return options


def main() -> None:
    from overt.redaction.engine.adhoc import redact_file
    from overt.redaction.engine.manifest import tracks_from_document
    from overt.redaction.engine.tracking import Timeline
    from overt.redaction.evalset_scenes import SCENES
    from overt.redaction.recognisability import changed_frames, measure

    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--seconds", type=float, default=1.2)
    parser.add_argument("--scenes", default=",".join(SCENES))
    parser.add_argument("--option", action="append", default=[])
    parser.add_argument("--leak-check", action="store_true")
    args = parser.parse_args()
    options = options_from(args.option)
    options.leak_check = args.leak_check
    out_dir = Path(tempfile.mkdtemp(prefix="overt-diag-out-"))
    totals: Counter[str] = Counter()
    bands: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    leak_frames = face_frames = frames = 0
    cpu = wall = 0.0
    lines = []
    for scene in args.scenes.split(","):
        clip = clip_for(scene, args.seed, args.seconds)
        out = out_dir / f"{scene}.mp4"
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        outcome = redact_file(clip.path, out, options)
        wall += time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu += after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        frames += clip.frames
        found = 0
        findings = []
        if outcome.leak_check is not None:
            found = len(outcome.leak_check.findings)
            findings = outcome.leak_check.findings
        if scene == "noface":
            fp = len(changed_frames(clip.path, out))
            lines.append(f"{scene:10s} FP frames {fp}/{clip.frames} findings {found}")
            totals["noface FP frames"] += fp
            continue
        report = measure(clip.path, out, clip.truth, clip.detail)
        tracks = tracks_from_document(json.loads(Path(outcome.detections_path).read_text()))
        timeline = Timeline(tracks, options.margin)
        masks = []
        for t in clip.times:
            masks.append(
                [
                    (b[0] * clip.width, b[1] * clip.height, b[2] * clip.width, b[3] * clip.height)
                    for b, _ in timeline.at(t)
                ]
            )
        cover: dict[int, list[int]] = defaultdict(list)  # face -> frames masked >= 90%
        boxes = {}
        for index, gt in enumerate(clip.truth):
            for item in gt:
                boxes[(index, item.face)] = item.box
                if covered(item.box, masks[index]) >= 0.9:
                    cover[item.face].append(index)
        causes: Counter[str] = Counter()
        for v in report.verdicts:
            if v.shown:
                for lo, hi, name in BANDS:
                    if lo <= v.height < hi:
                        bands[name][1] += 1
                        bands[name][0] += 0 if v.leaked else 1
            if not v.leaked:
                continue
            box = boxes[(v.frame, v.face)]
            share = covered(box, masks[v.frame])
            seen = cover.get(v.face, [])
            if share >= 0.9:
                cause = "covered, still leaks"
            elif share > 0.05:
                cause = "mask too small"
            elif not seen:
                cause = "never found"
            elif v.frame < seen[0]:
                cause = "before its track"
            elif v.frame > seen[-1]:
                cause = "after its track"
            else:
                cause = "gap"
            size = next(name for lo, hi, name in BANDS if lo <= v.height < hi)
            if findings:
                t = clip.times[v.frame]
                x1, y1, x2, y2 = (
                    b / d for b, d in zip(box, (clip.width, clip.height) * 2, strict=True)
                )
                totals["leaks the check flagged"] += any(
                    f.start_s - 0.05 <= t <= f.end_s + 0.05
                    and f.box[0] < x2
                    and f.box[2] > x1
                    and f.box[1] < y2
                    and f.box[3] > y1
                    for f in findings
                )
            causes[f"{cause} [{size}]"] += 1
            totals[cause] += 1
        leak_frames += report.leak_frames
        face_frames += report.face_frames
        lines.append(
            f"{scene:10s} leak frames {report.leak_frames:3d}/{report.face_frames:3d} "
            f"({report.leak_share:5.1%}) findings {found}  "
            + ", ".join(f"{k}: {n}" for k, n in causes.most_common())
        )
    print(f"seed {args.seed}, {args.seconds} s per scene, options {args.option}")
    print("\n".join(lines))
    print(
        f"ALL leak frames {leak_frames}/{face_frames} ({leak_frames / max(1, face_frames):.1%}); "
        + " ".join(f"{k} {h / max(1, n):.3f} ({h}/{n})" for k, (h, n) in sorted(bands.items()))
    )
    hidden = sum(h for h, _ in bands.values())
    shown = sum(n for _, n in bands.values())
    print(f"recall {hidden / max(1, shown):.3f}; causes {dict(totals)}")
    print(
        f"CPU {1000 * cpu / frames:.0f} ms/frame, wall {frames / wall:.1f} fps, "
        f"load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
