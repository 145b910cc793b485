"""Domain errors: what a service raises when it refuses or cannot do something.

Services never raise or return HTTP responses. They raise one of these (or a stage's own
subclass of one), and the edges turn it into what their user reads, all from the class:

- the web and the API: problem+json (RFC 9457) or the site's error page, with the status,
  title and `type` below (overt.project.errors.domain_error_response);
- the CLI: the message on stderr and the exit status below (overt.cli.main).

The message (`str(exc)`) is written for the person who asked: it says what was wrong and
reveals nothing they may not know. A stage subclasses these to keep its own names
(retention's NotFound, access's AccessDenied, ...) so existing `except` clauses still work.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A service refused an action or could not do it; the message says why."""

    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad Request"
    # RFC 9457 `type`: about:blank means "the status says it all".
    type: ClassVar[str] = "about:blank"
    exit_code: ClassVar[int] = 1

    def __init__(self, *args: object, **extra: Any) -> None:
        super().__init__(*args)
        # Extra members of the problem body (e.g. {"recording": 7}); never secrets.
        self.extra: dict[str, Any] = extra

    @property
    def detail(self) -> str:
        return str(self)


class Invalid(DomainError):
    """Bad input. `field` names the input at fault, when there is one."""

    def __init__(self, *args: object, field: str | None = None, **extra: Any) -> None:
        super().__init__(*args, **extra)
        self.field = field

    exit_code = 2  # click's own status for a bad argument


class NotFound(DomainError):
    """No such thing, or nothing the asker may know of (the two read the same)."""

    status, title, exit_code = 404, "Not Found", 2


class Refused(DomainError):
    """The asker may not do this."""

    status, title = 403, "Forbidden"


class Conflict(DomainError):
    """The thing is not in a state that allows this (already exists, held, locked, ...)."""

    status, title = 409, "Conflict"


class Gone(DomainError):
    """It existed, and is no more (deleted under retention, expired upload, ...)."""

    status, title = 410, "Gone"


class TooLarge(DomainError):
    status, title = 413, "Content Too Large"


class Unavailable(DomainError):
    """A service overt depends on cannot answer now; trying again later may work."""

    status, title = 503, "Service Unavailable"


class NoSpace(DomainError):
    """The evidence store has no room: refused, and nothing is ever deleted to make room."""

    status, title = 507, "Insufficient Storage"


def problem_body(exc: DomainError) -> dict[str, Any]:
    """The RFC 9457 body for a domain error (without the request id, which the web adds).

    An Invalid with a field also lists it under `errors`, in the shape DRF's own field
    errors take, so a client reads bad input the same whichever check refused it."""
    body: dict[str, Any] = {
        **getattr(exc, "extra", {}),
        "type": exc.type,
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
    }
    field = getattr(exc, "field", None)
    if field:
        body["errors"] = {field: [exc.detail]}
    return body


__all__ = [
    "Conflict",
    "DomainError",
    "Gone",
    "Invalid",
    "NoSpace",
    "NotFound",
    "Refused",
    "TooLarge",
    "Unavailable",
    "problem_body",
]
