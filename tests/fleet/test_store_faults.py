"""S3 failing under the storm (a TCP proxy in front of moto_server, cut and restored):
the ingest is refused whole, so there is never a catalogue row or custody entry without
its object; once S3 answers again the same file is stored and catalogued."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from support_fleet import CuttableProxy

from overt.custody.models import CustodyEntry
from overt.evidence.models import Device, Officer, Original
from overt.evidence.store import open_store
from overt.ingest.services import ingest_file
from support_s3 import store_url


@pytest.fixture
def flaky_s3(s3_store_url: str) -> Iterator[tuple[CuttableProxy, str]]:
    parts = urlsplit(s3_store_url)
    endpoint = urlsplit(parse_qs(parts.query)["endpoint"][0])
    proxy = CuttableProxy((endpoint.hostname or "127.0.0.1", endpoint.port or 80))
    yield proxy, store_url(f"http://127.0.0.1:{proxy.port}", parts.netloc)
    proxy.close()


def test_no_catalogue_row_without_its_object(db, flaky_s3, tmp_path: Path) -> None:
    proxy, url = flaky_s3
    Officer.objects.create(number="AR1", name="PC One")
    Device.objects.create(serial="CAM-S3", model="VB400")
    clip = tmp_path / "clip.bin"
    clip.write_bytes(os.urandom(200_000))
    store = open_store(url)
    proxy.cut()
    with pytest.raises(Exception) as refused:  # the store's own error, whatever its class
        ingest_file(clip, officer_number="AR1", device_serial="CAM-S3", store=store)
    assert "Traceback" not in str(refused.value)
    assert not Original.objects.exists()
    assert not CustodyEntry.objects.filter(action="ingest").exists()
    proxy.restore()
    result = ingest_file(clip, officer_number="AR1", device_serial="CAM-S3", store=store)
    assert result.status == "stored"
    assert store.exists(result.sha256)
    assert Original.objects.filter(sha256=result.sha256).count() == 1
