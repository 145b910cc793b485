"""bench/ingest.py works: its pieces run at tiny sizes and measure the right things.

Correctness facts only (hashes, counts, the docs section); never timings.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "ingest.py"
MiB = 1 << 20


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_ingest", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


@pytest.fixture
def source(bench, tmp_path: Path) -> Path:
    path = tmp_path / "source.bin"
    bench.write_random_file(path, 4 * MiB, seed=41)
    return path


def test_variants_change_content_not_size(bench, source: Path) -> None:
    before = bench.sha256_file(source)
    bench.make_variant(source, 1)
    after = bench.sha256_file(source)
    assert after != before
    assert source.stat().st_size == 4 * MiB
    bench.make_variant(source, 2)
    assert bench.sha256_file(source) not in {before, after}


def test_floor_hashes_and_cleans_up(bench, source: Path, tmp_path: Path) -> None:
    dest = tmp_path / "copy.bin"
    for fsync in (False, True):
        seconds, digest = bench.floor_run(source, dest, fsync=fsync)
        assert digest == bench.sha256_file(source)
        assert seconds > 0
        assert not dest.exists()


def test_overt_run_ingests_then_frees_the_object(bench, source: Path, db: None) -> None:
    from overt.evidence.models import Original
    from overt.evidence.store import get_store

    bench.register_bench_people()
    bench.make_variant(source, 7)
    seconds, result, put_s = bench.overt_run(source)
    assert 0 < put_s < seconds
    assert result.status == "stored"
    assert result.sha256 == bench.sha256_file(source)
    assert result.size == 4 * MiB
    assert not result.playable  # random bytes: stored, flagged
    assert Original.objects.get(sha256=result.sha256).recording.officer.number == bench.OFFICER
    assert get_store().local_path(result.sha256) is None


def test_speed_rounds_alternate_and_agree_on_hashes(
    bench, source: Path, tmp_path: Path, db: None
) -> None:
    from overt.evidence.models import Original

    bench.register_bench_people()
    result = bench.bench_speed(source, tmp_path, runs=2, first_variant=100)
    assert len(result.floor_s) == len(result.overt_s) == len(result.put_s) == 2
    assert len(result.floor_fsync_s) == 2
    assert Original.objects.filter(size=4 * MiB).count() == 2  # two distinct contents
    assert result.ratio > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source.bin"]  # warm-up files gone too


def test_peak_rss_is_the_childs_own(bench) -> None:
    grow = "b = bytearray(96 << 20); b[::4096] = b'x' * len(b[::4096]); print('ok')"
    _, code, big, out = bench.run_with_peak_rss([sys.executable, "-c", grow], {})
    assert code == 0 and out.strip() == b"ok"
    assert big >= 96 * MiB
    _, code, small, _ = bench.run_with_peak_rss([sys.executable, "-c", "pass"], {})
    assert code == 0 and small < 64 * MiB  # not the parent's (pytest's) peak


def test_catalogue_seed_and_filters(bench, db: None) -> None:
    from overt.evidence.models import Category, Incident, Officer, Original, Recording

    cat = bench.seed_catalogue(500, batch=200)
    assert Recording.objects.count() == Original.objects.count() == 500
    assert Officer.objects.count() == len(cat.officers) == 5
    assert Incident.objects.count() == len(cat.incidents) == 20
    assert Category.objects.filter(name__in=bench.CATEGORIES).count() == len(bench.CATEGORIES)
    assert Recording.objects.values("officer").distinct().count() == 5

    timings, rows = bench.bench_catalogue(cat, per_kind=3)
    assert set(timings) == set(rows) == set(bench.filter_kinds(cat, bench.random.Random(1)))
    assert all(len(t) == 3 for t in timings.values())
    assert rows["none"] == [50, 50, 50]
    assert all(0 <= n <= 50 for ns in rows.values() for n in ns)
    assert "recording" in bench.query_plan(cat, "free text").lower()


def test_section_replaces_only_its_own(bench, tmp_path: Path) -> None:
    speed = bench.SpeedResult(
        size=4 * MiB, floor_s=[1.0, 1.2], overt_s=[1.5, 1.4], put_s=[1.3], floor_fsync_s=[2.0]
    )
    report = bench.Report(
        machine=bench.machine(),
        speed=speed,
        memory=[
            bench.MemoryResult(size=4 * MiB, seconds=1.0, peak_rss=150_000_000),
            bench.MemoryResult(size=16 * MiB, note="skipped: no room"),
        ],
        catalogue=bench.Catalogue(officers=["a"], devices=["b"], incidents=["c"], recordings=10),
        timings={"none": [1.0, 2.0], "officer": [3.0]},
        rows={"none": [50, 50], "officer": [7]},
        plans={"officer": "SCAN recording"},
        cli_seconds=2.0,
        command="bench/ingest.py --quick",
    )
    section = bench.render(report)
    assert section.startswith(bench.HEADING + "\n")
    assert "`bench/ingest.py --quick`" in section
    assert "150 MB" in section and "skipped: no room" in section and "SCAN recording" in section

    doc = tmp_path / "benchmarks.md"
    bench.write_doc(section, doc)  # a missing file gets the intro
    assert doc.read_text().startswith("# Benchmarks\n")
    doc.write_text(doc.read_text() + "\n## Custody\n\nTheirs.\n")
    bench.write_doc(section.replace("150 MB", "151 MB"), doc)
    text = doc.read_text()
    assert text.count(bench.HEADING) == 1 and "151 MB" in text and "150 MB" not in text
    assert text.endswith("## Custody\n\nTheirs.\n")
