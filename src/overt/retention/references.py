"""Rows of other apps that point at what a purge removes (an upload's record of the
original it made, for one): found by walking the models' relations, so another app's
PROTECT reference is seen without a change here."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.db.models.deletion import PROTECT, RESTRICT

from overt.evidence.models import Derivative, Original, Recording

from .models import DeletionRequest, Disposal, Hold, ReviewDecision, TriggerEvent

_OURS: set[type] = {
    Original,
    Derivative,
    Hold,
    Disposal,
    DeletionRequest,
    TriggerEvent,
    ReviewDecision,
}


def _outside_refs(
    model: type[Model], objs: list[Any]
) -> list[tuple[type[Model], str, bool, list[Any]]]:
    """Rows of other apps that point at `objs` and would stop their deletion (PROTECT or
    RESTRICT): (model, field, nullable, pks). CASCADE and SET_NULL ones need nothing."""
    found = []
    for rel in model._meta.related_objects:
        if rel.many_to_many or rel.related_model in _OURS:
            continue
        if rel.on_delete not in (PROTECT, RESTRICT):
            continue
        field_name = rel.field.name
        pks = list(
            rel.related_model._base_manager.filter(**{f"{field_name}__in": objs}).values_list(
                "pk", flat=True
            )
        )
        if pks:
            found.append((rel.related_model, field_name, rel.field.null, pks))
    return found


def blockers(rec: Recording) -> list[str]:
    """Rows elsewhere that must not lose what they point at (a PROTECT that cannot be
    cleared): the purge waits, naming them, rather than remove bytes it cannot un-catalogue."""
    originals = list(rec.originals.all())
    derivatives = list(Derivative.objects.filter(original__recording=rec))
    found = []
    for model, objs in ((Recording, [rec]), (Original, originals), (Derivative, derivatives)):
        if not objs:
            continue
        for other, field_name, nullable, pks in _outside_refs(model, objs):
            if not nullable:
                found += [f"{other._meta.label} {pk} ({field_name})" for pk in pks]
    return sorted(found)


def clear_refs(model: type[Model], obj: Any) -> list[str]:
    """Unlink nullable PROTECT references to a row about to go (e.g. an upload's record of
    the original it made); returns what was cleared, for the certificate."""
    cleared = []
    for other, field_name, _, pks in _outside_refs(model, [obj]):
        other._base_manager.filter(pk__in=pks).update(**{field_name: None})
        cleared += [f"{other._meta.label} {pk} ({field_name})" for pk in pks]
    return cleared
