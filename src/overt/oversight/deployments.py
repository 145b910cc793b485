"""Importing deployments: all or nothing, idempotent on the reference, logged to custody.

The CLI (`overt deployments import FILE`), the API (`POST /api/deployments/`) and the demo
all call `import_deployments`. A file that breaks the contract raises `ImportRefused`
naming every bad row and field, and nothing is written. What is imported but deserves a
look (an officer overt does not know, a deployment with no officers, an officer at two
deployments at once, an attendance with no times of its own) comes back as warnings and
is kept, never dropped; docs/oversight.md says what compliance makes of each.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from overt import errors
from overt.custody.services import Actor, record
from overt.evidence.models import Officer

from .contract import ContractError, DeploymentIn, parse
from .freshness import mark_stale
from .models import Attendance, Deployment

BATCH = 2000
# The largest file one import takes: a month of a force the Met's size is about 40 MB of
# JSON. A bigger file is refused whole (413 from the API) before it is read into memory;
# split it by month.
MAX_IMPORT_BYTES = 128 * 1024 * 1024


class ImportRefused(errors.Invalid):
    """The file breaks the contract; `errors` lists each row and field at fault."""


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    attendances: int = 0
    warnings: list[dict[str, str]] = field(default_factory=list)
    file_sha256: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "attendances": self.attendances,
            "updated_references": self.updated,
            "warnings": self.warnings,
            "file_sha256": self.file_sha256,
        }


def content_sha256(dep: DeploymentIn) -> str:
    canonical = json.dumps(dep.as_json(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def too_large(size: int) -> errors.TooLarge:
    return errors.TooLarge(
        f"the file is {size} bytes; one import takes at most {MAX_IMPORT_BYTES} "
        "(split it, e.g. by month)",
        errors=[{"row": "file", "field": "", "detail": "too large"}],
    )


def parse_file(data: bytes, name: str = "") -> list[DeploymentIn]:
    if len(data) > MAX_IMPORT_BYTES:
        raise too_large(len(data))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportRefused(
            f"the file is not UTF-8 text (byte {exc.start})",
            errors=[{"row": "file", "field": "", "detail": "not UTF-8 text"}],
        ) from None
    try:
        return parse(text, name)
    except ContractError as exc:
        raise ImportRefused(str(exc), errors=[e.as_dict() for e in exc.errors]) from None


def import_deployments(data: bytes, *, name: str = "", actor: Actor) -> ImportResult:
    """Parse and import a JSON or CSV deployments file; see the module's docstring."""
    deployments = parse_file(data, name)
    result = ImportResult(file_sha256=hashlib.sha256(data).hexdigest())
    numbers = {o.number for d in deployments for o in d.officers}
    officers = _officers(numbers)
    now = datetime.now(UTC)
    with transaction.atomic():
        existing = _existing([d.reference for d in deployments])
        fresh: list[tuple[DeploymentIn, str]] = []
        for dep in deployments:
            digest = content_sha256(dep)
            old = existing.get(dep.reference)
            if old is None:
                fresh.append((dep, digest))
            elif old.content_sha256 == digest:
                result.unchanged.append(dep.reference)
            else:
                _update(old, dep, digest, now, actor)
                _attend(old, dep, officers)
                result.updated.append(dep.reference)
        made = Deployment.objects.bulk_create(
            [_row(dep, digest, now, actor) for dep, digest in fresh], batch_size=BATCH
        )
        rows = [
            a
            for (dep, _), row in zip(fresh, made, strict=True)
            for a in _attendances(row, dep, officers)
        ]
        Attendance.objects.bulk_create(rows, batch_size=BATCH)
        result.created = [dep.reference for dep, _ in fresh]
        result.attendances = sum(len(d.officers) for d in deployments)
        result.warnings = warnings(deployments, officers)
        if result.created or result.updated:
            mark_stale("deployments imported")
        record(
            "deployments-import",
            actor,
            details={
                "file": name[-200:],
                "file_sha256": result.file_sha256,
                "created": len(result.created),
                "updated": result.updated[:1000],
                "unchanged": len(result.unchanged),
                "attendances": result.attendances,
                "warnings": len(result.warnings),
            },
        )
    return result


