"""Multi-camera sync: which clips of an incident overlap, their estimated and nudged
offsets, and where each clip sits on the incident's one wall-clock timeline."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import pairwise

from django.db import transaction
from django.utils import timezone

from overt.custody.services import Actor, Client, Subject, record
from overt.evidence.models import Incident, Original
from overt.evidence.store import get_store
from overt.jobs.models import Job
from overt.jobs.services import enqueue

from . import sync
from .derive import local_original
from .models import SyncOffset

SYNC_JOB = "review.sync-offsets"
MAX_NUDGE_S = 600.0
SAME_CAMERA_WEIGHT = 0.2  # consecutive clips of one recording share a clock: a weak link


def playable_originals(recording_ids: Iterable[int]) -> list[Original]:
    return list(
        Original.objects.filter(
            recording_id__in=list(recording_ids), playable=True, started_at__isnull=False
        )
        .select_related("recording__officer", "recording__device")
        .order_by("started_at", "id")
    )


def span(original: Original) -> tuple[datetime, datetime]:
    assert original.started_at is not None
    length = original.duration_s
    if length is None and original.stopped_at is not None:
        length = (original.stopped_at - original.started_at).total_seconds()
    return original.started_at, original.started_at + timedelta(seconds=length or 0.0)


def overlapping_pairs(originals: Sequence[Original]) -> list[tuple[Original, Original]]:
    """Pairs of clips from different recordings whose claimed spans overlap (allowing
    for clocks up to sync.MAX_LAG_S apart), lower id first."""
    slack = timedelta(seconds=sync.MAX_LAG_S)
    pairs = []
    for i, a in enumerate(originals):
        a_start, a_end = span(a)
        for b in originals[i + 1 :]:
            if a.recording_id == b.recording_id:
                continue
            b_start, b_end = span(b)
            if b_start < a_end + slack and a_start < b_end + slack:
                pairs.append((a, b) if a.pk < b.pk else (b, a))
    return pairs


def sync_subject(incident: Incident, originals: Sequence[Original]) -> str:
    """One estimate per set of clips: new footage for the incident means a new job."""
    ids = ",".join(str(o.pk) for o in sorted(originals, key=lambda o: o.pk))
    return f"incident:{incident.pk}:{hashlib.sha256(ids.encode()).hexdigest()[:12]}"


def request_estimate(incident: Incident) -> Job | None:
    """Queue the offset estimate for every overlapping pair of the incident's clips."""
    originals = playable_originals(incident.recordings.values_list("pk", flat=True))
    if not overlapping_pairs(originals):
        return None
    return enqueue(SYNC_JOB, sync_subject(incident, originals), {"incident": incident.pk})


def latest_job(incident: Incident) -> Job | None:
    return (
        Job.objects.filter(kind=SYNC_JOB, key__startswith=f"{SYNC_JOB}:incident:{incident.pk}:")
        .order_by("-id")
        .first()
    )


def estimate_incident(
    incident_id: int, progress: Callable[[float, str], None] | None = None
) -> list[SyncOffset]:
    """The job's work: decode each clip's audio once, estimate every overlapping pair."""
    originals = playable_originals(
        Incident.objects.get(pk=incident_id).recordings.values_list("pk", flat=True)
    )
    pairs = overlapping_pairs(originals)
    store = get_store()
    audio: dict[int, sync.Audio | None] = {}
    problems: dict[int, str] = {}

    def load(original: Original) -> sync.Audio | None:
        if original.pk not in audio:
            try:
                with local_original(store, original) as path:
                    audio[original.pk] = sync.decode_audio(path)
            except sync.SyncError as exc:
                audio[original.pk] = None
                problems[original.pk] = str(exc)
        return audio[original.pk]

    saved = []
    for n, (a, b) in enumerate(pairs):
        if progress is not None:
            progress(n / max(1, len(pairs)), f"pair {n + 1} of {len(pairs)}")
        a_audio, b_audio = load(a), load(b)
        estimate = None
        if a_audio is not None and b_audio is not None:
            # An overt camera's clock offset from the server (issue 13) is the first
            # estimate: the search is centred there, and the result counts from the claims.
            shift_a, shift_b = _clock_offset(a), _clock_offset(b)
            try:
                estimate = sync.estimate_offset(
                    a_audio,
                    span(a)[0].timestamp() - shift_a,
                    b_audio,
                    span(b)[0].timestamp() - shift_b,
                )
                estimate = replace(estimate, offset_s=estimate.offset_s + shift_a - shift_b)
            except sync.SyncError:
                estimate = None
        saved.append(_save_estimate(a, b, estimate))
        if len(audio) > 8:  # keep memory flat on big incidents: most pairs are neighbours
            for pk in [pk for pk in audio if pk not in (a.pk, b.pk)][:4]:
                del audio[pk]
    return saved


def _clock_offset(original: Original) -> float:
    """The camera's clock minus the server's, as its recording last reported (0 if not)."""
    return original.recording.clock_offset_s or 0.0


