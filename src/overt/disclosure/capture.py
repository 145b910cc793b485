"""The capture evidence in an exhibit package (issue 13): each original's signed manifest
and signature as received, the device's keys with their validity windows, what the server
knew of the device's other recordings, and the verdict, in `capture/`, with the checker
`custody/overt_verify_capture.py` beside `overt_verify.py`, which runs it when it finds
`capture/capture.json`. A recording from a camera that signs nothing has no capture/."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from overt.custody import overt_verify_capture as rules
from overt.evidence.models import Original, Recording
from overt.ingest.capture import evidence_of
from overt.ingest.models import DeviceKey

from .package import Member

CHECKER = Path(rules.__file__)
CHECKER_NAME = "overt_verify_capture.py"


def _when(value: object) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None  # type: ignore[attr-defined]


def capture_members(
    recording: Recording, folder: str, exhibit_name: Callable[[Original], str]
) -> list[Member]:
    """The capture/ folder and the checker, or nothing for a camera that signs nothing."""
    evidence = evidence_of(recording)
    if not recording.capture_recording_id and not evidence.manifests:
        return []
    verdict = evidence.verdict()
    members: list[Member] = []
    listed = []
    for original in evidence.originals:
        sha = original.capture_manifest_sha256
        manifest = evidence.manifests.get(sha)
        item: dict[str, object] = {
            "path": f"originals/{exhibit_name(original)}",
            "filename": original.filename,
            "sha256": original.sha256,
            "size": original.size,
            "manifest_sha256": sha,
            "manifest": None,
            "signature": None,
        }
        if manifest is not None:
            item["manifest"], item["signature"] = f"{sha}.manifest.json", f"{sha}.manifest.sig"
            members.append(
                Member.of_bytes(f"{folder}/capture/{sha}.manifest.json", bytes(manifest.body))
            )
            members.append(
                Member.of_bytes(f"{folder}/capture/{sha}.manifest.sig", bytes(manifest.signature))
            )
        listed.append(item)
    keys = DeviceKey.objects.filter(device=recording.device)
    body = {
        "format": rules.PACKAGE_FORMAT,
        "recording": recording.pk,
        "device_serial": recording.device.serial,
        "capture_recording_id": recording.capture_recording_id,
        "capture_signature": verdict.capture_signature,
        "capture_problems": verdict.problems,
        "pre_event_seconds": recording.pre_event_seconds,
        "clock_offset_s": recording.clock_offset_s,
        "keys": [
            {
                "key_id": k.key_id,
                "public_key": k.public_key,
                "valid_from": _when(k.valid_from),
                "valid_until": _when(k.valid_until),
                "retired_because": k.retired_because,
            }
            for k in keys
        ],
        "device_chain": {
            "manifests": [
                {"sha256": sha, "device_sequence": seq, "ended": ended}
                for sha, (seq, ended) in sorted(evidence.chain.manifests.items())
            ],
            "other_sequences": sorted(evidence.chain.other_sequences),
        },
        "originals": listed,
    }
    text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    return [
        Member.of_bytes(f"{folder}/capture/capture.json", text.encode()),
        *members,
        Member.of_bytes(f"{folder}/custody/{CHECKER_NAME}", CHECKER.read_bytes()),
    ]
