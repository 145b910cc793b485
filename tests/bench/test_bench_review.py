"""bench/review.py's report: its section renders every part and replaces only itself in
docs/benchmarks.md. Correctness facts only, never timings."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "review.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_review", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_report_has_every_part_with_its_verdict(bench) -> None:
    library = bench.LibraryResult(100_000, {"landing page": [100.0, 120.0], "free text": [400.0]})
    first = bench.FirstFrameResult([300.0, 1200.0])
    offsets = bench.OffsetResult(10, 0.437, [2.0, 2.5], [1.5, 1.6], [0.437, 0.4375], 1.0)
    section = bench.render(library, first, offsets, "bench/review.py")
    assert section.startswith("## Review\n")
    assert "### Library page at 100,000 recordings" in section
    assert "| **all 3 requests** | **120** | **400** | **400** |" in section
    assert "misses the target" in section  # p95 400 ms, and a 1.2 s first frame
    assert "**Slowest run 1200 ms: misses the target.**" in section
    assert "**Slowest run 2.50 s: meets the target**" in section
    assert "within 0.50 ms of the injected offset" in section


def test_write_doc_replaces_only_its_own_section(bench, tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        "# Benchmarks\n\n## Ingest\n\nkept\n\n## Review\n\nold\n\n## Custody\n\nkept too\n"
    )
    bench.write_doc("## Review\n\nnew\n", doc)
    assert (
        doc.read_text()
        == "# Benchmarks\n\n## Ingest\n\nkept\n\n## Review\n\nnew\n\n## Custody\n\nkept too\n"
    )
    fresh = tmp_path / "fresh.md"
    fresh.write_text("# Benchmarks\n\n## Ingest\n\nkept\n")
    bench.write_doc("## Review\n\nnew\n", fresh)
    assert fresh.read_text().endswith("kept\n\n## Review\n\nnew\n")
