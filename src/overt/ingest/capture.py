"""Capture signatures at ingest (issue 13): the segments an overt camera agent offloads
are joined into one Recording by (device, recording id), and what their signed manifests
prove is worked out again each time a segment or a manifest arrives, by the rules in
overt.custody.overt_verify_capture (the same file the exhibit package's checker runs).

The verdict is kept on every original (its own manifest) and on the recording (the whole
chain), with the problems; the manifests' times, pre-event length, GPS fixes and clock
offset become the recording's. A change of the recording's verdict is a custody entry on
each of its originals. Nothing here refuses a file: an unsigned or broken segment is
stored and flagged like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from overt.custody import overt_verify_capture as rules
from overt.custody.services import Action, Actor, Subject, record_many
from overt.evidence.models import Device, Officer, Original, Recording

from . import prechecks
from .models import CaptureManifest, DeviceKey
from .people import IngestError
from .times import CaptureTimeError, check_capture_time

if TYPE_CHECKING:
    from .steps import IngestContext

MAX_RECORDING_ID = 64


def keys_of(device: Device) -> list[rules.Key]:
    """Every key the device ever had, with its validity."""
    return [
        rules.Key(k.key_id, bytes.fromhex(k.public_key), k.valid_from, k.valid_until)
        for k in DeviceKey.objects.filter(device=device)
    ]


@dataclass(frozen=True, slots=True)
class Change:
    recording: Recording
    before: str
    verdict: rules.Verdict

    @property
    def changed(self) -> bool:
        return self.before != self.verdict.capture_signature


def recording_for(
    device: Device,
    officer: Officer,
    capture_recording: str,
    started_at: datetime,
    stopped_at: datetime | None,
) -> Recording:
    """The one Recording of the device's activation `capture_recording`, found or made
    (locked: segments of one recording arriving together are catalogued in turn)."""
    if not capture_recording or len(capture_recording) > MAX_RECORDING_ID:
        raise IngestError(f"capture-recording must be 1 to {MAX_RECORDING_ID} characters")
    recording = (
        Recording.objects.select_for_update()
        .filter(device=device, capture_recording_id=capture_recording)
        .first()
    )
    if recording is None:
        return Recording.objects.create(
            device=device,
            officer=officer,
            title=f"{officer.number} {device.serial}",
            trigger_on_at=started_at,
            trigger_off_at=stopped_at,
            capture_recording_id=capture_recording,
        )
    if recording.officer_id != officer.pk:
        prechecks.check_recording_owner(recording, officer)
    if stopped_at and (recording.trigger_off_at is None or stopped_at > recording.trigger_off_at):
        recording.trigger_off_at = stopped_at  # until the final manifest says when it ended
        recording.save(update_fields=["trigger_off_at"])
    return recording


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything the verdict of one recording is worked out from, as stored now."""

    serial: str
    originals: list[Original]
    manifests: dict[str, CaptureManifest]
    segments: list[rules.Segment]
    keys: list[rules.Key]
    chain: rules.DeviceChain

    def verdict(self) -> rules.Verdict:
        return rules.verify_recording(self.serial, self.keys, self.segments, self.chain)


def evidence_of(recording: Recording) -> Evidence:
    originals = list(recording.originals.order_by("started_at", "id"))
    named = [o.capture_manifest_sha256 for o in originals if o.capture_manifest_sha256]
    manifests = {m.sha256: m for m in CaptureManifest.objects.filter(sha256__in=named)}
    segments = [_segment(o, manifests.get(o.capture_manifest_sha256)) for o in originals]
    device = recording.device
    return Evidence(
        device.serial, originals, manifests, segments, keys_of(device), _chain(device, segments)
    )


def reverify(recording: Recording) -> Change:
    """Work the recording's capture signature out again from everything now stored, and
    keep it on the recording and each original (and the manifests' facts on the recording)."""
    before = recording.capture_signature
    evidence = evidence_of(recording)
    originals, manifests = evidence.originals, evidence.manifests
    verdict = evidence.verdict()
    for original, (own, problems) in zip(originals, verdict.segments, strict=True):
        if (original.capture_signature, original.capture_problems) != (own, problems):
            original.capture_signature, original.capture_problems = own, problems
            original.save(update_fields=["capture_signature", "capture_problems"])
        manifest = manifests.get(original.capture_manifest_sha256)
        if manifest is not None and manifest.original_id != original.pk:
            manifest.original = original
            manifest.save(update_fields=["original"])
    recording.capture_signature = verdict.capture_signature
    recording.capture_problems = verdict.problems
    _apply_facts(recording, verdict.facts)
    recording.save()
    return Change(recording, before, verdict)


def record_change(change: Change, actor: Actor) -> None:
    """A custody entry on each original when the recording's verdict changed."""
    if not change.changed:
        return
    recording = change.recording
    details = {
        "recording": recording.pk,
        "before": change.before,
        "after": change.verdict.capture_signature,
        "problems": change.verdict.problems,
    }
    record_many(
        Action(
            "capture-verdict",
            actor,
            Subject(sha, {"original": pk, "recording": recording.pk}),
            details=details,
        )
        for pk, sha in recording.originals.order_by("id").values_list("pk", "sha256")
    )


def follow_on(recording: Recording, actor: Actor) -> None:
    """The device's next recording may have waited on this one (a device_sequence gap)."""
    sequence = _sequence_of(recording)
    if sequence is None:
        return
    later = (
        CaptureManifest.objects.filter(
            device=recording.device, device_sequence=sequence + 1, original__isnull=False
        )
        .values_list("original__recording", flat=True)
        .first()
    )
    if later is not None and later != recording.pk:
        nxt = Recording.objects.select_for_update().get(pk=later)
        record_change(reverify(nxt), actor)


