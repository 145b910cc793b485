"""A zip archive written while it is sent, so an exhibit package of any size costs one
chunk of memory.

Members are stored, not deflated: footage is compressed already and evidence should come
out of the archive exactly as it went in. ZIP64 is used wherever a member could pass 4 GiB.
Because the output cannot seek back, each member's CRC and sizes follow it in a data
descriptor; the central directory at the end lists them all, as every unzip tool expects.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer  # bytes, bytearray, memoryview and the like

ZIP32_LIMIT = 0x7FFF_FFFF


class _Spool(io.RawIOBase):
    """A write-only, forward-only file whose bytes are handed on as soon as written."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._offset = 0

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._offset += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._offset

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    size: int
    chunks: Callable[[], Iterable[bytes]]  # opened only when the member is written

    @classmethod
    def of_bytes(cls, name: str, data: bytes) -> Member:
        return cls(name, len(data), lambda: (data,))


def stream_zip(members: Iterable[Member], *, modified: datetime) -> Iterator[bytes]:
    """Yield the archive's bytes, member by member, chunk by chunk."""
    spool = _Spool()
    stamp = modified.timetuple()[:6]
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for member in members:
            info = zipfile.ZipInfo(member.name, date_time=stamp)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o100444 << 16  # a regular file, read-only once unpacked
            with archive.open(info, "w", force_zip64=member.size > ZIP32_LIMIT) as out:
                for chunk in member.chunks():
                    out.write(chunk)
                    if data := spool.take():
                        yield data
            if data := spool.take():
                yield data
    yield spool.take()  # the central directory
