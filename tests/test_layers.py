"""The one-way graph (issue 12, item 1): `lint-imports` keeps the contracts in
pyproject.toml, and those contracts really fail on what they are there to stop.

The contracts run on the real import graph of src/ (grimp, function-local imports
included); the failing cases add one import to that graph, so no source file is touched.
The private use-case functions are import-linter's own (pinned at 2.16 in pyproject).
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
from importlinter import api as _configure  # noqa: F401 (sets import-linter's adapters up)
from importlinter.application import use_cases
from importlinter.application.ports.reporting import Report

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # The same root packages as pyproject.toml's [tool.importlinter]: overt and the agent.
    return grimp.build_graph(
        "overt", "overt_camera", include_external_packages=True, cache_dir=None
    )


def check(graph: grimp.ImportGraph, *extra: tuple[str, str]) -> dict[str, bool]:
    """Every contract's name → kept, on `graph` plus the `extra` (importer, imported)."""
    options = use_cases.read_user_options(str(ROOT / "pyproject.toml"))
    use_cases._register_contract_types(options)
    graph = copy.deepcopy(graph)  # the module's graph stays the tree as it is
    for importer, imported in extra:
        graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="")
    report: Report = use_cases._build_report(
        graph=graph,
        graph_building_duration=0,
        user_options=options,
        limit_to_contracts=(),
        show_timings=False,
        verbose=False,
    )
    assert not report.could_not_run, report.invalid_contract_options
    return {contract.name: result.kept for contract, result in report.get_contracts_and_checks()}


LAYERS = "Layers: edge, then stage services, then core"
ACYCLIC = "No import cycle between overt's packages"


def test_lint_imports_passes() -> None:
    run = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_the_tree_keeps_every_contract(graph: grimp.ImportGraph) -> None:
    kept = check(graph)
    assert len(kept) >= 5
    assert all(kept.values()), kept


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        # the loops this issue found, one at a time: a core helper reaching up again
        ("overt.custody.services", "overt.access.services"),
        ("overt.access.oidc", "overt.api.views"),
        ("overt.conf", "overt.web.client_address"),
        ("overt.jobs.services", "overt.ops.views"),
        # a stage reaching up to a later stage or sideways to an independent sibling
        ("overt.redaction.views", "overt.review.views"),
        ("overt.uploads.views", "overt.review.media"),
        ("overt.retention.services", "overt.ingest.services"),
    ],
)
def test_an_import_that_closes_a_loop_breaks_the_layers(
    graph: grimp.ImportGraph, importer: str, imported: str
) -> None:
    assert check(graph)[LAYERS]
    kept = check(graph, (importer, imported))
    assert not kept[LAYERS]


def test_a_cycle_between_packages_breaks_the_acyclic_contract(graph: grimp.ImportGraph) -> None:
    # media already imports custody; custody importing media back closes a cycle
    assert not check(graph, ("overt.custody.services", "overt.media.pipeline"))[ACYCLIC]


def test_a_package_in_no_layer_breaks_the_layers(graph: grimp.ImportGraph) -> None:
    graph = copy.deepcopy(graph)
    graph.add_module("overt.newstage")
    assert not check(graph)[LAYERS]


def test_services_importing_views_and_django_in_the_pure_core_are_refused(
    graph: grimp.ImportGraph,
) -> None:
    kept = check(
        graph,
        ("overt.access.services", "overt.access.views"),
        ("overt.retention.rules", "django"),
        ("overt.redaction.engine.render", "overt.redaction.models"),
    )
    assert not kept["A stage's services import no views"]
    assert not kept["The pure core imports no Django"]
    assert not kept["The redaction engine is core: it knows nothing of the redaction app or the stages"]
