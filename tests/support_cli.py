"""Running the real `overt` command in tests, and facts shared by test files."""

from __future__ import annotations

import os
import subprocess
import sys
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
    """Run the real `overt` command against its own instance directory."""
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith("OVERT_") or k in (env or {})
    }
    full_env.update({"OVERT_HOME": str(home), "OVERT_MIN_FREE_BYTES": "0"})
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "overt", *args],
        env=full_env,
        input=input.decode() if input is not None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
