"""A trigger plugin for the tests: a holster sensor whose 'draw' is a file appearing (as a
BLE or serial transport would deliver an event). Loaded by the agent from the
`trigger_plugins` setting as `holster_plugin:HolsterFile`."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from overt_camera.config import AgentConfig
from overt_camera.triggers import Emit, TriggerRequest


class HolsterFile:
    def __init__(self, config: AgentConfig) -> None:
        self.path = Path(os.environ["HOLSTER_EVENT_FILE"])
        self._stop = threading.Event()

    def start(self, emit: Emit) -> None:
        def watch() -> None:
            while not self._stop.wait(0.05):
                if self.path.exists():
                    self.path.unlink()
                    emit(TriggerRequest("start", "sensor", "weapon drawn", "holster"))

        threading.Thread(target=watch, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
