"""The uploads stage's own domain errors (see overt.errors).

The services and the Axis modules raise these, or overt.errors' own classes; the HTTP
edges (tus, the Swift views and PUT) turn them into problem+json with the status, title
and message the class gives. The statuses that tus and Swift clients rely on (423 while
another request writes, 460 for a checksum mismatch, 402 for an unregistered Axis user,
...) are class attributes here, so the answer a client reads is decided in one place.
"""

from __future__ import annotations

from typing import Any

from overt.errors import Conflict, DomainError, Gone, Invalid, Refused, Unavailable


class UploadsError(DomainError):
    """Base of the uploads stage's own errors. `retry_after` (seconds), when set, says
    when trying again may work: the HTTP edges send it as Retry-After."""

    def __init__(self, *args: object, retry_after: int | None = None, **extra: Any) -> None:
        super().__init__(*args, **extra)
        self.retry_after = retry_after


class NotSignedIn(UploadsError):
    """No credential, or one that is not (or no longer) valid."""

    status, title = 401, "Unauthorized"


class NotRegistered(UploadsError, Refused):
    """An Axis user or camera that overt does not know, while it registers none itself.
    (402 is the status Body Worn Systems read as "the destination refuses this person".)"""

    status, title = 402, "Payment Required"


class UploadGone(UploadsError, Gone):
    """The upload was terminated or expired: the client starts a new one."""


class UploadLocked(UploadsError, Conflict):
    """Another request holds the upload's lock (tus answers 423 and Retry-After)."""

    status, title = 423, "Locked"


class ChecksumMismatch(UploadsError, Invalid):
    """The bytes are not what the client declared: they are kept in quarantine."""

    status, title = 460, "Checksum Mismatch"


class EtagMismatch(UploadsError, Invalid):
    """A Swift object whose body does not match its ETag: kept in quarantine."""

    status, title = 422, "Unprocessable Content"


class NotCatalogued(UploadsError, Invalid):
    """Received in full and kept, but the ingest service refused to catalogue it."""

    status, title = 422, "Unprocessable Content"


class RecordingRefused(UploadsError, Invalid):
    """An Axis recording that can never be stored as it is; it stays, with its clips."""


class StoreUnavailable(UploadsError, Unavailable):
    """The evidence store (or the upload's own storage) failed for now; retry later."""


class CompletionFailed(UploadsError):
    """Something unforeseen failed after every byte arrived: the bytes are kept, and a
    retry finishes the upload."""

    status, title = 500, "Internal Server Error"


class BytesMissing(UploadsError):
    """The evidence store has no bytes for an object it catalogued: a fault, not input."""

    status, title = 500, "Internal Server Error"


__all__ = [
    "BytesMissing",
    "ChecksumMismatch",
    "CompletionFailed",
    "EtagMismatch",
    "NotCatalogued",
    "NotRegistered",
    "NotSignedIn",
    "RecordingRefused",
    "StoreUnavailable",
    "UploadGone",
    "UploadLocked",
    "UploadsError",
]
