"""Where a 720p redaction's time goes: each stage alone, wall and CPU ms per frame.

Run (under /tmp/team/bin/heavy; a clip from overt.redaction.evalset):
    .venv/bin/python bench/redaction_profile.py CLIP [STAGE ...]
with stages among decode encode camera mask detect leak render adhoc (default: all).
Outputs go to $TMPDIR/overt-profile-*. Stages run one after another in this process;
their CPU adds up, their wall does not (docs/benchmarks.md, "Where the time goes").
"""

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
OUT = Path(tempfile.mkdtemp(prefix="overt-profile-"))
import av  # noqa: E402  (after the path)

CLIP = sys.argv[1]
which = sys.argv[2:] or ["all"]


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class T:
    def __init__(self, name, frames):
        self.name, self.frames = name, frames

    def __enter__(self):
        self.w, self.c = time.perf_counter(), cpu()
        return self

    def __exit__(self, *a):
        w, c = time.perf_counter() - self.w, cpu() - self.c
        per = 1000 / self.frames
        print(
            f"{self.name:50s} wall {w:7.2f}s cpu {c:7.2f}s  {w * per:7.1f} ms/f wall  "
            f"{c * per:7.1f} ms/f cpu  load {os.getloadavg()[0]:.1f}",
            flush=True,
        )


def frames_of(path):
    with av.open(path) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        return [f for f in c.decode(s)]


with av.open(CLIP) as c:
    N = c.streams.video[0].frames
print("frames", N)


def want(k):
    return "all" in which or k in which


if want("decode"):
    with T("decode (thread AUTO)", N):
        with av.open(CLIP) as c:
            s = c.streams.video[0]
            s.thread_type = "AUTO"
            for _frame in c.decode(s):
                pass

frames = frames_of(CLIP)

if want("encode"):
    from overt.redaction.engine.output import add_video

    for preset in ("ultrafast", "superfast", "veryfast", "faster"):
        with T(f"encode libx264 {preset}", N):
            with av.open(CLIP) as inp:
                vin = inp.streams.video[0]
                with av.open(OUT / f"enc-{preset}.mp4", "w") as out:
                    vout = add_video(out, vin, 1280, 720, 0, preset, 23)
                    for i, f in enumerate(frames):
                        g = f
                        g.pts = i
                        g.time_base = vin.time_base
                        g.pict_type = 0
                        out.mux(vout.encode(g))
                    out.mux(vout.encode(None))
        print("   size", os.path.getsize(OUT / f"enc-{preset}.mp4"))

if want("camera"):
    from overt.redaction.engine.camera import CameraMotion
    from overt.redaction.engine.detectors import Picture

    cam = CameraMotion()
    with T("camera motion (gray 320 + phaseCorrelate)", N):
        for i, f in enumerate(frames):
            cam.offer(Picture(f, width=1280, height=720, time=i / 25))

if want("mask"):
    from overt.redaction.engine.masking import Masker

    m = Masker("blur", 1280, 720, 0)
    boxes = [
        ((0.1, 0.1, 0.25, 0.4), "face"),
        ((0.5, 0.2, 0.6, 0.4), "face"),
        ((0.7, 0.5, 0.75, 0.6), "face"),
    ]
    with T("mask blur 3 boxes", N):
        for f in frames:
            m.apply(f, boxes)

if want("detect"):
    from overt.redaction.engine.detectors import CenterFaceDetector, Picture

    for threads in (2, 1):
        d = CenterFaceDetector(max_width=3840, threshold=0.1, device="cpu", threads=threads)
        for w, h in ((640, 384), (1280, 736), (1408, 800), (960, 544), (512, 288)):
            sample = frames[:: max(1, N // 20)][:20]
            img = [Picture(f, width=1280, height=720).rgb(w, h) for f in sample]
            d.detect_array(img[0])  # session
            with T(f"centerface {w}x{h} threads={threads} (per call)", len(img)):
                for im in img:
                    d.detect_array(im)
    with T("picture.rgb 640x384 (reformat)", 50):
        for f in frames[:50]:
            Picture(f, width=1280, height=720).rgb(640, 384)
    with T("picture.rgb 1280x720 (reformat)", 50):
        for f in frames[:50]:
            Picture(f, width=1280, height=720).rgb(1280, 720)
    with T("picture.rgb 1280x736 (reformat)", 50):
        for f in frames[:50]:
            Picture(f, width=1280, height=720).rgb(1280, 736)

if want("leak"):
    from overt.redaction.engine.leakcheck import check_copy

    with T("leak check (check_copy, stride 2, full res)", N):
        r = check_copy(CLIP)
    print("   findings", len(r.findings))

if want("render"):
    from overt.redaction.engine.render import render_video
    from overt.redaction.engine.tracking import Sample, Track

    tr = [
        Track(
            1,
            "face",
            "centerface",
            [Sample(0.0, (0.1, 0.1, 0.25, 0.4), 0.9), Sample(N / 25, (0.5, 0.2, 0.65, 0.5), 0.9)],
            0.0,
            N / 25,
        )
    ]
    with T("render_video planned (1 track)", N):
        render_video(CLIP, OUT / "planned.mp4", tr)

if want("adhoc"):
    from overt.redaction.engine.adhoc import Options, redact_file

    for label, opts in (
        ("coverage", Options()),
        ("fast 640 no tiles", Options(detect_width=640, tiles=None)),
    ):
        with T(f"redact_file {label}", N):
            o = redact_file(CLIP, OUT / f"adhoc-{label[:4]}.mp4", opts)
        print("   detect", o.detection.seconds if o.detection else None, "render", o.render.seconds)
