"""Leak findings on rendered copies: what the check found, what reviewers decided, and
whether a copy may leave overt.

A copy is **releasable** once its leak check has run and every finding is marked
"not a face". "Fix" adds a manual track over the finding (the reviewer adjusts it on
the player) for the *next* render; the copy that leaked stays unreleasable, since the
face is in its pixels. Each decision is a custody entry on the original, and is
written into the copy's catalogued manifest (`facts["leak_check"]["findings"]`), so
the manifest of a released copy says who cleared each finding and when.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from overt import errors
from overt.custody.services import record
from overt.evidence.models import Derivative

from .engine.leakcheck import LeakCheck
from .models import LeakFinding, RedactionProject, Render
from .services import RedactionProblem, project_subject, user_actor

if TYPE_CHECKING:
    import numpy as np

DECISIONS = ("not-a-face", "fix")


class NotReleasable(errors.Conflict):
    """A redacted copy whose leak check is missing or has unresolved findings."""


class AlreadyDecided(errors.Conflict, RedactionProblem):
    """A decision on a finding that was decided before (409; still a RedactionProblem
    for the page and the CLI)."""


def store_findings(render: Render, check: LeakCheck) -> list[LeakFinding]:
    """Catalogue a check's findings for a render (inside the render's transaction)."""
    rows = [
        LeakFinding(
            render=render,
            number=f.number,
            start_s=f.start_s,
            end_s=f.end_s,
            x1=f.box[0],
            y1=f.box[1],
            x2=f.box[2],
            y2=f.box[3],
            score=f.score,
            frames=f.frames,
            thumbnail=_jpeg(f.thumbnail) if f.thumbnail is not None else b"",
        )
        for f in check.findings
    ]
    LeakFinding.objects.bulk_create(rows)
    render.leak_check = check.summary()
    render.save(update_fields=["leak_check"])
    return rows


def blockers(render: Render) -> list[str]:
    """Why this render's copy may not be released yet; empty when it may."""
    if render.derivative_id is None:
        return ["the copy has not been rendered yet"]
    if not render.leak_check:
        return ["the copy has no leak check"]
    out = []
    for finding in render.leak_findings.exclude(status=LeakFinding.Status.NOT_A_FACE):
        state = "not yet reviewed" if finding.status == LeakFinding.Status.OPEN else "a face"
        out.append(
            f"finding {finding.number} ({finding.start_s:.2f}-{finding.end_s:.2f} s) is {state}"
        )
    return out


def releasable(derivative: Derivative) -> bool:
    """Whether a derivative may leave overt as far as redaction is concerned: any kind
    but `redacted`, or a redacted copy whose leak check is clear (read from its
    manifest, so callers need no redaction tables)."""
    if derivative.kind != Derivative.Kind.REDACTED:
        return True
    check = (derivative.facts or {}).get("leak_check")
    if not isinstance(check, dict):
        return False
    return all(f.get("decision") == "not-a-face" for f in check.get("findings", []))


def require_releasable(derivative: Derivative) -> None:
    """Raise NotReleasable (409) unless `releasable(derivative)`."""
    if not releasable(derivative):
        raise NotReleasable(
            "this redacted copy has leak-check findings nobody has cleared: open its "
            "redaction project and mark each one 'not a face', or fix it and render again"
        )


