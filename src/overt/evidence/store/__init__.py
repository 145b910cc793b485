"""Evidence storage: pick the backend named by OVERT_STORE_URL."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .base import (
    EvidenceStore,
    HashMismatch,
    InsufficientSpace,
    ObjectLocked,
    ObjectNotFound,
    StoredObject,
    StoreError,
)

__all__ = [
    "EvidenceStore",
    "HashMismatch",
    "InsufficientSpace",
    "ObjectLocked",
    "ObjectNotFound",
    "StoreError",
    "StoredObject",
    "get_store",
    "open_store",
]


def open_store(url: str) -> EvidenceStore:
    scheme = urlsplit(url).scheme
    if scheme == "file":
        from .local import LocalStore

        return LocalStore(Path(unquote(urlsplit(url).path)))
    if scheme == "s3":
        from .s3 import S3Store

        return S3Store.from_url(url)
    raise StoreError(f"unsupported store URL scheme {scheme!r} (use file:// or s3://)")


@lru_cache(maxsize=1)
def get_store() -> EvidenceStore:
    from overt.conf import get_settings

    return open_store(get_settings().store_location)
