"""A database that does not answer (restarting, failed over, out of connections) is a
503 with Retry-After, never a 500: the request changed nothing, and the client should
come back (camera agents and the simulator do). One rule for Django's views and the API
(overt.project.errors.server_error) and for the raw tus handler (overt.uploads.tus)."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

RETRY_AFTER_S = 5
DETAIL = "the database is not answering; nothing was changed, try again shortly"


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether `exc` says the database could not be reached or lost the connection."""
    return isinstance(exc, OperationalError | InterfaceError)
