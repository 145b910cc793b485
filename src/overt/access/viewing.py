"""Justified viewing: one custody `view` entry per justification, then a time-limited
grant in the session so the player's many range requests do not each log a view."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.http import HttpRequest

from overt.custody.services import Action, Actor, Subject, record_many
from overt.evidence.models import Recording
from overt.web.client_address import client_of

from .justify import justification

GRANT_SECONDS = 4 * 60 * 60
SESSION_KEY = "overt.view_grants"  # {recording id (str): expiry, epoch seconds}


@dataclass(frozen=True, slots=True)
class Grant:
    recording_id: int
    expires_at: datetime


def justify_view(request: HttpRequest, recording: Recording, category: str, text: str) -> Grant:
    """Log why `request.user` is viewing `recording` (in every clip's history), then let
    this session play it.

    Raises JustificationError (a ValueError) for a reason that is not on the list."""
    reason = justification(category, text)
    # The grant plays every clip, so every clip's history must show the view: one entry
    # per original, all committed together (a custody history is read by original).
    originals = list(recording.originals.order_by("started_at", "id").only("id", "sha256"))
    subjects = [
        Subject(o.sha256, {"recording": recording.pk, "original": o.pk}) for o in originals
    ] or [Subject("", {"recording": recording.pk})]
    actor = Actor("user", request.user.get_username())
    client = client_of(request)
    with transaction.atomic():
        record_many(
            Action("view", actor, subject, justification=str(reason), client=client)
            for subject in subjects
        )
    return _grant(request, recording.pk)


def current_grant(request: HttpRequest, recording_id: int) -> Grant | None:
    expiry = request.session.get(SESSION_KEY, {}).get(str(recording_id))
    if expiry is None or expiry <= time.time():
        return None
    return Grant(recording_id, datetime.fromtimestamp(expiry, UTC))


def _grant(request: HttpRequest, recording_id: int) -> Grant:
    now = time.time()
    expiry = now + GRANT_SECONDS
    grants = {k: v for k, v in request.session.get(SESSION_KEY, {}).items() if v > now}
    grants[str(recording_id)] = expiry
    request.session[SESSION_KEY] = grants
    return Grant(recording_id, datetime.fromtimestamp(expiry, UTC))
