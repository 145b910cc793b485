"""Running the real `overt` command in tests, and facts shared by test files."""

from __future__ import annotations

import atexit
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
    up to date once in this process (_migrated_database), not by migrating again: the ~60
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


_TEMPLATE: list[Path] = []


def _migrated_database() -> Path:
    """An embedded database that the real `overt migrate` made, once per test process."""
    if not _TEMPLATE:
        home = Path(tempfile.mkdtemp(prefix="overt-migrated-"))
        atexit.register(shutil.rmtree, home, True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OVERT_")}
        done = _run({**env, "OVERT_HOME": str(home)}, ("migrate",), None, 600)
        if done.returncode != 0:
            raise RuntimeError(f"overt migrate failed: {done.stderr}")
        copy = home / "migrated.sqlite3"
        source, target = sqlite3.connect(home / "overt.sqlite3"), sqlite3.connect(copy)
        with target:
            source.backup(target)  # one file, whatever is still in the write-ahead log
        source.close()
        target.close()
        _TEMPLATE.append(copy)
    return _TEMPLATE[0]
