"""bench/storm.py refuses a run whose objects would not fit: what one run stores on disk
and in moto's memory (deployed: moto keeps a multipart object's parts beside the whole,
and objects up to its buffer size in memory). Correctness facts only, never timings."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "storm.py"
MB = 1_000_000


@pytest.fixture(scope="module")
def storm() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("bench_storm", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def run(mode: str, **changes: object) -> argparse.Namespace:
    values: dict[str, object] = {
        "mode": mode,
        "cameras": 10,
        "segments": 3,
        "segment_mb": 10.0,
        "segment_mb_max": None,
        "size_shape": 3.0,
        "s3_part_mb": 64,
        "s3_memory_bytes": 1 << 20,
        "disk_margin_gb": 15.0,
    }
    values.update(changes)
    return argparse.Namespace(**values)


def test_embedded_stores_each_object_once(storm: ModuleType) -> None:
    assert storm.room_needed(run("embedded")) == {"disk": 30 * 10 * MB, "memory": 0}


def test_deployed_segments_in_one_put_are_on_moto_disk_once(storm: ModuleType) -> None:
    assert storm.room_needed(run("deployed")) == {"disk": 30 * 10 * MB, "memory": 0}


def test_deployed_multipart_objects_count_twice(storm: ModuleType) -> None:
    need = storm.room_needed(run("deployed", s3_part_mb=8))  # 10 MB > 8 MiB: two parts
    assert need["disk"] == 2 * 30 * 10 * MB
    assert need["memory"] == 0  # the last part (1.6 MB) is over moto's 1 MiB buffer


def test_deployed_small_objects_are_in_moto_memory(storm: ModuleType) -> None:
    need = storm.room_needed(run("deployed", segment_mb=0.5))
    assert need == {"disk": 0, "memory": 30 * 500_000}


def test_the_full_storm_fits_only_in_one_put(storm: ModuleType) -> None:
    """The issue's storm (3,000 segments of 10-60 MB, 43.9 GB): in one PUT each it needs
    43.9 GB on moto's disk; with 8 MiB parts (segments are all over one part), twice."""
    full = {"cameras": 1000, "segment_mb_max": 60.0}
    one_put = storm.room_needed(run("deployed", **full))
    assert one_put == {"disk": 43_913 * MB, "memory": 0}
    assert storm.room_needed(run("deployed", s3_part_mb=8, **full))["disk"] == 2 * 43_913 * MB


def test_a_run_that_cannot_fit_is_refused(storm: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="GB to store"):
        storm.refuse_without_room(run("deployed", cameras=10**6, segment_mb=60.0), tmp_path)
