"""A queue that cannot be reached after commit must not undo or misreport the action.

Jobs are sent to the queue once the action's transaction commits. If Redis is down at that
moment, the action (an ingest: stored bytes, its Original row, its custody entry) has
already committed: the failure to send must not surface as a failed ingest, which the dock
watcher would quarantine and a tus client would retry as a false second delivery. The job
rows stay queued and are re-sent by `redispatch_stranded()` when a worker starts.
"""

from __future__ import annotations

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from overt.custody.models import CustodyEntry
from overt.evidence.models import Original
from overt.ingest.services import ingest_file
from overt.jobs import services as jobs
from overt.jobs.models import Job


def _queue_down(job_id: int, run_after: object = None) -> None:
    raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.mark.django_db(transaction=True)
def test_an_ingest_whose_jobs_cannot_be_sent_still_succeeds(clips, monkeypatch) -> None:
    from overt.evidence.models import Device, Officer

    Officer.objects.create(number="MP100", name="PC Test")
    Device.objects.create(serial="CAM-1")
    monkeypatch.setattr(jobs, "dispatch", _queue_down)

    result = ingest_file(clips["good"], officer_number="MP100", device_serial="CAM-1")

    assert result.status == "stored"
    original = Original.objects.get(pk=result.id)
    assert CustodyEntry.objects.filter(object_sha256=original.sha256, action="ingest").count() == 1
    waiting = Job.objects.filter(status=Job.Status.QUEUED)
    assert waiting.count() == 5  # four media jobs and the transcript, left for redispatch_stranded()

    sent: list[int] = []
    monkeypatch.setattr(jobs, "dispatch", lambda job_id, run_after=None: sent.append(job_id))
    assert jobs.redispatch_stranded(older_than_s=0) == 5
    assert sorted(sent) == sorted(waiting.values_list("pk", flat=True))