def decide(finding: LeakFinding, decision: str, username: str, *, note: str = "") -> LeakFinding:
    """Record a reviewer's decision on a finding: "not-a-face", or "fix" (a manual track
    over it, for the next render)."""
    if decision not in DECISIONS:
        raise RedactionProblem(f"decision must be one of {', '.join(DECISIONS)}")
    if finding.status != LeakFinding.Status.OPEN:
        raise AlreadyDecided(
            f"finding {finding.number} was already decided ({finding.get_status_display()})"
        )
    from .editing import add_manual_track

    render = finding.render
    project = render.project
    with transaction.atomic():
        locked = LeakFinding.objects.select_for_update().get(pk=finding.pk)
        if locked.status != LeakFinding.Status.OPEN:
            raise AlreadyDecided(f"finding {locked.number} was already decided")
        fixed_by: int | None = None
        if decision == "fix":
            track = add_manual_track(
                project,
                locked.start_s,
                (locked.x1, locked.y1, locked.x2, locked.y2),
                username,
                seconds=max(0.04, locked.end_s - locked.start_s),
            )
            fixed_by = track.number
        locked.status = (
            LeakFinding.Status.FIXED if decision == "fix" else LeakFinding.Status.NOT_A_FACE
        )
        locked.decided_by, locked.decided_at = username, timezone.now()
        locked.note, locked.fixed_by_track = note[:300], fixed_by
        locked.save()
        details: dict[str, Any] = {
            "step": "leak-finding",
            "render": render.number,
            "finding": locked.number,
            "decision": locked.status,
            "note": locked.note,
        }
        if fixed_by is not None:
            details["track"] = fixed_by
        derivative = render.derivative
        if derivative is not None:
            details["derivative"] = derivative.pk
            _write_decision(derivative, locked)
        record(
            "redaction",
            user_actor(username),
            project_subject(project, render=render.number),
            details=details,
        )
    return locked


def describe_finding(finding: LeakFinding) -> dict[str, Any]:
    """One finding as the CLI and the API show it."""
    return {
        "number": finding.number,
        "start_s": round(finding.start_s, 3),
        "end_s": round(finding.end_s, 3),
        "box": [round(v, 4) for v in (finding.x1, finding.y1, finding.x2, finding.y2)],
        "score": round(finding.score, 3),
        "frames": finding.frames,
        "status": finding.status,
        "decided_by": finding.decided_by or None,
        "decided_at": finding.decided_at.isoformat() if finding.decided_at else None,
        "note": finding.note,
        "fixed_by_track": finding.fixed_by_track,
    }


def findings_report(render: Render) -> dict[str, Any]:
    """A rendered copy's leak check as the CLI and the API show it: the findings, what
    was decided, and whether the copy may be released (and if not, why)."""
    blocked = blockers(render)
    check = render.leak_check or {}
    return {
        "project": render.project_id,
        "render": render.number,
        "derivative": render.derivative_id,
        "detector": check.get("detector"),
        "checked_frames": check.get("checked_frames"),
        "releasable": not blocked,
        "blockers": blocked,
        "findings": [describe_finding(f) for f in render.leak_findings.order_by("number")],
    }


def unmasked_moments(project: RedactionProject) -> list[dict[str, Any]]:
    """Every stretch of the clip where something found is not masked: left-out tracks,
    and the open leak findings of the newest copy, in time order."""
    moments: list[dict[str, Any]] = [
        {
            "start_s": t.start_s,
            "end_s": t.end_s,
            "why": f"{t.get_label_display()} {t.number} left out",
        }
        for t in project.tracks.filter(included=False)
    ]
    newest = project.renders.filter(derivative__isnull=False).order_by("-number").first()
    if newest is not None:
        moments += [
            {
                "start_s": f.start_s,
                "end_s": f.end_s,
                "why": f"copy {newest.number}: leak finding {f.number} (score {f.score:.2f})",
            }
            for f in newest.leak_findings.filter(status=LeakFinding.Status.OPEN)
        ]
    return sorted(moments, key=lambda m: (m["start_s"], m["end_s"]))


def _write_decision(derivative: Derivative, finding: LeakFinding) -> None:
    locked = Derivative.objects.select_for_update().get(pk=derivative.pk)
    facts = dict(locked.facts or {})
    check = dict(facts.get("leak_check") or {})
    findings = [dict(f) for f in check.get("findings", [])]
    for item in findings:
        if item.get("number") == finding.number:
            item["decision"] = finding.status
            item["decided_by"] = finding.decided_by
            item["decided_at"] = finding.decided_at.isoformat() if finding.decided_at else None
            if finding.note:
                item["note"] = finding.note
    check["findings"] = findings
    facts["leak_check"] = check
    locked.facts = facts
    locked.save(update_fields=["facts"])


def _jpeg(image: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()
