"""Trigger transports: anything that asks the agent to start (or, for a manual control,
stop) a recording. Built in: the local control API (control.py), peer start (peer.py)
and a GPIO button through gpiod. Others (BLE holster sensors, a vehicle's light bar bus)
are plugins: a class named in the `trigger_plugins` setting as `module:Class`, made with
the agent's config, given `emit` to call.

Rules the agent applies whatever the transport: a sensor or a peer may start a recording
but never stop one; stop is manual (control API, GPIO button) or the timer.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .config import AgentConfig

log = logging.getLogger(__name__)
STOPPING_KINDS = ("manual", "gpio", "timer")
KINDS = ("manual", "gpio", "sensor", "peer", "timer")


@dataclass(frozen=True)
class TriggerRequest:
    action: str  # start | stop
    kind: str  # manual | gpio | sensor | peer | timer
    reason: str = ""
    source: str | None = None  # the sensor or plugin
    peer_serial: str | None = None


class TriggerRefused(ValueError):
    """A request the rules refuse (a sensor stop, an unknown action)."""


class TriggerConflict(RuntimeError):
    """A request the agent's state refuses (stop when not recording, start on a full disk)."""


def check(request: TriggerRequest) -> None:
    if request.action not in ("start", "stop"):
        raise TriggerRefused(f"action must be start or stop, not {request.action!r}")
    if request.kind not in KINDS:
        raise TriggerRefused(f"kind must be one of {', '.join(KINDS)}, not {request.kind!r}")
    if request.action == "stop" and request.kind not in STOPPING_KINDS:
        raise TriggerRefused(
            f"a {request.kind} event cannot stop a recording: stop is manual or timed"
        )
    if len(request.reason) > 500 or (request.source and len(request.source) > 100):
        raise TriggerRefused("reason (500) or source (100 characters) is too long")


Emit = Callable[[TriggerRequest], Any]


class TriggerTransport(Protocol):
    def start(self, emit: Emit) -> None: ...

    def stop(self) -> None: ...


def load_plugins(config: AgentConfig) -> list[TriggerTransport]:
    plugins: list[TriggerTransport] = []
    for spec in config.trigger_plugins:
        module_name, _, class_name = spec.partition(":")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as exc:
            raise TriggerRefused(f"trigger plugin {spec!r} cannot be loaded: {exc}") from exc
        plugins.append(cls(config))
    return plugins


class GpioButton:
    """A record button on a GPIO line: each press (falling edge) toggles start and stop."""

    def __init__(self, chip: str, line: int) -> None:
        self.chip, self.line = chip, line
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.recording: Callable[[], bool] = lambda: False

    def start(self, emit: Emit) -> None:
        if not Path(self.chip).exists():
            raise TriggerRefused(f"gpio_chip {self.chip}: no such device (no record button)")
        try:
            import gpiod  # type: ignore[import-not-found]  # optional: not on every board
        except ImportError as exc:
            raise TriggerRefused(
                "gpio_chip is set but the gpiod Python module is not installed: "
                "install python3-libgpiod (or pip install gpiod) to use a record button"
            ) from exc
        settings = gpiod.LineSettings(
            direction=gpiod.line.Direction.INPUT,
            edge_detection=gpiod.line.Edge.FALLING,
            bias=gpiod.line.Bias.PULL_UP,
            debounce_period=__import__("datetime").timedelta(milliseconds=50),
        )
        request = gpiod.request_lines(
            self.chip, consumer="overt-camera", config={self.line: settings}
        )

        def watch() -> None:
            with request:
                while not self._stop.is_set():
                    if request.wait_edge_events(0.5):
                        request.read_edge_events()
                        action = "stop" if self.recording() else "start"
                        emit(TriggerRequest(action, "gpio", "record button", f"gpio{self.line}"))

        self._thread = threading.Thread(target=watch, name="gpio", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
