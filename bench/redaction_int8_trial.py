"""Trial (issue 15): an int8 CenterFace for the leak check, against the pinned float graph.

Run: .venv/bin/python bench/redaction_int8_trial.py CLIP [--frames 8] [--threads 1]
(CLIP: a 720p clip, e.g. one made by `bench/redaction.py --make-clips DIR`).

The pinned graph at 1280x736 (overt.redaction.engine.models.centerface_graph) is converted
to opset 13 and quantised statically (onnxruntime.quantization, QDQ, per-channel int8
weights, uint8 activations), calibrated on every 20th frame of CLIP. Both graphs then run
on the same frames; it prints CPU and wall ms per image and how closely the int8 heatmap
follows the float one (correlation). It measures speed only; whether an int8 graph can
screen frames for the float check (it passes every flagged face only at a threshold
that also passes nearly every frame of a clean copy: not adopted) is measured by
bench/redaction_leak_screener.py. Nothing is written outside a temporary folder.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

WIDTH, HEIGHT = 1280, 736


def calibration_frames(clip: Path, count: int) -> list:  # list of NCHW float32 arrays
    import av
    import numpy as np

    frames = []
    with av.open(str(clip)) as container:
        for number, frame in enumerate(container.decode(video=0)):
            if number % 20 == 0:
                rgb = frame.to_ndarray(format="rgb24", width=WIDTH, height=HEIGHT)
                frames.append(rgb.astype(np.float32).transpose(2, 0, 1)[None])
            if len(frames) >= count:
                break
    return frames


def timed(model: Path, frames: list, threads: int) -> tuple[float, float, object]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    session.run(None, {name: frames[0]})  # warm-up
    cpu, wall = time.process_time(), time.perf_counter()
    for array in frames:
        out = session.run(None, {name: array})
    count = len(frames)
    return (
        1000 * (time.perf_counter() - wall) / count,
        1000 * (time.process_time() - cpu) / count,
        out[0],
    )


def main() -> None:
    import numpy as np
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from overt.redaction.engine.models import centerface_graph

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    frames = calibration_frames(args.clip, args.frames)
    folder = Path(tempfile.mkdtemp(prefix="overt-int8-"))
    float_graph = folder / "float.onnx"
    float_graph.write_bytes(centerface_graph(WIDTH, HEIGHT))
    opset13 = folder / "float13.onnx"
    onnx.save(version_converter.convert_version(onnx.load(str(float_graph)), 13), str(opset13))
    prepared, int8 = folder / "prepared.onnx", folder / "int8.onnx"
    quant_pre_process(str(opset13), str(prepared))
    input_name = onnx.load(str(prepared)).graph.input[0].name

    class Frames(CalibrationDataReader):
        def __init__(self) -> None:
            self.left = iter(frames)

        def get_next(self) -> dict | None:
            array = next(self.left, None)
            return None if array is None else {input_name: array}

    quantize_static(
        str(prepared),
        str(int8),
        Frames(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
    )
    float_wall, float_cpu, float_heat = timed(float_graph, frames, args.threads)
    int8_wall, int8_cpu, int8_heat = timed(int8, frames, args.threads)
    correlation = np.corrcoef(np.ravel(float_heat), np.ravel(int8_heat))[0, 1]
    print(f"{len(frames)} images {WIDTH}x{HEIGHT}, {args.threads} thread(s)")
    print(f"float: {float_wall:.0f} ms wall, {float_cpu:.0f} ms CPU per image")
    print(f"int8:  {int8_wall:.0f} ms wall, {int8_cpu:.0f} ms CPU per image")
    print(f"heatmap correlation (last image): {correlation:.2f}")


if __name__ == "__main__":
    main()
