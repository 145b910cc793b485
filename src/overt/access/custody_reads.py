"""Who may read the custody entries of one stored object, and the record of that read.

The read-custody capability opens the custody API; it is not enough for the entries of
an object that belongs to a recording. Those entries name who watched, what was noted
and why, so they follow the recording's own `audit` action (overt.access.matrix): the
recording's access class applies as it does to its custody report. The auditor role,
whose job is oversight, holds `audit` on restricted and confidential recordings too. A
read is logged as the matrix says for `audit` (an `export` entry), in the same
transaction as the read; a refusal is logged by the access service and answers exactly
as an unknown object does.
"""

from __future__ import annotations

from django.db.models import Q

from overt.custody.services import Actor, Client, Subject, record
from overt.evidence.models import Recording

from .matrix import CUSTODY_ACTIONS, Action
from .services import AccessDenied, User, check


def recordings_of(sha256: str) -> list[Recording]:
    """The recordings an object is part of: as an original, or a derivative of one
    (proxies, posters, sprites, clips, stills, redacted copies)."""
    return list(
        Recording.objects.filter(
            Q(originals__sha256=sha256) | Q(originals__derivatives__sha256=sha256)
        )
        .distinct()
        .order_by("pk")
    )


def may_read_entries(user: User, recordings: list[Recording], client: Client | None) -> bool:
    """May `user` (who holds read-custody) read entries about these recordings' object?"""
    try:
        for recording in recordings:
            check(user, Action.AUDIT, recording, client=client)
    except AccessDenied:
        return False
    return True


def log_entries_read(
    user: User,
    sha256: str,
    recordings: list[Recording],
    *,
    justification: str = "",
    client: Client | None = None,
) -> None:
    """One entry per recording whose object's entries were read (call inside the read's
    transaction)."""
    for recording in recordings:
        record(
            CUSTODY_ACTIONS[Action.AUDIT],
            Actor("user", user.get_username()),
            Subject(sha256, {"recording": recording.pk}),
            justification=justification,
            client=client,
            details={"what": "custody entries", "recording": recording.pk},
        )
