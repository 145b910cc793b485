"""Segment manifests from overt camera agents (issue 13): received before each segment's
tus upload, kept as the exact bytes with their signature (even a bad one: it is evidence),
and asked about again before the camera deletes its copy of the segment.

A device posts manifests of itself only (a dock, of any registered device). The same
bytes posted again are the same manifest (idempotent). A manifest that arrives after its
segment has its recording's capture signature worked out again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from overt.custody import overt_verify_capture as rules
from overt.custody.services import Client, Subject, record
from overt.errors import Invalid, NotFound, Refused, TooLarge
from overt.evidence.models import Device, Original
from overt.ingest import capture
from overt.ingest.models import CaptureManifest

from .tokens import Principal

MAX_MANIFEST_BYTES = 1024 * 1024  # 30 minutes of 1 Hz GPS fixes is some 150 KB
MAX_SIGNATURE_BYTES = 1024
MAX_BODY_BYTES = 2 * MAX_MANIFEST_BYTES  # base64 of both, with room


@dataclass(frozen=True, slots=True)
class Received:
    manifest_sha256: str
    created: bool

    def to_json(self) -> dict[str, str]:
        return {"manifest_sha256": self.manifest_sha256, "status": "received"}


def receive(principal: Principal, body: Any, client: Client | None = None) -> Received:
    """Keep a manifest as received; Invalid, TooLarge or Refused (nothing kept) when the
    request itself is wrong."""
    manifest, signature = _decode(body)
    sha = hashlib.sha256(manifest).hexdigest()
    facts: dict[str, Any] | None
    problem = ""
    try:
        facts = rules.parse_manifest(manifest)
    except ValueError as exc:
        facts, problem = None, f"unreadable manifest: {exc}"
    device = _device_for(principal, facts)
    existing = CaptureManifest.objects.filter(sha256=sha).first()
    if existing is not None:
        if existing.device_id != device.pk:
            raise Refused("this manifest was received from another device")
        return Received(sha, created=False)
    if facts is not None:
        problem = rules.signature_problem(facts, manifest, signature, capture.keys_of(device)) or ""
    try:
        with transaction.atomic():
            row = CaptureManifest.objects.create(
                sha256=sha,
                device=device,
                body=manifest,
                signature=signature,
                signature_ok=facts is not None and not problem,
                problem=problem,
                key_id=str(facts["key_id"])[:16] if facts else "",
                recording_id=str(facts["recording_id"])[:64] if facts else "",
                segment=_column(facts["segment"]) if facts else None,
                device_sequence=_column(facts["device_sequence"]) if facts else None,
                ends_recording=bool(facts and (facts["final"] or facts["interrupted"])),
                segment_sha256=str(facts["sha256"])[:64] if facts else "",
                received_by=principal.token.prefix if principal.token else principal.id,
            )
            record(
                "capture-manifest",
                principal.actor,
                Subject("", {"device": device.serial}),
                client=client,
                details={
                    "manifest_sha256": sha,
                    "device": device.serial,
                    "recording_id": row.recording_id,
                    "segment": row.segment,
                    "device_sequence": row.device_sequence,
                    "segment_sha256": row.segment_sha256,
                    "signature_ok": row.signature_ok,
                    "problem": problem,
                },
            )
            capture.manifest_arrived(row, principal.actor)
    except IntegrityError:  # the same bytes, posted twice at once: theirs is the record
        if not CaptureManifest.objects.filter(sha256=sha, device=device).exists():
            raise
        return Received(sha, created=False)
    return Received(sha, created=True)


def status(principal: Principal, manifest_sha256: str) -> dict[str, Any]:
    """Whether the segment a manifest describes is stored, and as what."""
    sha = manifest_sha256.lower()
    row = CaptureManifest.objects.filter(sha256=sha).select_related("device").first()
    original = (
        Original.objects.filter(capture_manifest_sha256=sha)
        .select_related("recording__device")
        .order_by("id")
        .first()
    )
    owner = row.device if row else (original.recording.device if original else None)
    if owner is None or not _may_see(principal, owner):
        raise NotFound("no such manifest from this device")
    return {
        "manifest_sha256": sha,
        "stored": original is not None,
        "sha256": original.sha256 if original else None,
        "recording": original.recording_id if original else None,
        "capture_signature": original.capture_signature if original else None,
    }


def _column(number: int) -> int | None:
    """A number as the catalogue column holds it (32-bit on PostgreSQL); beyond, none: the
    manifest itself, kept whole, still says it."""
    return number if 0 <= number < 2**31 else None


def _may_see(principal: Principal, device: Device) -> bool:
    return principal.kind == "device" and (principal.dock or principal.id == device.serial)


def _device_for(principal: Principal, facts: dict[str, Any] | None) -> Device:
    """The device the manifest is filed under: the token's, or for a dock the one named."""
    if principal.kind != "device" or principal.token is None:
        raise Refused("only a device token may post capture manifests")
    own = principal.token.device
    named = str(facts["device_serial"]) if facts else own.serial
    if named == own.serial:
        return own
    if not principal.dock:
        raise Refused(
            f"the token of device {own.serial} may post only that device's manifests, "
            f"not {named[:64]!r}'s"
        )
    device = Device.objects.filter(serial=named).first()
    if device is None:
        raise Invalid(f"the manifest names an unknown device {named[:64]!r}")
    return device


def _decode(body: Any) -> tuple[bytes, bytes]:
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object")
    unknown = set(body) - {"manifest", "signature"}
    if unknown:
        raise Invalid(f"unknown field(s): {', '.join(sorted(unknown))}")
    out = []
    for name, limit in (("manifest", MAX_MANIFEST_BYTES), ("signature", MAX_SIGNATURE_BYTES)):
        value = body.get(name)
        if not isinstance(value, str):
            raise Invalid(f"{name} is required: base64 of its exact bytes", field=name)
        if len(value) > (limit * 4) // 3 + 4:
            raise TooLarge(f"{name} is over {limit} bytes")
        try:
            out.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise Invalid(f"{name} is not base64", field=name) from exc
    if not out[0]:
        raise Invalid("manifest is empty", field="manifest")
    return out[0], out[1]
