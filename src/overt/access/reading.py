"""One reading of a user's grants per request (access.services.one_reading)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["one_reading", "remembered"]

# Within one_reading(): the sets already read, by (user, role, recording).
_read_once: ContextVar[dict[tuple[Any, ...], Any] | None] = ContextVar("overt_access", default=None)


@contextmanager
def one_reading() -> Iterator[None]:
    """Within the block, the sets that decide access (and a team's officers) are read
    once per user: a search's listing, the footage it may play and its snippets each
    ask, and got the same answer from six queries each time. For read-only work that
    changes no grant (a listing); each block starts afresh, and ends with it."""
    token = _read_once.set({})
    try:
        yield
    finally:
        _read_once.reset(token)


def remembered(key: tuple[Any, ...], read: Callable[[], Any]) -> Any:
    memo = _read_once.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]
