"""The whole ASGI app (Django and the streaming upload routes) served by uvicorn in a
thread on the test database: for tests that need real HTTP clients (tus, the simulator)."""

from __future__ import annotations

import threading
import time
from typing import Any

from overt.testing.moto import free_port


class AppServer:
    """The caller hands in the ASGI application: test support sits below the web
    project in the import layers, so it cannot import `overt.project` itself."""

    def __init__(self, application: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            application,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            http="httptools",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
