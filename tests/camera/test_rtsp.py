"""The `rtsp://` source against a real RTSP server (aio-rtsp-toolkit's file server, RTSP
over TCP, in its own process): the agent records from it, and the segment's video is the
camera's bitstream copied, never re-encoded: the same SPS and PPS, and every slice NAL unit
byte for byte a run of the served file's."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from .support_camera import AgentProcess, manifests, offline_home

SLICES = {1, 5}  # coded slice NAL unit types (non-IDR, IDR)
SERVER = "import asyncio, sys, aio_rtsp_toolkit.server as s; " + (
    "asyncio.run(s.serve(sys.argv[1], host='127.0.0.1', port=int(sys.argv[2])))"
)


def _clip(path: Path, frames: int = 150) -> None:
    """A 320x240 H.264 clip, keyframe each second; the moving lines make every frame
    differ, so a run of slices matches the source in one place only."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.options = {"preset": "ultrafast", "x264-params": "keyint=30:min-keyint=30"}
        for index in range(frames):
            image = np.zeros((240, 320, 3), np.uint8)
            image[:, (index * 3) % 320] = 255
            image[(index * 2) % 240, :] = 128
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def _nal_units(data: bytes) -> Iterator[bytes]:
    """NAL units of an MP4 (AVCC, 4-byte lengths) sample."""
    at = 0
    while at + 4 <= len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        yield data[at + 4 : at + 4 + size]
        at += 4 + size


def _slices(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        return [
            nal
            for packet in container.demux(video)
            if packet.size
            for nal in _nal_units(bytes(packet))
            if nal[0] & 0x1F in SLICES
        ]


def _parameter_sets(path: Path) -> tuple[int, int, bytes, bytes]:
    """Width, height, SPS and PPS from the avcC record."""
    with av.open(str(path)) as container:
        context = container.streams.video[0].codec_context
        record = bytes(context.extradata)
    assert record[0] == 1, "not an avcC record"
    sps_len = int.from_bytes(record[6:8], "big")
    sps = record[8 : 8 + sps_len]
    pps_at = 8 + sps_len + 1
    pps = record[pps_at + 2 : pps_at + 2 + int.from_bytes(record[pps_at : pps_at + 2], "big")]
    return context.width, context.height, sps, pps


def _free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def rtsp_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    media = tmp_path / "media"
    media.mkdir()
    clip = media / "helmet.mp4"
    _clip(clip)
    port = _free_tcp_port()
    log = (tmp_path / "rtsp-server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(media), str(port)], stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, "the RTSP server exited"
                time.sleep(0.1)
        yield f"rtsp://127.0.0.1:{port}/helmet.mp4?play_count=0", clip
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def test_the_agent_records_an_rtsp_camera_by_copying_its_packets(
    tmp_path: Path, rtsp_server: tuple[str, Path]
) -> None:
    url, clip = rtsp_server
    home = offline_home(tmp_path / "home", "HELMET-1", buffer_seconds=2)
    agent = AgentProcess(home, source=url).start()
    try:
        agent.wait_buffered(2)
        status = agent.trigger("start", "rtsp test").json()
        assert status["state"] == "recording" and status["pre_event_seconds"] >= 1
        agent.wait_for(lambda s: s["pre_event_seconds"] is not None, "recording")
        time.sleep(4)
        assert agent.trigger("stop", "rtsp test").status_code == 200
    finally:
        assert agent.stop() == 0
    (record,) = manifests(home)
    segment = home.spool / f"HELMET-1-{record['device_sequence']:06d}-0000.mp4"
    assert record["final"] and not record["interrupted"]
    # The codec parameters the camera sent, unchanged.
    assert _parameter_sets(segment) == _parameter_sets(clip)
    # Every slice byte for byte one of the served file's, in order (the server loops the
    # file, so the run may wrap around its end): copied, never re-encoded.
    recorded, source = _slices(segment), _slices(clip)
    assert len(recorded) >= 5 * 30
    looped = source * (len(recorded) // len(source) + 2)
    start = looped.index(recorded[0])
    assert looped[start : start + len(recorded)] == recorded
