"""The retention clock: real UTC time, or a simulated one for tests and what-if runs.

Everything the retention stage stamps or compares (hold times, recycle dates, purge
dates, certificate times) reads `now()`. Tests replace it with `simulate(start)`, which
returns a clock they advance by hand; the whole process sees the same simulated time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_lock = threading.Lock()
_simulated: SimulatedClock | None = None


class SimulatedClock:
    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a simulated clock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("the retention clock never runs backwards")
        with _lock:
            self._now += delta
        return self._now

    def set(self, when: datetime) -> datetime:
        return self.advance(when.astimezone(UTC) - self._now)


def now() -> datetime:
    clock = _simulated
    return clock.now() if clock is not None else datetime.now(UTC)


def is_simulated() -> bool:
    return _simulated is not None


@contextmanager
def simulate(start: datetime) -> Iterator[SimulatedClock]:
    """Run the retention stage on a simulated clock starting at `start`."""
    global _simulated
    with _lock:
        if _simulated is not None:
            raise RuntimeError("a simulated retention clock is already running")
        clock = _simulated = SimulatedClock(start)
    try:
        yield clock
    finally:
        with _lock:
            _simulated = None
