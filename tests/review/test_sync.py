"""The audio offset estimator, on demo footage with a known injected clock error, and the
sync job, manual nudges (audited) and placement on the incident's wall-clock timeline."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from overt.custody.models import CustodyEntry
from overt.demo.footage import render_clip
from overt.demo.seed import plan
from overt.evidence.models import Device, Incident, Officer, Original, Recording
from overt.ingest.services import ingest_file
from overt.ingest.sidecar import parse_sidecar
from overt.jobs.worker import run_worker
from overt.review import offsets, sync
from overt.review.models import SyncOffset

TOLERANCE_S = 0.020
WORLD = 7  # the demo's world seed: the same sounds at the same instants for every camera


@pytest.fixture(scope="module")
def armed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The demo's armed deployment, as its first two officers filmed it (small and short)."""
    folder = tmp_path_factory.mktemp("armed")
    planned = [p for p in plan(WORLD) if p.incident == "CAD 4410/20NOV"][:2]
    clips = []
    for n, rec in enumerate(planned):
        start = rec.trigger_on - timedelta(seconds=24)  # a shortened pre-event buffer
        path = folder / f"{rec.device}.mp4"
        render_clip(
            path,
            seed=700 + n,
            start_utc=start,
            duration_s=24,
            device_serial=rec.device,
            officer_number=rec.officer,
            width=160,
            height=90,
            world_seed=WORLD,
        )
        clips.append((rec, path, start))
    silent_world = folder / "elsewhere.mp4"
    render_clip(
        silent_world,
        seed=799,
        start_utc=clips[1][2],
        duration_s=24,
        device_serial="ELSEWHERE",
        officer_number="0",
        width=160,
        height=90,
        world_seed=12345,  # another place: none of the same sounds
    )
    return {"clips": clips, "elsewhere": silent_world}


@pytest.mark.parametrize("injected", [0.0, 0.437, -1.234, 6.0105])
def test_estimate_is_within_20_ms_of_an_injected_offset(armed, injected: float) -> None:
    (_, a_path, a_start), (_, b_path, b_start) = armed["clips"]
    a, b = sync.decode_pair(a_path, b_path)
    # Camera B's clock runs `injected` seconds slow: it claims an earlier start.
    claimed_b = b_start.timestamp() - injected
    estimate = sync.estimate_offset(a, a_start.timestamp(), b, claimed_b)
    assert abs(estimate.offset_s - injected) <= TOLERANCE_S
    assert estimate.level == "high" and estimate.confidence > 0.9
    assert estimate.overlap_s > 10


def test_unrelated_audio_has_no_confidence(armed) -> None:
    (_, a_path, a_start), (_, _, b_start) = armed["clips"]
    a, other = sync.decode_pair(a_path, armed["elsewhere"])
    estimate = sync.estimate_offset(a, a_start.timestamp(), other, b_start.timestamp())
    assert estimate.level == "low"


def test_clips_that_do_not_overlap_are_refused(armed) -> None:
    (_, a_path, a_start), _ = armed["clips"]
    a = sync.decode_audio(a_path)
    with pytest.raises(sync.SyncError, match="overlap"):
        sync.estimate_offset(a, a_start.timestamp(), a, a_start.timestamp() + 3600)


def test_a_clip_without_audio_is_refused(clips) -> None:
    with pytest.raises(sync.SyncError, match="no audio"):
        sync.decode_audio(clips["silent"])


def _ingest(rec, path: Path, started: datetime) -> Original:
    sidecar = {
        "schema": "overt.sidecar/1",
        "officer": rec.officer,
        "device": rec.device,
        "recording": {
            "trigger_on_at": rec.trigger_on.isoformat(),
            "incident": rec.incident,
            "title": rec.title,
            "pre_event_seconds": 24,
        },
        "clip": {"started_at": started.isoformat()},
    }
    result = ingest_file(
        path,
        officer_number=None,
        device_serial=None,
        sidecar=parse_sidecar(json.dumps(sidecar).encode()),
    )
    return Original.objects.get(pk=result.id)


