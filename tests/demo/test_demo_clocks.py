"""The demo's armed deployment, as `overt demo-data` records it (smaller pictures): two
of its three cameras have clock errors, and the offset estimate job finds them."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import pytest

from overt.demo import seed
from overt.evidence.models import Incident, Original
from overt.jobs.worker import run_worker
from overt.review import offsets, sync
from overt.review.models import SyncOffset

TOLERANCE_S = 0.05
DEMO_SEED = 7  # `overt demo-data`'s default


@pytest.mark.django_db(transaction=True)
def test_offset_estimates_find_the_demo_camera_clock_errors(tmp_path: Path) -> None:
    seed._people()
    armed_ref = seed.INCIDENTS[0][0]
    for n, rec in enumerate(seed.plan(DEMO_SEED)):  # n as create_demo numbers them
        if rec.incident != armed_ref:
            continue
        (result, *_) = seed._record(tmp_path, n, rec, DEMO_SEED, (160, 90))
        # The recording claims its camera's clock, not the true time of the plan.
        claimed = Original.objects.get(pk=result.id).recording.trigger_on_at
        drift = (claimed - rec.trigger_on).total_seconds()
        assert drift == pytest.approx(seed.CLOCK_ERROR_S.get(rec.device, 0.0), abs=0.001)
    incident = Incident.objects.get(reference=armed_ref)
    originals = offsets.playable_originals(incident.recordings.values_list("pk", flat=True))
    error = {o.pk: seed.CLOCK_ERROR_S.get(o.recording.device.serial, 0.0) for o in originals}
    assert len(originals) == 4 and sorted(set(error.values())) == [-1.3, 0.0, 0.8]

    job = offsets.request_estimate(incident)
    assert job is not None
    run_worker(burst=True)
    job.refresh_from_db()
    assert job.status == "succeeded", job.last_error

    rows = list(SyncOffset.objects.select_related("reference", "other"))
    # Every pair of clips from different cameras: the first camera's two clips each
    # against the other two cameras, and those two against each other.
    assert len(rows) == 5
    for row in rows:
        # `other` starts estimated_s later than its claimed start says, against `reference`.
        expected = error[row.reference_id] - error[row.other_id]
        assert row.estimated_s == pytest.approx(expected, abs=TOLERANCE_S), row
        # Since the demo footage speaks its lines (each camera its own wearer's voice over
        # the shared scene sound), the peak stands less far above its sidelobes: the
        # offset is as exact as before, but confidence is "high" (>= 0.7), no longer > 0.9.
        assert row.source == SyncOffset.Source.ESTIMATE, row
        assert sync.confidence_level(row.confidence) == "high", (row, row.confidence)

    # On the incident's timeline each clip is moved back by its camera's error.
    placed = offsets.place(originals, rows)
    for a, b in combinations(originals, 2):
        moved = placed[b.pk].correction_s - placed[a.pk].correction_s
        assert moved == pytest.approx(error[a.pk] - error[b.pk], abs=TOLERANCE_S)
