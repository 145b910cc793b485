"""A test camera that signs like an overt camera agent (issue 13), made with the
`cryptography` Ed25519 API directly, so the server's checks are tested without the agent."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from overt.custody import overt_verify_capture as rules

START = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


def rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Piece:
    """One segment as the agent offloads it: the file's bytes, its manifest, signature."""

    data: bytes
    manifest: bytes
    signature: bytes
    recording_id: str
    segment: int

    @property
    def manifest_sha256(self) -> str:
        return hashlib.sha256(self.manifest).hexdigest()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def as_segment(self, data: bytes | None = None) -> rules.Segment:
        data = self.data if data is None else data
        return rules.Segment(
            hashlib.sha256(data).hexdigest(),
            len(data),
            self.manifest,
            self.signature,
            self.manifest_sha256,
        )

    def post_body(self) -> dict[str, str]:
        return {
            "manifest": base64.b64encode(self.manifest).decode(),
            "signature": base64.b64encode(self.signature).decode(),
        }


@dataclass
class Camera:
    serial: str
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    sequence: int = 0
    previous: str | None = None

    @property
    def public_key(self) -> bytes:
        return self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def public_key_b64(self) -> str:
        return base64.b64encode(self.public_key).decode()

    @property
    def key_id(self) -> str:
        return rules.key_id_of(self.public_key)

    def rules_key(self, valid_from: datetime = START - timedelta(days=1)) -> rules.Key:
        return rules.Key(self.key_id, self.public_key, valid_from)

    def sign(self, body: dict[str, Any]) -> tuple[bytes, bytes]:
        data = json.dumps(body, separators=(",", ":")).encode()
        return data, self.key.sign(data)

    def record(
        self,
        datas: list[bytes],
        *,
        start: datetime = START,
        seconds: float = 60.0,
        pre_event: float = 30.0,
        interrupted: bool = False,
        gps: list[dict[str, Any]] | None = None,
        clock_offset_s: float | None = 0.25,
    ) -> list[Piece]:
        """One recording of these segment files, chained on from the camera's last."""
        self.sequence += 1
        recording_id = uuid.uuid4().hex
        pieces = []
        for number, data in enumerate(datas):
            began = start + timedelta(seconds=seconds * number)
            last = number == len(datas) - 1
            body = {
                "format": rules.MANIFEST_FORMAT,
                "device_serial": self.serial,
                "key_id": self.key_id,
                "recording_id": recording_id,
                "segment": number,
                "device_sequence": self.sequence,
                "started_at": rfc3339(began),
                "ended_at": rfc3339(began + timedelta(seconds=seconds)),
                "pre_event_seconds": pre_event if number == 0 else 0,
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
                "previous_manifest_sha256": self.previous,
                "final": last and not interrupted,
                "interrupted": last and interrupted,
                "triggers": (
                    [
                        {
                            "at": rfc3339(began + timedelta(seconds=pre_event)),
                            "kind": "manual",
                            "action": "start",
                            "reason": "test",
                        }
                    ]
                    if number == 0
                    else []
                ),
                "gps": gps if gps is not None and number == 0 else [],
                "clock_offset_s": clock_offset_s,
                "agent_version": "test",
                "audio_in_buffer": False,
            }
            manifest, signature = self.sign(body)
            self.previous = hashlib.sha256(manifest).hexdigest()
            pieces.append(Piece(data, manifest, signature, recording_id, number))
        return pieces


# --- database helpers (Django must be set up) --------------------------------------------


def enrol_directly(camera: Camera, valid_from: datetime = START - timedelta(days=1)) -> Any:
    """The camera's key as enrolment keeps it, and a principal for its device token."""
    from overt.evidence.models import Device
    from overt.ingest.models import DeviceKey
    from overt.uploads.tokens import device_for_token, issue_token

    DeviceKey.objects.create(
        device=Device.objects.get(serial=camera.serial),
        key_id=camera.key_id,
        public_key=camera.public_key.hex(),
        valid_from=valid_from,
    )
    return device_for_token(issue_token(camera.serial, dock=False, created_by="test"))


def offload(
    folder: Any, principal: Any, piece: Piece, *, data: bytes | None = None, post: bool = True
) -> Any:
    """As the agent offloads a segment: its manifest, then the file through the ingest
    service with the capture metadata tus carries. Returns the Original."""
    from overt.evidence.models import Original
    from overt.ingest.request import IngestRequest
    from overt.ingest.services import ingest
    from overt.uploads import manifests

    if post:
        manifests.receive(principal, piece.post_body())
    path = folder / f"{piece.recording_id}-{piece.segment}.mp4"
    path.write_bytes(piece.data if data is None else data)
    body = json.loads(piece.manifest)
    result = ingest(
        IngestRequest(
            path=path,
            device_serial=body["device_serial"],
            started_at=rules.parse_time(body["started_at"]),
            stopped_at=rules.parse_time(body["ended_at"]),
            capture_manifest=piece.manifest_sha256,
            capture_recording=piece.recording_id,
        )
    )
    return Original.objects.get(pk=result.id)
