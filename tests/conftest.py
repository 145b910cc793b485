"""Shared fixtures. The session's OVERT_HOME comes from overt.testing.pytest_env."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from overt.conf import get_settings
from overt.testing.engines import mark_scaled

# Test modules are imported in importlib mode (so two folders may each have a
# test_cli.py); each folder's own support modules stay importable by plain name.
sys.path[:0] = [str(d) for d in sorted(Path(__file__).parent.iterdir()) if d.is_dir()]

pytest_plugins = ["support_s3", "support_browser", "support_access"]

from support_cli import CLIP_START, run_overt  # noqa: E402


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile overt's bytecode once, for the hundreds of `overt` (and other Python)
    subprocesses the tests start. Where PYTHONDONTWRITEBYTECODE is set no process writes
    it, so each compiled overt's ~190 modules again: ~0.15 s of CPU, a quarter of a short
    command. Python still checks each .pyc against its source, so an edit is never missed."""
    if sys.flags.dont_write_bytecode:
        import compileall

        import overt

        compileall.compile_dir(Path(overt.__file__).parent, quiet=2)


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> Iterator[None]:
    """Database tests of the folders in BOTH_ENGINES also run in the scaled run (marked
    before any other plugin's hook, `-m scaled` deselecting among them). Under
    pytest-xdist, after the other plugins have ordered the tests, the longest files go
    first (LONGEST_FIRST)."""
    mark_scaled(items, Path(__file__).parent)
    result = yield
    if hasattr(config, "workerinput"):
        first = {name: rank for rank, name in enumerate(LONGEST_FIRST)}
        root = Path(__file__).parent.parent
        items.sort(key=lambda i: first.get(i.path.relative_to(root).as_posix(), len(first)))
    return result


# The files that take longest (--durations, both engines), longest first. `make test` runs
# two pytest-xdist workers, each given a whole file at a time (--dist loadfile) in the
# order the workers collected; these go first so that the run ends on short files and the
# two workers finish together. Left to xdist (files with the most tests first) the long files, which
# hold few tests, came last, and one worker ran one of them while the other sat idle. A
# file missing from the list only loses its place; the order changes no test.
LONGEST_FIRST = (
    "tests/portal/test_browser_roles.py",
    "tests/access/test_edit_visibility.py",
    "tests/camera/test_end_to_end.py",
    "tests/retention/test_simulation.py",
    "tests/web/test_api_fuzz.py",
    "tests/access/test_matrix.py",
    "tests/custody/test_standalone_verifier.py",
    "tests/ingest/test_cli.py",
    "tests/redaction/test_render.py",
    "tests/jobs/test_takeover.py",
    "tests/review/test_browser_review.py",
    "tests/retention/test_cli.py",
    "tests/jobs/test_serve.py",
    "tests/transcripts/test_speech.py",
    "tests/access/test_web_attacks.py",
    "tests/fleet/test_faults.py",
    "tests/uploads/test_enrolment.py",
    "tests/ingest/test_cli_bad_input.py",
    "tests/cases/test_cases_cli.py",
    "tests/camera/test_encryption.py",
    "tests/camera/test_agent_process.py",
    "tests/fleet/test_cli.py",
)


def pytest_configure(config: pytest.Config) -> None:
    """Keep the collected order for pytest-xdist's --dist loadfile (see LONGEST_FIRST)."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """Name the PostgreSQL test databases after this run (test_test_gw0_1234), so that
    two scaled runs on one machine never try to drop each other's database."""
    from django.conf import settings

    from overt.testing.pytest_env import RUN_ID

    for db in settings.DATABASES.values():
        if not db["ENGINE"].endswith("sqlite3"):
            test = db.setdefault("TEST", {})
            test["NAME"] = f"{test.get('NAME') or 'test_' + db['NAME']}_{RUN_ID}"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: object) -> Iterator[None]:
    """Before pytest-django drops a PostgreSQL test database, end the connections that
    server threads (uvicorn, live_server) leave open, or the drop fails and it stays."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def _transactional(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(
        (marker and marker.kwargs.get("transaction"))
        or "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
    )


@pytest.fixture(autouse=True)
def _append_only_custody_log(request: pytest.FixtureRequest) -> Iterator[None]:
    """Keep the custody log's triggers in place for every test, but let pytest-django
    empty the tables after a transactional test (the one sanctioned bypass)."""
    uses_db = (
        _transactional(request)
        or "db" in request.fixturenames
        or (request.node.get_closest_marker("django_db") is not None)
    )
    if not uses_db:
        yield
        return
    from types import SimpleNamespace

    from django.db import connection

    from overt.custody.triggers import create_all, drop_all

    request.getfixturevalue("transactional_db" if _transactional(request) else "db")

    def run_sql(sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)

    executor = SimpleNamespace(connection=connection, execute=run_sql)
    create_all(executor)
    yield
    if _transactional(request):
        drop_all(executor)


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small real camera-like files, made once per session."""
    from overt.demo.footage import render_clip, write_corrupt_clip

    folder = tmp_path_factory.mktemp("clips")
    good = folder / "good.mp4"
    render_clip(
        good,
        seed=1,
        start_utc=CLIP_START,
        duration_s=2,
        device_serial="CAM-1",
        officer_number="MP100",
        width=320,
        height=180,
    )
    silent = folder / "silent.mp4"
    render_clip(
        silent,
        seed=2,
        start_utc=CLIP_START,
        duration_s=2,
        device_serial="CAM-1",
        officer_number="MP100",
        width=320,
        height=180,
        with_audio=False,
    )
    corrupt = folder / "corrupt.mp4"
    write_corrupt_clip(corrupt, seed=3)
    empty = folder / "empty.mp4"
    empty.write_bytes(b"")
    noise = folder / "noise.mp4"
    noise.write_bytes(os.urandom(64 * 1024))
    truncated = folder / "truncated.mp4"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    return {
        "good": good,
        "silent": silent,
        "corrupt": corrupt,
        "empty": empty,
        "noise": noise,
        "truncated": truncated,
    }


@pytest.fixture
def people(db: None) -> tuple:
    from overt.evidence.models import Device, Officer

    officer = Officer.objects.create(number="MP100", name="PC Test", team="Test Team")
    device = Device.objects.create(serial="CAM-1", model="Test Cam", firmware="1.0")
    return officer, device


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Change overt settings through the real environment path, for one test."""

    def apply(**values: object) -> None:
        for key, value in values.items():
            monkeypatch.setenv(f"OVERT_{key.upper()}", str(value))
        get_settings.cache_clear()

    yield apply
    get_settings.cache_clear()


@pytest.fixture
def unique_bytes(request: pytest.FixtureRequest) -> Callable[[int], bytes]:
    """Bytes no other test stores, since the session's store is shared and deduplicates."""

    def make(size: int = 4096) -> bytes:
        seed = f"{request.node.nodeid}:{size}".encode()
        out = bytearray()
        import hashlib

        counter = 0
        while len(out) < size:
            out += hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
            counter += 1
        return bytes(out[:size])

    return make


@pytest.fixture
def overt_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    home = tmp_path / "instance"

    def run(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
        return run_overt(home, *args, **kw)  # type: ignore[arg-type]

    run.home = home  # type: ignore[attr-defined]
    return run
