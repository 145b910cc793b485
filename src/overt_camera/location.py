"""Location fixes for manifests: gpsd (its JSON socket), NMEA sentences from a serial
port or a file ($GPRMC/$GNRMC, $GPGGA/$GNGGA), or a synthetic track (a slow circle
around Westminster, for tests and demos). Fixes are kept for the last hour; a segment's
manifest carries those inside its span."""

from __future__ import annotations

import json
import logging
import math
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from .manifest import Fix

log = logging.getLogger(__name__)
KEEP_SECONDS = 3600.0
CENTRE = (51.5007, -0.1246)  # Westminster


class Location:
    def __init__(self, spec: str) -> None:
        self.spec = spec
        self._fixes: deque[Fix] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    def start(self) -> None:
        if self.spec == "none":
            return
        target: Callable[[], None] = self._gpsd
        if self.spec == "synthetic":
            target = self._synthetic
        elif self.spec.startswith("nmea:"):
            target = self._nmea
        self._thread = threading.Thread(target=self._guard(target), name="location", daemon=True)
        self._thread.start()

    def _guard(self, target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except (OSError, ValueError) as exc:
                self.error = f"location {self.spec}: {exc}"
                log.warning("%s", self.error)

        return run

    def add(self, fix: Fix) -> None:
        with self._lock:
            self._fixes.append(fix)
            while self._fixes and self._fixes[0].at < fix.at - KEEP_SECONDS:
                self._fixes.popleft()

    def fixes(self, start: float, end: float) -> list[Fix]:
        with self._lock:
            return [f for f in self._fixes if start <= f.at <= end]

    def stop(self) -> None:
        self._stop.set()

    def _synthetic(self) -> None:
        while not self._stop.wait(1.0):
            now = time.time()
            angle = (now % 600) / 600 * 2 * math.pi  # one lap each 10 minutes, ~300 m radius
            lat = CENTRE[0] + 0.0027 * math.sin(angle)
            lon = CENTRE[1] + 0.0043 * math.cos(angle)
            self.add(Fix(now, round(lat, 6), round(lon, 6), 5.0))

    def _nmea(self) -> None:
        path = Path(self.spec[5:])
        with path.open("r", encoding="ascii", errors="replace") as handle:
            while not self._stop.is_set():
                line = handle.readline()
                if not line:
                    time.sleep(0.2)  # a file at its end, or a quiet port
                    continue
                fix = parse_nmea(line.strip(), time.time())
                if fix is not None:
                    self.add(fix)

    def _gpsd(self) -> None:
        _, _, rest = self.spec.partition(":")
        host, _, port = rest.rpartition(":") if rest else ("127.0.0.1", "", "2947")
        with socket.create_connection((host or "127.0.0.1", int(port or 2947)), timeout=5) as sock:
            sock.sendall(b'?WATCH={"enable":true,"json":true}\n')
            sock.settimeout(1.0)
            buffer = b""
            while not self._stop.is_set():
                try:
                    chunk = sock.recv(4096)
                except TimeoutError:
                    continue
                if not chunk:
                    raise OSError("gpsd closed the connection")
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    fix = parse_gpsd(line, time.time())
                    if fix is not None:
                        self.add(fix)


def _checksum_ok(sentence: str) -> bool:
    if "*" not in sentence:
        return True
    body, _, given = sentence[1:].partition("*")
    value = 0
    for char in body:
        value ^= ord(char)
    return given[:2].upper() == f"{value:02X}"


def _degrees(value: str, hemisphere: str) -> float:
    raw = float(value)
    whole = int(raw // 100)
    result = whole + (raw - whole * 100) / 60
    return -result if hemisphere in ("S", "W") else result


def parse_nmea(sentence: str, now: float) -> Fix | None:
    """A fix from an RMC (valid) or GGA (quality > 0) sentence; None for anything else."""
    if not sentence.startswith("$") or not _checksum_ok(sentence):
        return None
    fields = sentence.split("*")[0].split(",")
    kind = fields[0][3:]
    try:
        if kind == "RMC" and len(fields) > 6 and fields[2] == "A":
            return Fix(
                now,
                round(_degrees(fields[3], fields[4]), 6),
                round(_degrees(fields[5], fields[6]), 6),
            )
        if kind == "GGA" and len(fields) > 8 and fields[6] not in ("", "0"):
            hdop = float(fields[8]) if fields[8] else None
            return Fix(
                now,
                round(_degrees(fields[2], fields[3]), 6),
                round(_degrees(fields[4], fields[5]), 6),
                round(hdop * 5.0, 1) if hdop is not None else None,
            )
    except ValueError:
        return None
    return None


def parse_gpsd(line: bytes, now: float) -> Fix | None:
    try:
        report = json.loads(line)
    except ValueError:
        return None
    if not isinstance(report, dict) or report.get("class") != "TPV" or report.get("mode", 0) < 2:
        return None
    if "lat" not in report or "lon" not in report:
        return None
    accuracy = report.get("eph") or report.get("epx")
    return Fix(
        now,
        float(report["lat"]),
        float(report["lon"]),
        float(accuracy) if accuracy is not None else None,
    )
