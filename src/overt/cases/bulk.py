"""The library's bulk actions that are other stages' services: categorise and hold.

Each recording still gets its own custody entry (the stage's service writes it); all or
none: one refusal rolls the whole step back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.http import url_has_allowed_host_and_scheme

from overt import errors
from overt.access.services import Capability, User, require, visible_recordings
from overt.custody.services import Actor, Client
from overt.retention.holds import set_hold
from overt.review.editing import edit_recording


def _recordings(user: User, ids: list[str]) -> list[Any]:
    try:
        wanted = {int(i) for i in ids}
    except ValueError:
        raise errors.Invalid("recording ids must be numbers", field="recording") from None
    found = list(visible_recordings(user).filter(pk__in=wanted))
    if len(found) != len(wanted):
        raise errors.NotFound("no such recording, or you may not see it")
    return found


def apply(user: User, op: str, ids: list[str], form: Mapping[str, Any], client: Client) -> str:
    recordings = _recordings(user, ids)
    if op == "categorise":
        category = str(form.get("category") or "").strip()
        if not category:
            raise errors.Invalid("choose a category", field="category")
        with transaction.atomic():
            for rec in recordings:
                names = sorted({c.name for c in rec.categories.all()} | {category})
                edit_recording(
                    user, rec, {"categories": names, "reason": "bulk categorise"}, client
                )
        return f"{len(recordings)} recording(s) categorised {category!r}"
    require(user, Capability.MANAGE_RETENTION)
    reason = str(form.get("reason") or "").strip()
    with transaction.atomic():
        for rec in recordings:
            set_hold(
                rec.pk,
                kind="legal",
                reason=reason,
                actor=Actor("user", user.get_username()),
                reference=str(form.get("reference") or "")[:100],
            )
    return f"{len(recordings)} recording(s) held"


def safe_next(url: str, host: str) -> str:
    return url if url_has_allowed_host_and_scheme(url, allowed_hosts={host}) else "/"
