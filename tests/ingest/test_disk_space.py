"""Free space is checked before any byte is stored (local store: S3 reports no limit)."""

from __future__ import annotations

import pytest

from overt.evidence.models import Original
from overt.evidence.store import InsufficientSpace, get_store
from overt.ingest.services import ingest_file


def test_file_larger_than_free_space_is_refused_before_storing(
    people, tmp_path, unique_bytes, settings_env
) -> None:
    path = tmp_path / "big.mp4"
    path.write_bytes(unique_bytes(50_000))
    store = get_store()
    if store.free_bytes() is None:
        pytest.skip("this store reports no free space (S3): nothing to run out of")
    # A reserve far above the free space: refused however other tests change the disk
    # meanwhile. The disk-pressure warning sits above the reserve.
    reserve = store.free_bytes() + (64 << 30)
    settings_env(min_free_bytes=reserve, disk_warning_free_bytes=reserve + 1)
    before = set(store.iter_hashes())
    with pytest.raises(InsufficientSpace, match="not enough free space"):
        ingest_file(path, officer_number="MP100", device_serial="CAM-1")
    assert set(store.iter_hashes()) == before
    assert not Original.objects.exists()
