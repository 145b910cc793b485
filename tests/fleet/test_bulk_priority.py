"""Upload bytes and their completion run in threads of lower CPU priority than pages (so
a reviewer's pages stay quick while cameras offload); the page threads keep theirs."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from overt.uploads import asgi_body


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_bulk_pools_run_niced_and_the_caller_does_not() -> None:
    before = _nice()  # a pool's threads start at their creator's nice value, then add
    for pool in (asgi_body.IO_POOL, asgi_body.FINISH_POOL):
        niced = pool.submit(_nice).result(timeout=30)
        assert niced == min(19, before + asgi_body.BULK_NICE) or niced > before
    assert _nice() == before
