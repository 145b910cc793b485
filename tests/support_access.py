"""Prints the permission matrix's size in pytest's terminal summary (the matrix test is
tests/access/test_matrix.py)."""

from __future__ import annotations

import sys


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    from overt.access.matrix import size

    roles, actions, relations = size()
    line = (
        f"access matrix: {roles} roles (with 'no role') x {actions} actions x {relations} "
        f"relations = {roles * actions * relations} cells in {roles * relations} scenes"
    )
    matrix = sys.modules.get("test_matrix")  # loaded here unless the run was distributed
    probes = getattr(matrix, "PROBES", None)
    if probes:
        via = {a.value: "+".join(sorted({k for k, _, _ in p})) for a, p in probes.items()}
        line += "; each action through " + ", ".join(f"{a} via {k}" for a, k in via.items())
    terminalreporter.write_line(line)
