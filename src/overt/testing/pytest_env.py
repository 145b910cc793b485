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

import pytest

POSTGRES_URL = os.environ.get(
    "OVERT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("OVERT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
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
        os.environ["OVERT_REDIS_URL"] = REDIS_URL
        os.environ["OVERT_STORE_URL"] = (
            f"s3://{bucket}?endpoint={endpoint}&region=eu-west-2"
            "&access_key=testing&secret_key=testing&lock_days=1"
        )


def pytest_configure(config: pytest.Config) -> None:
    if MISSING and IN_CI:
        raise pytest.UsageError("scaled-path services are down under CI: " + ", ".join(MISSING))


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
