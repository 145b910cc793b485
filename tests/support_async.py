"""Run a coroutine from a sync test, whatever event loop the thread already has.

Playwright's sync API keeps an event loop in the pytest worker's main thread once a
browser test has run there, and asgiref's async_to_sync refuses to run beside it. A
fresh thread with its own loop works either way."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
