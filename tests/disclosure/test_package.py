"""The streamed zip: readable by zipfile and unzip, stored byte for byte, ZIP64 when needed."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from overt.disclosure import package
from overt.disclosure.package import Member, stream_zip

WHEN = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def _members() -> list[Member]:
    big = [bytes([n]) * 65_536 for n in range(40)]  # 2.5 MiB in 40 chunks
    return [
        Member.of_bytes("pkg/README.txt", b"read me\n"),
        Member("pkg/originals/clip.mp4", sum(map(len, big)), lambda: iter(big)),
        Member.of_bytes("pkg/empty", b""),
    ]


def test_the_archive_streams_and_reads_back_exactly() -> None:
    parts = list(stream_zip(_members(), modified=WHEN))
    assert len(parts) > 40  # handed on chunk by chunk, never built whole
    archive = zipfile.ZipFile(io.BytesIO(b"".join(parts)))
    assert archive.testzip() is None
    assert archive.namelist() == ["pkg/README.txt", "pkg/originals/clip.mp4", "pkg/empty"]
    assert archive.read("pkg/originals/clip.mp4") == b"".join(
        bytes([n]) * 65_536 for n in range(40)
    )
    info = archive.getinfo("pkg/originals/clip.mp4")
    assert info.compress_type == zipfile.ZIP_STORED
    assert info.date_time == (2026, 11, 24, 9, 30, 0)
    assert (info.external_attr >> 16) & 0o777 == 0o444


def test_members_that_may_pass_4_gib_use_zip64(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(package, "ZIP32_LIMIT", 100)  # as if every member were huge
    data = b"".join(stream_zip(_members(), modified=WHEN))
    assert _local_extra_ids(data) == [0, 1, 0]  # only the member over the limit needs ZIP64
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    assert len(archive.read("pkg/originals/clip.mp4")) == 40 * 65_536


def _local_extra_ids(data: bytes) -> list[int]:
    """The first extra field's header id in each local file header."""
    ids, at = [], data.find(b"PK\x03\x04")
    while at != -1:
        name_length = int.from_bytes(data[at + 26 : at + 28], "little")
        extra_length = int.from_bytes(data[at + 28 : at + 30], "little")
        extra = data[at + 30 + name_length : at + 30 + name_length + extra_length]
        ids.append(int.from_bytes(extra[:2], "little") if extra else 0)
        at = data.find(b"PK\x03\x04", at + 30)
    return ids


@pytest.mark.skipif(shutil.which("unzip") is None, reason="Info-ZIP unzip is not installed")
def test_info_zip_unzip_accepts_it(tmp_path: Path) -> None:
    path = tmp_path / "p.zip"
    path.write_bytes(b"".join(stream_zip(_members(), modified=WHEN)))
    tested = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "No errors detected" in tested.stdout
