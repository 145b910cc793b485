"""Fleet fixtures: the whole ASGI app (tus included) served by uvicorn in a thread, on
the test database, for the simulator and the parallel-upload tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from overt.testing.app_server import AppServer

_Server = AppServer


@pytest.fixture(scope="session")
def _fleet_server() -> Iterator[_Server]:
    from overt.uploads import asgi_body

    # One thread for all database work: the embedded test database is SQLite in memory.
    asgi_body.FINISH_IN_OWN_THREAD = False
    from overt.project.asgi import application

    server = _Server(application)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_server(_fleet_server: _Server, transactional_db: None) -> str:
    """Base URL of the whole app on the test database."""
    return _fleet_server.url


from support_fleet import fresh_database  # noqa: E402,F401  (a fixture for the fault tests)
