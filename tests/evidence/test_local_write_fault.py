"""A write that fails half-way (here: the kernel's file-size limit, EFBIG) leaves nothing
behind and says what went wrong; the reader stops instead of hashing the rest for nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import os, resource, signal, sys
    from pathlib import Path
    from overt.evidence.store.local import LocalStore
    from overt.evidence.store.base import StoreError

    root, source, limit = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    store = LocalStore(root)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    read = []
    class Counting:
        def __init__(self, fh): self.fh = fh
        def readinto(self, b):
            n = self.fh.readinto(b); read.append(n); return n
    with open(source, "rb", buffering=0) as fh:
        try:
            store.put(Counting(fh))
        except StoreError as exc:
            print("refused:", exc)
    print("read:", sum(read))
    print("left:", sorted(p.name for p in (root / "tmp").iterdir()))
    print("objects:", sorted(str(p) for p in (root / "objects").rglob("*") if p.is_file()))
    """
)


def test_a_failed_write_leaves_nothing_and_stops_reading(tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(bytes(range(256)) * (4096 * 64))  # 64 MiB: 128 chunks of 512 KiB
    limit = 6 << 20  # the thirteenth chunk cannot be written
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "store"), str(source), str(limit)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "refused: writing to the local store failed" in out
    assert "File too large" in out
    assert "left: []" in out
    assert "objects: []" in out
    read = int(out.split("read:")[1].split()[0])
    assert read < 64 << 20  # it stopped early (at most the buffer pool ahead of the disk)
