"""Fleet fixtures: the whole ASGI app (tus included) served by uvicorn in a thread, on
the test database, for the simulator and the parallel-upload tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from overt.testing.moto import free_port


class _Server:
    def __init__(self) -> None:
        import uvicorn

        from overt.project.asgi import application

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


@pytest.fixture(scope="session")
def _fleet_server() -> Iterator[_Server]:
    from overt.uploads import asgi_body

    # One thread for all database work: the embedded test database is SQLite in memory.
    asgi_body.FINISH_IN_OWN_THREAD = False
    server = _Server()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_server(_fleet_server: _Server, transactional_db: None) -> str:
    """Base URL of the whole app on the test database."""
    return _fleet_server.url


from support_fleet import fresh_database  # noqa: E402,F401  (a fixture for the fault tests)
