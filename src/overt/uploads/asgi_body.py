"""Request bodies of the raw ASGI handlers (tus PATCH and POST, Swift object PUT), moved
to files off the event loop: a pool of I/O threads, the database in threads through
asgiref's `sync_to_async`, and a cap on how many bodies this process takes at once."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import sync_to_async

from overt.conf import get_settings

from .asgi_http import HTTPProblem
from .services import RETRY_AFTER_S

BATCH_BYTES = 1 << 20  # body chunks are gathered to this size before a write
IDLE_TIMEOUT_S = 30.0  # the tus protocol's recommended network timeout

# Upload bytes and their completion (hash, write, fsync, probe, catalogue) are bulk work:
# their threads run at a lower CPU priority than the threads that answer pages, so a
# reviewer's library and player stay quick while cameras offload (issue 18's storm). On
# Linux a nice value is per thread; it is set once in each thread these pools start.
BULK_NICE = 10


def _bulk_priority() -> None:
    try:  # relative: a process started niced stays at least as nice
        me = threading.get_native_id()
        os.setpriority(
            os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me) + BULK_NICE)
        )
    except (OSError, AttributeError):  # not Linux, or not allowed: same priority as pages
        pass


IO_POOL = ThreadPoolExecutor(
    max_workers=32, thread_name_prefix="overt-upload-io", initializer=_bulk_priority
)
FINISH_POOL = ThreadPoolExecutor(  # as many threads as asyncio's default executor had
    max_workers=min(32, (os.cpu_count() or 1) + 4),
    thread_name_prefix="overt-upload-finish",
    initializer=_bulk_priority,
)

# Tests serialise all database work onto one thread (SQLite in memory); the server
# gives the long completion step (ingest) a thread of its own.
FINISH_IN_OWN_THREAD = True


class Slots:
    """Requests carrying upload bytes in this process, against OVERT_UPLOAD_MAX_CONCURRENT."""

    def __init__(self) -> None:
        self.active = 0

    def take(self) -> None:
        limit = get_settings().upload_max_concurrent
        if self.active >= limit:
            raise HTTPProblem(
                503,
                f"{self.active} uploads are in progress, the most this server takes at once; "
                "retry shortly",
                headers=[("Retry-After", str(RETRY_AFTER_S))],
            )
        self.active += 1

    def give(self) -> None:
        self.active -= 1


SLOTS = Slots()


P = ParamSpec("P")
T = TypeVar("T")


def db(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Coroutine[Any, Any, T]:
    return sync_to_async(fn, thread_sensitive=True)(*args, **kwargs)


def db_long(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Coroutine[Any, Any, T]:
    if not FINISH_IN_OWN_THREAD:
        return sync_to_async(fn, thread_sensitive=True)(*args, **kwargs)
    return sync_to_async(fn, thread_sensitive=False, executor=FINISH_POOL)(*args, **kwargs)


def io(fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
    return asyncio.get_running_loop().run_in_executor(IO_POOL, fn, *args)


def write_batch(
    fd: int, position: int, chunks: list[bytes], hashers: list[Any], writeback_from: int | None
) -> None:
    """Hash and write body chunks at `position` (in an I/O thread)."""
    for hasher in hashers:
        for chunk in chunks:
            hasher.update(chunk)
    total = sum(len(c) for c in chunks)
    done = os.pwritev(fd, chunks, position)
    if done < total:  # a short write (rare on files): finish the rest plainly
        rest = memoryview(b"".join(chunks))[done:]
        while rest:
            n = os.pwrite(fd, rest, position + done)
            done += n
            rest = rest[n:]
    if writeback_from is not None:
        # Start writing these pages to disk now, so the disk works while more arrives and
        # the next fsync has little left to wait for (DONTNEED on dirty pages starts
        # their writeback without waiting). The fsyncs still decide durability.
        end = position + total
        os.posix_fadvise(fd, writeback_from, end - writeback_from, os.POSIX_FADV_DONTNEED)


def rewind(fd: int, offset: int) -> None:
    os.ftruncate(fd, offset)
    os.fsync(fd)