@pytest.mark.django_db(transaction=True)
def test_sync_job_nudge_and_placement(armed) -> None:
    (rec_a, a_path, a_start), (rec_b, b_path, b_start) = armed["clips"]
    for number, serial in [(rec_a.officer, rec_a.device), (rec_b.officer, rec_b.device)]:
        Officer.objects.get_or_create(number=number, defaults={"name": number})
        Device.objects.get_or_create(serial=serial)
    injected = 0.830  # B's camera says it started 0.83 s before it really did
    first = _ingest(rec_a, a_path, a_start)
    second = _ingest(rec_b, b_path, b_start - timedelta(seconds=injected))
    incident = Incident.objects.get(reference=rec_a.incident)

    job = offsets.request_estimate(incident)
    assert job is not None and job.kind == "review.sync-offsets"
    run_worker(burst=True)
    job.refresh_from_db()
    assert job.status == "succeeded", job.last_error
    row = SyncOffset.objects.get()
    reference, other = (first, second) if first.pk < second.pk else (second, first)
    assert (row.reference_id, row.other_id) == (reference.pk, other.pk)
    expected = injected if other == second else -injected
    assert abs(row.estimated_s - expected) <= TOLERANCE_S
    assert row.source == "estimate" and row.offset_s == row.estimated_s
    assert row.confidence > 0.9 and row.estimator == sync.ESTIMATOR
    estimated = CustodyEntry.objects.filter(action="metadata-change").last()
    assert json.loads(estimated.entry)["actor"] == {"kind": "system", "id": "review.sync"}

    placed = offsets.place([first, second], [row])
    true_gap = (b_start - a_start).total_seconds()
    assert (
        abs((placed[second.pk].start - placed[first.pk].start).total_seconds() - true_gap)
        <= TOLERANCE_S
    )

    # A reviewer nudges it by a frame; the change is in the custody log, and it stands
    # even when the estimate runs again.
    nudged = offsets.save_manual(row, row.offset_s + 0.04, username="rev", note="lip sync")
    entry = json.loads(CustodyEntry.objects.filter(action="metadata-change").last().entry)
    assert entry["actor"] == {"kind": "user", "id": "rev"}
    assert entry["justification"] == "lip sync"
    assert entry["details"]["before"] == {"offset_s": row.offset_s, "source": "estimate"}
    assert entry["details"]["after"]["source"] == "manual"
    assert entry["object"]["sha256"] == other.sha256
    offsets.estimate_incident(incident.pk)
    nudged.refresh_from_db()
    assert nudged.source == "manual" and nudged.offset_s == pytest.approx(row.offset_s + 0.04)
    with pytest.raises(ValueError):
        offsets.save_manual(nudged, 10_000.0, username="rev")


def test_placement_spans_several_cameras_and_clips(db) -> None:
    """Pairs link clips into one timeline; a second clip of the same recording follows
    its first; an unlinked clip keeps its camera's clock."""
    from overt.evidence.models import Recording

    officer = Officer.objects.create(number="P1", name="P")
    device = Device.objects.create(serial="D1")
    t0 = datetime(2026, 1, 1, 12, tzinfo=UTC)

    def clip(n: int, recording: Recording, start_s: float) -> Original:
        return Original.objects.create(
            sha256=f"{n:064x}",
            size=1,
            recording=recording,
            filename=f"{n}.mp4",
            source=Original.Source.CLI,
            duration_s=20,
            started_at=t0 + timedelta(seconds=start_s),
            playable=True,
        )

    recs = [
        Recording.objects.create(officer=officer, device=device, trigger_on_at=t0) for _ in range(4)
    ]
    a, a2 = clip(1, recs[0], 0), clip(2, recs[0], 20)
    b, c, lone = clip(3, recs[1], 5), clip(4, recs[2], 10), clip(5, recs[3], 3600)
    ab = SyncOffset.objects.create(
        reference=a, other=b, offset_s=0.5, source="estimate", confidence=0.9
    )
    bc = SyncOffset.objects.create(reference=b, other=c, offset_s=-0.25, source="manual")
    weak = SyncOffset.objects.create(
        reference=a, other=c, offset_s=9.0, source="estimate", confidence=0.1
    )
    placed = offsets.place([a, a2, b, c, lone], [ab, bc, weak])
    base = placed[a.pk].correction_s
    assert placed[b.pk].correction_s - base == pytest.approx(0.5)
    assert placed[c.pk].correction_s - base == pytest.approx(0.25)  # via b, not the weak pair
    assert placed[a2.pk].correction_s == pytest.approx(base)
    assert placed[lone.pk].anchored is False and placed[lone.pk].correction_s == 0.0
    pairs = offsets.overlapping_pairs([a, a2, b, c, lone])
    assert {(x.pk, y.pk) for x, y in pairs} == {
        (a.pk, b.pk),
        (a.pk, c.pk),
        (a2.pk, b.pk),
        (a2.pk, c.pk),
        (b.pk, c.pk),
    }


@pytest.mark.django_db(transaction=True)
def test_a_reported_clock_offset_is_the_first_estimate(armed) -> None:
    """An overt camera's clock offset (issue 13) centres the search: a clock 20 s out,
    beyond the 15 s searched, is still lined up, and the offset counts from the claims."""
    (rec_a, a_path, a_start), (rec_b, b_path, b_start) = armed["clips"]
    for number, serial in [(rec_a.officer, rec_a.device), (rec_b.officer, rec_b.device)]:
        Officer.objects.get_or_create(number=number, defaults={"name": number})
        Device.objects.get_or_create(serial=serial)
    injected = 20.0  # B's camera clock is 20 s behind the server's
    _ingest(rec_a, a_path, a_start)
    second = _ingest(rec_b, b_path, b_start - timedelta(seconds=injected))
    Recording.objects.filter(pk=second.recording_id).update(clock_offset_s=-19.9)
    (row,) = offsets.estimate_incident(Incident.objects.get(reference=rec_a.incident).pk)
    expected = injected if row.other_id == second.pk else -injected
    assert row.source == "estimate" and row.confidence > 0.9
    assert abs(row.offset_s - expected) <= TOLERANCE_S
