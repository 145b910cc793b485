"""A pytest plugin (loaded with `-p overt.testing.pytest_env`, see pyproject.toml) that
gives each test session its own instance before Django reads its settings.

OVERT_TEST_ENGINES=scaled points the same suite at the scale-out engines: real
PostgreSQL and Redis on this machine, and S3 from a moto_server on loopback. Under CI
(CI=true) a missing service fails the run; elsewhere the tests skip, naming it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from django.core.management.color import Style

POSTGRES_URL = os.environ.get(
    "OVERT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("OVERT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Under pytest-xdist (`-n 2`) each worker is its own process with its own moto_server
# and bucket, and pytest-django gives it its own database (test_test_gw0, ...); the
# Redis database number counts down from REDIS_URL's, one per worker, so that one
# worker's queue flush or job never reaches another's.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
# One id per run, inherited by its xdist workers: the PostgreSQL test databases are named
# after it (tests/conftest.py), so two runs on one machine never drop each other's.
RUN_ID = os.environ.setdefault("OVERT_TEST_RUN_ID", str(os.getpid()))


def worker_redis_url(url: str, worker: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    if not worker.startswith("gw"):
        return url
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    db = (base - int(worker[2:])) % 16  # Redis has databases 0-15 by default
    return urlunsplit(parts._replace(path=f"/{db}"))


IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
SCALED = os.environ.get("OVERT_TEST_ENGINES", "embedded") == "scaled"

_home = tempfile.mkdtemp(prefix="overt-test-")
atexit.register(shutil.rmtree, _home, True)
os.environ["OVERT_HOME"] = _home
os.environ.setdefault("OVERT_JOB_BACKOFF_SECONDS", "0")
os.environ.setdefault("OVERT_MIN_FREE_BYTES", "0")
os.environ.setdefault("OVERT_WATCH_SETTLE_SECONDS", "0.2")
for _name in ("OVERT_DATABASE_URL", "OVERT_STORE_URL", "OVERT_REDIS_URL", "OVERT_CONFIG"):
    os.environ.pop(_name, None)


def reachable(url: str, default_port: int) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


MISSING: list[str] = []
if SCALED:
    if not reachable(POSTGRES_URL, 5432):
        MISSING.append(f"PostgreSQL at {POSTGRES_URL}")
    if not reachable(REDIS_URL, 6379):
        MISSING.append(f"Redis at {REDIS_URL}")
    if not MISSING:
        from .moto import start_moto_server

        endpoint = start_moto_server()
        bucket = f"overt-test-{uuid.uuid4().hex[:8]}"
        from .moto import create_bucket

        create_bucket(endpoint, bucket, object_lock=True)
        os.environ["OVERT_DATABASE_URL"] = POSTGRES_URL
        os.environ["OVERT_REDIS_URL"] = worker_redis_url(REDIS_URL, WORKER)
        os.environ["OVERT_STORE_URL"] = (
            f"s3://{bucket}?endpoint={endpoint}&region=eu-west-2"
            "&access_key=testing&secret_key=testing&lock_days=1"
        )


def pytest_configure(config: pytest.Config) -> None:
    if MISSING and IN_CI:
        raise pytest.UsageError("scaled-path services are down under CI: " + ", ".join(MISSING))
    if SCALED and not MISSING:
        empty_postgresql_tables_by_delete()


def empty_postgresql_tables_by_delete() -> None:
    """After each transactional test pytest-django empties every table. PostgreSQL's
    TRUNCATE gives each of the ~60 tables a new file: over a second a test on this
    machine, against ~10 ms to DELETE the few rows a test wrote. Same result: foreign
    keys are deferred to the commit, and the custody triggers are already dropped."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(
        self: DatabaseOperations,
        style: Style,
        tables: Sequence[str],
        *,
        reset_sequences: bool = False,
        allow_cascade: bool = False,
    ) -> list[str]:
        if reset_sequences or allow_cascade or not tables:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return ["SET CONSTRAINTS ALL DEFERRED;"] + [
            f"DELETE FROM {self.quote_name(table)};" for table in tables
        ]

    # Patching a method is the point; django-stubs also types sql_flush with self twice.
    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign, assignment]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not MISSING:
        return
    skip = pytest.mark.skip(reason="service not running: " + ", ".join(MISSING))
    for item in items:
        item.add_marker(skip)


def pytest_report_header(config: pytest.Config) -> str:
    engines = (
        "scaled (PostgreSQL, Redis, S3 on moto_server)"
        if SCALED
        else "embedded (SQLite, local store, database jobs)"
    )
    return f"overt engines: {engines}; OVERT_HOME={_home}"
