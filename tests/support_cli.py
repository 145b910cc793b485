"""Running the real `overt` command in tests, and facts shared by test files."""

from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

CLIP_START = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


def run_overt(
    home: Path,
    *args: str,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run the real `overt` command against its own instance directory.

    A new embedded instance starts from a copy of a database that `overt migrate` brought
    up to date once in this test run (_migrated_database), not by migrating again: the ~60
    migrations cost each test about 5 s of CPU. Everything else about a first start (its
    signing key, secret, store folders) is made by the command as usual. `overt migrate`
    and `overt init` on a new instance still migrate it themselves."""
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith("OVERT_") or k in (env or {})
    }
    full_env.update({"OVERT_HOME": str(home), "OVERT_MIN_FREE_BYTES": "0"})
    full_env.update(env or {})
    embedded = not {"OVERT_DATABASE_URL", "OVERT_CONFIG"} & set(full_env)
    if embedded and args and args[0] not in {"migrate", "init"} and not home.exists():
        home.mkdir(parents=True)
        shutil.copyfile(_migrated_database(), home / "overt.sqlite3")
    return _run(full_env, args, input, timeout)


def _run(
    env: dict[str, str], args: tuple[str, ...], input: bytes | None, timeout: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "overt", *args],
        env=env,
        input=input.decode() if input is not None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# One migrated database for the whole run, shared by its pytest-xdist workers: the
# process that loads this module first (the controller, or the only process under -n 0)
# names the folder and removes it at exit; the workers inherit the name, and the first of
# them to need the database makes it while the others wait on the lock.
if "OVERT_TEST_MIGRATED_DIR" not in os.environ:
    os.environ["OVERT_TEST_MIGRATED_DIR"] = tempfile.mkdtemp(prefix="overt-migrated-")
    atexit.register(shutil.rmtree, os.environ["OVERT_TEST_MIGRATED_DIR"], True)
_TEMPLATE: list[Path] = []


def _migrated_database() -> Path:
    """An embedded database that the real `overt migrate` made, once per test run."""
    if not _TEMPLATE:
        shared = Path(os.environ["OVERT_TEST_MIGRATED_DIR"])
        copy = shared / "migrated.sqlite3"
        with open(shared / "lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not copy.exists():
                _migrate_into(copy)
        _TEMPLATE.append(copy)
    return _TEMPLATE[0]


def _migrate_into(copy: Path) -> None:
    home = Path(tempfile.mkdtemp(prefix="migrate-", dir=copy.parent))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OVERT_")}
    done = _run({**env, "OVERT_HOME": str(home)}, ("migrate",), None, 600)
    if done.returncode != 0:
        raise RuntimeError(f"overt migrate failed: {done.stderr}")
    partial = copy.with_suffix(".partial")
    source, target = sqlite3.connect(home / "overt.sqlite3"), sqlite3.connect(partial)
    with target:
        source.backup(target)  # one file, whatever is still in the write-ahead log
    source.close()
    target.close()
    partial.rename(copy)
    shutil.rmtree(home, True)
