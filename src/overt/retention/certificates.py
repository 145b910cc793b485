"""Deletion certificates: what one says (certificate_body, built by the purge), and the
certificate as documents: the canonical JSON as stored (and hashed into the custody log),
and a PDF of the same for people, made with WeasyPrint."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string

from overt import errors
from overt.conf import mask_url
from overt.custody.services import Actor
from overt.evidence.models import Recording
from overt.evidence.store import EvidenceStore

from .common import category_names, iso
from .models import DeletionCertificate, Disposal, Hold, RetentionPolicy

CERTIFICATE_SCHEMA = "overt.deletion-certificate/1"


class CertificateError(errors.Unavailable):
    pass


class CertificateNotFound(errors.NotFound, CertificateError):
    pass


@dataclass(frozen=True)
class CertificateFiles:
    json: Path
    pdf: Path | None
    pdf_problem: str = ""

    def paths(self) -> list[Path]:
        return [p for p in (self.json, self.pdf) if p is not None]


def certificate_body(
    rec: Recording,
    disposal: Disposal,
    objects: list[dict[str, Any]],
    actor: Actor,
    now: datetime,
    store: EvidenceStore,
) -> dict[str, Any]:
    """What was deleted, why, by whom and when (overt.deletion-certificate/1)."""
    manifest = disposal.manifest
    why: dict[str, Any] = {
        "basis": disposal.basis,
        "decided_by": disposal.decided_by,
        "policy": disposal.policy,
        "due_at": iso(disposal.due_at),
    }
    if disposal.policy:
        policy = RetentionPolicy.objects.filter(name=disposal.policy).first()
        if policy is not None:
            why["policy_rule"] = policy.rule().describe()
    if disposal.request is not None:
        request = disposal.request
        why["request"] = {
            "id": request.pk,
            "requested_by": request.requested_by.get_username(),
            "reason": request.reason,
            "requested_at": iso(request.requested_at),
            "approved_by": request.decided_by.get_username() if request.decided_by else None,
            "approval_reason": request.decision_reason,
            "approved_at": iso(request.decided_at),
        }
    released = [
        {
            "kind": h.kind,
            "reference": h.reference,
            "set_at": iso(h.set_at),
            "released_at": iso(h.released_at),
            "release_reason": h.release_reason,
        }
        for h in Hold.objects.filter(recording=rec).order_by("set_at")
    ]
    return {
        "schema": CERTIFICATE_SCHEMA,
        "certificate": disposal.certificate_number,
        "issued_at": iso(now),
        "what": {
            "recording": rec.pk,
            "officer": manifest.get("officer", {"number": rec.officer.number}),
            "device": manifest.get("device", {"serial": rec.device.serial}),
            "incident": rec.incident.reference if rec.incident else "",
            "trigger_on_at": iso(rec.trigger_on_at),
            "trigger_off_at": iso(rec.trigger_off_at),
            "categories": category_names(rec),
            "objects": objects,
            "total_bytes": sum(o["size"] for o in objects if o.get("bytes_removed")),
        },
        "why": why,
        "holds_released_before": released,
        "who": {"recycled_by": disposal.recycled_by, "purged_by": str(actor)},
        "when": {
            "recycled_at": iso(disposal.recycled_at),
            "recoverable_until": iso(disposal.purge_after),
            "purge_started_at": iso(disposal.purge_started_at),
            "purged_at": iso(now),
            "attempts": disposal.attempts,
        },
        "store": mask_url(store.url),
    }



def find(number: str) -> DeletionCertificate:
    cert = DeletionCertificate.objects.filter(number=number.upper()).first()
    if cert is None:
        raise CertificateNotFound(f"no deletion certificate {number}")
    return cert


def body(cert: DeletionCertificate) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(cert.body)  # written by this module: a JSON object
    return parsed


def html(cert: DeletionCertificate) -> str:
    data = body(cert)
    return render_to_string(
        "retention/certificate.html",
        {"cert": cert, "c": data, "what": data["what"], "why": data["why"]},
    )


def pdf_bytes(cert: DeletionCertificate) -> tuple[bytes | None, str]:
    """(the PDF, "") or (None, why not) where WeasyPrint or its libraries are missing.

    Under CI (CI=true) a missing WeasyPrint is an error, not a quiet skip.
    """
    try:
        import weasyprint
    except (ImportError, OSError) as exc:
        problem = f"WeasyPrint is not usable here ({exc}); install weasyprint and libpango"
        if os.environ.get("CI", "").lower() == "true":
            raise CertificateError(problem) from exc
        return None, problem
    return weasyprint.HTML(string=html(cert)).write_pdf(), ""


def write(cert: DeletionCertificate, folder: Path) -> CertificateFiles:
    """Write NUMBER.json (the stored canonical bytes) and NUMBER.pdf into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / f"{cert.number}.json"
    json_path.write_text(cert.body, "utf-8")
    pdf, problem = pdf_bytes(cert)
    pdf_path = None
    if pdf is not None:
        pdf_path = folder / f"{cert.number}.pdf"
        pdf_path.write_bytes(pdf)
    return CertificateFiles(json_path, pdf_path, problem)