def _officers(numbers: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    listed = sorted(numbers)
    for i in range(0, len(listed), 900):  # SQLite's bound-parameter limit
        found.update(
            Officer.objects.filter(number__in=listed[i : i + 900]).values_list("number", "pk")
        )
    return found


def _existing(references: list[str]) -> dict[str, Deployment]:
    out: dict[str, Deployment] = {}
    for i in range(0, len(references), 900):
        chunk = references[i : i + 900]
        out.update((d.reference, d) for d in Deployment.objects.filter(reference__in=chunk))
    return out


def _row(dep: DeploymentIn, digest: str, now: datetime, actor: Actor) -> Deployment:
    return Deployment(
        reference=dep.reference,
        type=dep.type,
        borough=dep.borough,
        team=dep.team,
        authorised_at=dep.authorised_at,
        arrived_at=dep.arrived_at,
        ended_at=dep.ended_at,
        latitude=dep.lat,
        longitude=dep.lon,
        content_sha256=digest,
        imported_at=now,
        imported_by=str(actor),
    )


def _update(row: Deployment, dep: DeploymentIn, digest: str, now: datetime, actor: Actor) -> None:
    fresh = _row(dep, digest, now, actor)
    for name in (
        "type",
        "borough",
        "team",
        "authorised_at",
        "arrived_at",
        "ended_at",
        "latitude",
        "longitude",
        "content_sha256",
        "imported_at",
        "imported_by",
    ):
        setattr(row, name, getattr(fresh, name))
    row.save()


def _attend(row: Deployment, dep: DeploymentIn, officers: dict[str, int]) -> None:
    """A corrected deployment's attendances replace the old ones (their verdicts with them:
    the next compliance run judges them afresh)."""
    row.attendances.all().delete()
    Attendance.objects.bulk_create(_attendances(row, dep, officers))


def _attendances(row: Deployment, dep: DeploymentIn, officers: dict[str, int]) -> list[Attendance]:
    out = []
    for o in dep.officers:
        own = (o.arrived_at is not None, o.departed_at is not None)
        times_from = "officer" if all(own) else "deployment" if not any(own) else "mixed"
        out.append(
            Attendance(
                deployment=row,
                officer_number=o.number,
                officer_id=officers.get(o.number),
                arrived_at=o.arrived_at or dep.arrived_at,
                departed_at=o.departed_at or dep.ended_at,
                times_from=times_from,
            )
        )
    return out


def warnings(deployments: list[DeploymentIn], officers: dict[str, int]) -> list[dict[str, str]]:
    """What was imported but deserves a look. Overlaps are found within the file."""
    out: list[dict[str, str]] = []
    spans: dict[str, list[tuple[datetime, datetime, str]]] = defaultdict(list)
    for dep in deployments:
        if not dep.officers:
            out.append(
                _warn(dep, "", "no-officers", "no officer is listed: no attendance to judge")
            )
        for o in dep.officers:
            if o.number not in officers:
                out.append(
                    _warn(
                        dep, o.number, "unknown-officer", "not known to overt: no footage can match"
                    )
                )
            if o.arrived_at is None or o.departed_at is None:
                out.append(
                    _warn(
                        dep, o.number, "deployment-times", "no own times: the deployment's are used"
                    )
                )
            spans[o.number].append(
                (o.arrived_at or dep.arrived_at, o.departed_at or dep.ended_at, dep.reference)
            )
    for number, listed in spans.items():
        listed.sort()
        for (_, end, ref), (start, _, other) in itertools.pairwise(listed):
            if start < end:
                out.append(
                    {
                        "reference": other,
                        "officer": number,
                        "kind": "overlap",
                        "detail": f"overlaps {ref}: each attendance is judged on its own",
                    }
                )
    return out


def _warn(dep: DeploymentIn, officer: str, kind: str, detail: str) -> dict[str, str]:
    return {"reference": dep.reference, "officer": officer, "kind": kind, "detail": detail}
