"""Ingest → jobs → derivatives, end to end on the configured engine.

The embedded run uses the database job backend; the scaled run (OVERT_TEST_ENGINES=scaled)
runs this same test on RQ with real Redis, PostgreSQL and S3.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from overt.conf import get_settings
from overt.custody.models import CustodyEntry
from overt.evidence.models import Derivative, Original
from overt.evidence.store import get_store
from overt.ingest.services import ingest_file
from overt.jobs.models import Job
from overt.jobs.worker import run_worker
from overt.media.probe import probe


@pytest.mark.scaled
@pytest.mark.django_db(transaction=True)
def test_ingest_makes_all_derivatives_with_provenance(people, clips, clean_queue) -> None:
    result = ingest_file(clips["good"], officer_number="MP100", device_serial="CAM-1")
    assert Job.objects.filter(status=Job.Status.QUEUED).count() == 5  # 4 media, 1 transcript

    run_worker(burst=True)

    jobs = list(Job.objects.all())
    assert [(j.status, j.progress, j.attempts) for j in jobs] == [("succeeded", 1.0, 1)] * 5
    store = get_store()
    made = Derivative.objects.filter(original_id=result.id)
    assert made.filter(kind="transcript").count() == 1  # overt.transcripts: tests/transcripts
    derivatives = {d.kind: d for d in made.exclude(kind="transcript")}
    assert set(derivatives) == {"proxy", "poster", "sprite", "waveform"}
    for d in derivatives.values():
        assert store.rehash(d.sha256) == d.sha256
        assert d.size == store.size(d.sha256)
        assert d.generator == "overt.media" and "pyav=" in d.generator_version
    logged = CustodyEntry.objects.filter(action="derivative-create", object_sha256=result.sha256)
    assert sorted(json.loads(e.entry)["details"]["kind"] for e in logged) == sorted(
        [*derivatives, "transcript"]
    )

    with tempfile.TemporaryDirectory() as tmp:
        proxy = Path(tmp) / "proxy.mp4"
        proxy.write_bytes(b"".join(store.read_range(derivatives["proxy"].sha256)))
        info = probe(proxy)
    assert info.playable and info.video_codec == "h264" and info.audio_codec == "aac"
    assert info.duration_s == pytest.approx(2.0, abs=0.15)
    waveform = json.loads(b"".join(store.read_range(derivatives["waveform"].sha256)))
    assert waveform["has_audio"] and len(waveform["peaks"]) > 50

    run_worker(burst=True)  # a second pass finds nothing to redo
    assert Derivative.objects.filter(original_id=result.id).count() == 5


@pytest.mark.embedded_only(reason="hides the stored object by renaming its local file")
@pytest.mark.django_db(transaction=True)
def test_failing_job_retries_then_fails_with_its_reason_and_can_run_again(people, clips) -> None:
    store = get_store()
    result = ingest_file(clips["silent"], officer_number="MP100", device_serial="CAM-1")
    original = Original.objects.get(pk=result.id)
    path = store.local_path(original.sha256)
    assert path is not None
    hidden = path.with_name(path.name + ".hidden")
    path.rename(hidden)  # the store loses the object: every attempt fails for real
    try:
        run_worker(burst=True)
    finally:
        hidden.rename(path)
    failed = Job.objects.get(kind="media.poster")
    assert failed.status == Job.Status.FAILED
    assert failed.attempts == failed.max_attempts == get_settings().job_max_attempts
    assert "no object" in failed.last_error and original.sha256 in failed.last_error
    assert not Derivative.objects.exists()

    from overt.jobs.services import retry

    for job in Job.objects.filter(status=Job.Status.FAILED):
        retry(job)
    run_worker(burst=True)
    assert set(Job.objects.values_list("status", flat=True)) == {"succeeded"}
    assert Derivative.objects.filter(original=original).count() == 5  # with its transcript
    waveform = Derivative.objects.get(original=original, kind="waveform")
    assert json.loads(b"".join(store.read_range(waveform.sha256)))["has_audio"] is False


def test_every_job_kind_has_a_handler() -> None:
    from overt.jobs.registry import JOB_KINDS, missing_handlers

    assert JOB_KINDS and missing_handlers() == []


def test_a_kind_without_a_handler_stops_startup() -> None:
    from django.core.exceptions import ImproperlyConfigured

    from overt.jobs import registry

    registry.JOB_KINDS["test.orphan"] = "declared but never handled"
    try:
        with pytest.raises(ImproperlyConfigured, match=r"test\.orphan"):
            registry.check_handlers()
    finally:
        del registry.JOB_KINDS["test.orphan"]


def test_the_kinds_the_stages_enqueue_are_the_kinds_handled() -> None:
    """The handler modules name their kinds literally (they import their stage's heavy
    modules only when a job runs); the constants the stages enqueue with must match."""
    from overt.cases import prerender
    from overt.jobs.registry import handler_for
    from overt.review import derive, offsets
    from overt.transcripts.jobs import TRANSCRIBE_JOB

    for kind in (derive.CLIP_JOB, derive.STILL_JOB, offsets.SYNC_JOB, prerender.JOB_KIND):
        assert handler_for(kind).__module__.endswith(".jobs")
    assert handler_for(TRANSCRIBE_JOB)


def test_django_startup_registers_every_handler_without_the_media_stack() -> None:
    """Every `overt` command starts Django, which imports each stage's job handlers to
    check that every kind has one; PyAV, NumPy and OpenCV wait until a job runs."""
    import subprocess
    import sys

    script = (
        "import sys, django; django.setup()\n"
        "from overt.jobs.registry import missing_handlers\n"
        "assert missing_handlers() == [], missing_handlers()\n"
        "print(sorted(m for m in ('av', 'numpy', 'cv2', 'onnxruntime') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
