"""Deletion certificates as documents: the canonical JSON as stored (and hashed into the
custody log), and a PDF of the same for people, made with WeasyPrint."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string

from .models import DeletionCertificate


class CertificateError(Exception):
    pass


class CertificateNotFound(CertificateError):
    pass


@dataclass(frozen=True)
class CertificateFiles:
    json: Path
    pdf: Path | None
    pdf_problem: str = ""

    def paths(self) -> list[Path]:
        return [p for p in (self.json, self.pdf) if p is not None]


def find(number: str) -> DeletionCertificate:
    cert = DeletionCertificate.objects.filter(number=number.upper()).first()
    if cert is None:
        raise CertificateNotFound(f"no deletion certificate {number}")
    return cert


def body(cert: DeletionCertificate) -> dict[str, Any]:
    return json.loads(cert.body)


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