def manifest_arrived(manifest: CaptureManifest, actor: Actor) -> int | None:
    """A manifest that came after its segment: the segment's recording is verified again.
    Returns that recording's id, or None when no stored file names the manifest yet."""
    original = Original.objects.filter(capture_manifest_sha256=manifest.sha256).first()
    if original is None:
        return None
    recording = Recording.objects.select_for_update().get(pk=original.recording_id)
    record_change(reverify(recording), actor)
    follow_on(recording, actor)
    return recording.pk


# --- ingest steps -----------------------------------------------------------------------


def verify_step(ctx: IngestContext) -> None:
    """RECORD step: a file offloaded by a camera agent (it names its capture recording)
    has its recording verified again, now with this file."""
    original = ctx.original
    if original is None or not ctx.request.capture_recording:
        return
    manifest = ctx.request.capture_manifest or ""
    if manifest != original.capture_manifest_sha256:
        original.capture_manifest_sha256 = manifest
        original.save(update_fields=["capture_manifest_sha256"])
    change = reverify(original.recording)
    original.refresh_from_db(fields=["capture_signature", "capture_problems"])
    ctx.capture_change = change
    ctx.capture = {
        "recording_id": ctx.request.capture_recording,
        "manifest_sha256": manifest,
        "capture_signature": original.capture_signature,
        "capture_problems": original.capture_problems,
        "recording_capture_signature": change.verdict.capture_signature,
    }


def change_step(ctx: IngestContext) -> None:
    """RECORD step, after the ingest entry: the verdict's change, and the next recording."""
    change = ctx.capture_change
    if change is None:
        return
    if change.recording.originals.count() > 1:  # a new recording's verdict is in its ingest
        record_change(change, ctx.actor)
    follow_on(change.recording, ctx.actor)


# --- helpers ----------------------------------------------------------------------------


def _segment(original: Original, manifest: CaptureManifest | None) -> rules.Segment:
    return rules.Segment(
        sha256=original.sha256,
        size=original.size,
        manifest=bytes(manifest.body) if manifest else None,
        signature=bytes(manifest.signature) if manifest else None,
        manifest_sha256=original.capture_manifest_sha256,
        label=original.filename,
    )


def _chain(device: Device, segments: list[rules.Segment]) -> rules.DeviceChain:
    """What the device's other recordings say about this one's first segment."""
    firsts = []
    for seg in segments:
        try:
            body = rules.parse_manifest(seg.manifest) if seg.manifest else None
        except ValueError:
            continue
        if body is not None and body["segment"] == 0:
            firsts.append(body)
    if not firsts:
        return rules.DeviceChain()
    body = firsts[0]
    sequence, previous = body["device_sequence"], body["previous_manifest_sha256"] or ""
    held = CaptureManifest.objects.filter(device=device, signature_ok=True)
    linked = held.filter(sha256=previous).values_list("sha256", "device_sequence", "ends_recording")
    taken = (
        held.filter(device_sequence=sequence).exclude(recording_id=body["recording_id"]).exists()
    )
    return rules.DeviceChain(
        {sha: (seq or 0, ends) for sha, seq, ends in linked}, {sequence} if taken else set()
    )


def _sequence_of(recording: Recording) -> int | None:
    return (
        CaptureManifest.objects.filter(original__recording=recording, signature_ok=True)
        .values_list("device_sequence", flat=True)
        .first()
    )


def _apply_facts(recording: Recording, facts: dict[str, Any]) -> None:
    """The manifests' account of the activation, where it holds and is possible."""
    if not facts:
        return
    started, ended = _possible(facts.get("started_at")), _possible(facts.get("ended_at"))
    pre_event = facts.get("pre_event_seconds")
    if pre_event is not None and 0 <= pre_event <= 600:
        recording.pre_event_seconds = float(pre_event)
    if started is not None:
        recording.trigger_on_at = started + timedelta(seconds=recording.pre_event_seconds)
    if ended is not None and ended >= recording.trigger_on_at:
        recording.trigger_off_at = ended
    offset = facts.get("clock_offset_s")
    if isinstance(offset, int | float) and not isinstance(offset, bool):
        recording.clock_offset_s = float(offset)
    starts = [t for t in facts.get("triggers", []) if t.get("action") == "start"]
    stops = [t for t in facts.get("triggers", []) if t.get("action") == "stop"]
    if starts:
        recording.trigger_on_reason = _reason(starts[0])
    if stops:
        recording.trigger_off_reason = _reason(stops[-1])
    track = _track(facts.get("gps", []))
    if track:
        recording.gps_track = track
        recording.start_latitude, recording.start_longitude = track[0]["lat"], track[0]["lon"]


def _possible(when: object) -> datetime | None:
    if not isinstance(when, datetime):
        return None
    try:
        return check_capture_time(when, "a manifest time")
    except CaptureTimeError:
        return None


def _reason(trigger: dict[str, Any]) -> str:
    kind, why = str(trigger.get("kind", "")), str(trigger.get("reason", "") or "")
    peer = trigger.get("peer_serial")
    text = f"{kind}: {why}" if why else kind
    return (f"{text} (peer {peer})" if peer else text)[:64]


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _track(fixes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GPS fixes as the catalogue's track ({t, lat, lon}, in time order), impossible ones
    left out (they stay in the manifest, which is kept as received)."""
    points = []
    for fix in fixes:
        lat, lon = _number(fix.get("lat")), _number(fix.get("lon"))
        if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            continue
        try:
            at = rules.parse_time(fix.get("at"))
        except ValueError:
            continue
        points.append((at, {"t": at.astimezone(UTC).isoformat(), "lat": lat, "lon": lon}))
    points.sort(key=lambda p: p[0])
    return [p for _, p in points]