def _save_estimate(a: Original, b: Original, estimate: sync.Estimate | None) -> SyncOffset:
    with transaction.atomic():
        row, _ = SyncOffset.objects.select_for_update().get_or_create(reference=a, other=b)
        before = (row.estimated_s, row.confidence)
        if estimate is None:
            row.estimated_s = row.confidence = row.peak_ratio = None
            row.overlap_s = 0.0
        else:
            row.estimated_s = round(estimate.offset_s, 6)
            row.confidence = round(estimate.confidence, 4)
            row.peak_ratio = round(estimate.peak_ratio, 3)
            row.overlap_s = round(estimate.overlap_s, 3)
        row.estimator = sync.ESTIMATOR
        row.estimated_at = timezone.now()
        if row.source != SyncOffset.Source.MANUAL:
            usable = estimate is not None and estimate.confidence > 0
            row.source = SyncOffset.Source.ESTIMATE if usable else SyncOffset.Source.NONE
            row.offset_s = row.estimated_s if usable and row.estimated_s is not None else 0.0
        row.save()
        if before != (row.estimated_s, row.confidence):
            record(
                "metadata-change",
                Actor.system("review.sync"),
                Subject(b.sha256, {"original": b.pk, "recording": b.recording_id}),
                details={
                    "sync_offset": {"reference": a.pk, "other": b.pk},
                    "estimated_s": row.estimated_s,
                    "confidence": row.confidence,
                    "peak_ratio": row.peak_ratio,
                    "offset_s": row.offset_s,
                    "source": row.source,
                    "estimator": sync.ESTIMATOR,
                },
            )
    return row


def save_manual(
    row: SyncOffset, offset_s: float, *, username: str, note: str = "", client: Client | None = None
) -> SyncOffset:
    """A reviewer's offset for the pair; audited with the value it replaced and why."""
    if not -MAX_NUDGE_S <= offset_s <= MAX_NUDGE_S:
        raise ValueError(f"an offset must be within ±{MAX_NUDGE_S:.0f} s")
    with transaction.atomic():
        row = (
            SyncOffset.objects.select_for_update()
            .select_related("reference", "other")
            .get(pk=row.pk)
        )
        before = {"offset_s": row.offset_s, "source": row.source}
        row.offset_s = round(offset_s, 6)
        row.source = SyncOffset.Source.MANUAL
        row.updated_by = username
        row.note = note[:500]
        row.save()
        record(
            "metadata-change",
            Actor("user", username),
            Subject(
                row.other.sha256, {"original": row.other_id, "recording": row.other.recording_id}
            ),
            justification=row.note,
            client=client,
            details={
                "sync_offset": {"reference": row.reference_id, "other": row.other_id},
                "before": before,
                "after": {"offset_s": row.offset_s, "source": row.source},
                "estimated_s": row.estimated_s,
                "confidence": row.confidence,
            },
        )
    return row


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a clip sits: its camera's start time plus `correction_s`."""

    original: Original
    correction_s: float
    anchored: bool  # linked to the reference clip by offsets (else: its camera's clock)
    via: SyncOffset | None  # the offset that placed it

    @property
    def start(self) -> datetime:
        return span(self.original)[0] + timedelta(seconds=self.correction_s)

    @property
    def end(self) -> datetime:
        return span(self.original)[1] + timedelta(seconds=self.correction_s)


def place(originals: Sequence[Original], offsets: Iterable[SyncOffset]) -> dict[int, Placement]:
    """Corrections for each clip from the pairwise offsets: a maximum spanning tree over
    the pairs (manual offsets first, then by confidence) from the best-connected clip.
    Consecutive clips of one recording share a clock, which weakly links them."""
    by_id = {o.pk: o for o in originals}
    edges: list[tuple[float, int, int, float, SyncOffset | None]] = []
    for row in offsets:
        if row.reference_id not in by_id or row.other_id not in by_id:
            continue
        if row.source == SyncOffset.Source.MANUAL:
            weight = 2.0
        elif row.source == SyncOffset.Source.ESTIMATE:
            weight = float(row.confidence or 0.0)
        else:
            continue
        edges.append((weight, row.reference_id, row.other_id, row.offset_s, row))
    by_recording: dict[int, list[Original]] = {}
    for o in originals:
        by_recording.setdefault(o.recording_id, []).append(o)
    for clips in by_recording.values():
        for first, second in pairwise(clips):
            edges.append((SAME_CAMERA_WEIGHT, first.pk, second.pk, 0.0, None))
    if not originals:
        return {}
    strength: dict[int, float] = {pk: 0.0 for pk in by_id}
    for weight, a, b, _, _ in edges:
        strength[a] += weight
        strength[b] += weight
    root = max(originals, key=lambda o: (strength[o.pk], -span(o)[0].timestamp(), -o.pk)).pk
    placed: dict[int, Placement] = {root: Placement(by_id[root], 0.0, True, None)}
    remaining = sorted(edges, key=lambda e: -e[0])
    grew = True
    while grew:
        grew = False
        for weight, a, b, offset, edge_row in remaining:
            if (a in placed) == (b in placed) or weight <= 0:
                continue
            if a in placed:  # b starts `offset` later than its camera says, against a
                placed[b] = Placement(by_id[b], placed[a].correction_s + offset, True, edge_row)
            else:
                placed[a] = Placement(by_id[a], placed[b].correction_s - offset, True, edge_row)
            grew = True
            break
    for pk, original in by_id.items():
        placed.setdefault(pk, Placement(original, 0.0, False, None))
    return placed
