"""Redaction projects end to end on the real store, database and job worker: detect,
review, render a signed derivative; custody entries; C2PA read back; failures."""

from __future__ import annotations

import json
import os
import stat
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
from overt.redaction import editing, rendering, services
from overt.redaction.engine.c2pa_sign import (
    CHAIN_FILE,
    KEY_FILE,
    ROOT_FILE,
    SigningError,
    ensure_certificate,
    read_credentials,
)
from overt.redaction.evalset import make_eval_clip
from overt.redaction.models import AudioRange, RedactionProject, Render, Track
from support_derivatives import assert_every_derivative_has_its_entry


@pytest.fixture(scope="module")
def face_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("redaction-services") / "faces.mp4"
    make_eval_clip(
        path, seed=21, faces=2, width=640, height=360, duration_s=2.0, sizes=(60.0, 100.0)
    )
    return path


@pytest.fixture
def original(people, face_clip) -> Original:
    result = ingest_file(face_clip, officer_number="MP100", device_serial="CAM-1")
    return Original.objects.get(pk=result.id)


def details(entry: CustodyEntry) -> dict:
    return json.loads(entry.entry)["details"]


def custody_steps(sha256: str) -> list[tuple[str, str, str]]:
    entries = CustodyEntry.objects.filter(object_sha256=sha256).order_by("index")
    return [
        (e.action, e.actor, details(e).get("step", details(e).get("kind", "")))
        for e in entries
        if e.action in {"redaction", "derivative-create"}
    ]


def stored_file(sha256: str, folder: Path) -> Path:
    path = folder / f"{sha256}.mp4"
    path.write_bytes(b"".join(get_store().read_range(sha256)))
    return path


@pytest.mark.django_db(transaction=True)
def test_project_detect_review_render_makes_a_signed_derivative(original, tmp_path) -> None:
    original_bytes = get_store().rehash(original.sha256)
    project = services.create_project(original, "alice", title="press release", plates=False)
    assert Job.objects.get(kind="redaction.detect").params == {"project": project.pk}
    run_worker(burst=True)

    project.refresh_from_db()
    assert project.status == RedactionProject.Status.REVIEW
    assert (project.width, project.height, project.frames) == (640, 360, 50)
    assert "centerface" in project.detectors
    faces = list(project.tracks.filter(label="face"))
    assert len(faces) >= 2
    for track in faces:
        assert track.boxes.count() >= 1 and track.thumbnail[:2] == b"\xff\xd8"  # JPEG

    # Review: leave one face out, move a box, add a manual box and a muted range.
    left_out = faces[0]
    editing.set_included(left_out, False, "bob")
    editing.set_keyframe(faces[1], 0.4, (0.1, 0.1, 0.3, 0.4), "bob")
    manual = editing.add_manual_track(project, 1.0, (0.7, 0.7, 0.9, 0.95), "bob")
    editing.add_audio_range(project, 0.5, 1.0, "mute", "bob")
    editing.add_audio_range(project, 1.2, 1.4, "bleep", "bob")

    render = rendering.request_render(project, "carol")
    run_worker(burst=True)
    render.refresh_from_db()
    derivative = render.derivative
    assert derivative is not None and derivative.kind == Derivative.Kind.REDACTED
    assert derivative.original_id == original.pk and derivative.content_type == "video/mp4"
    assert (
        derivative.generator == "overt.redaction" and "onnxruntime=" in derivative.generator_version
    )
    project.refresh_from_db()
    assert project.status == RedactionProject.Status.RENDERED

    manifest = derivative.facts
    assert manifest["source"]["sha256"] == original.sha256
    assert manifest["redacted_by"] == "carol"
    assert left_out.number in [t["id"] for t in manifest["excluded_tracks"]]
    assert left_out.number not in [t["id"] for t in manifest["tracks"]]
    assert manual.number in [t["id"] for t in manifest["tracks"]]
    assert [r["mode"] for r in manifest["audio_ranges"]] == ["mute", "bleep"]
    assert "centerface.onnx sha256:09189deaaf8646c5" in manifest["detectors"]["centerface"]

    # The file: playable, same size and timing, and its credentials name the original.
    path = stored_file(derivative.sha256, tmp_path)
    info = probe(path)
    assert info.playable and (info.width, info.height) == (640, 360) and info.audio_codec == "aac"
    credentials = read_credentials(path)
    assert credentials.state in ("Valid", "Trusted")
    assert credentials.ingredient_sha256 == original.sha256
    assert credentials.assertion is not None
    assert credentials.assertion["source"]["sha256"] == original.sha256
    kinds = [a["action"] for a in credentials.actions]
    assert kinds[0] == "c2pa.opened" and kinds[-1] == "c2pa.transcoded"
    edits = [a for a in credentials.actions if a["action"] == "c2pa.edited"]
    assert len(edits) == len(manifest["tracks"]) + 2
    assert any("audio muted from 0.50 s to 1.00 s" in a.get("description", "") for a in edits)
    assert credentials.signer.get("alg", "").lower() == "es256"

    # The original is untouched, and every step is in the custody log, in order.
    assert get_store().rehash(original.sha256) == original_bytes == original.sha256
    steps = custody_steps(original.sha256)
    assert steps[0] == ("redaction", "user:alice", "project-create")
    assert ("redaction", "system:redaction", "detect") in steps
    assert ("redaction", "user:bob", "track-exclude") in steps
    assert ("redaction", "user:bob", "keyframe") in steps
    assert ("redaction", "user:bob", "track-add") in steps
    assert steps.count(("redaction", "user:bob", "audio-range-add")) == 2
    assert ("redaction", "user:carol", "render-request") in steps
    assert steps[-2:] == [
        ("redaction", "user:carol", "render"),
        ("derivative-create", "system:redaction", "redacted"),
    ]
    created = [
        details(e)
        for e in CustodyEntry.objects.filter(
            action="derivative-create", object_sha256=original.sha256
        )
        if details(e)["kind"] == "redacted"
    ]
    assert [d["sha256"] for d in created] == [derivative.sha256]

    # A second render (say, for a different requester) is a second derivative.
    editing.set_included(left_out, True, "bob")
    second = rendering.request_render(project, "carol")
    run_worker(burst=True)
    second.refresh_from_db()
    assert second.derivative is not None and second.derivative.pk != derivative.pk
    assert Derivative.objects.filter(original=original, kind="redacted").count() == 2
    assert_every_derivative_has_its_entry()


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_render_leaves_no_derivative_and_runs_again(original) -> None:
    project = services.create_project(original, "alice", plates=False, detect=False)
    services.run_detection(project.pk)
    project.refresh_from_db()
    render = rendering.request_render(project, "alice")
    objects_before = set(get_store().iter_hashes())

    class Interrupted(Exception):
        pass

    def stop_halfway(fraction: float, message: str) -> None:
        if fraction >= 0.45:
            raise Interrupted

    with pytest.raises(Interrupted):
        rendering.run_render(render.pk, progress=stop_halfway)
    assert not Derivative.objects.filter(kind="redacted").exists()
    assert set(get_store().iter_hashes()) == objects_before
    assert not [
        e
        for e in CustodyEntry.objects.filter(
            action="derivative-create", object_sha256=original.sha256
        )
        if details(e)["kind"] == "redacted"
    ]
    render.refresh_from_db()
    assert render.derivative is None

    outcome = rendering.run_render(render.pk)
    assert outcome.derivative.kind == "redacted"
    again = rendering.run_render(render.pk)  # idempotent
    assert again.derivative.pk == outcome.derivative.pk
    assert Derivative.objects.filter(kind="redacted").count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_unplayable_original_is_refused_clearly(people, clips) -> None:
    result = ingest_file(clips["corrupt"], officer_number="MP100", device_serial="CAM-1")
    original = Original.objects.get(pk=result.id)
    with pytest.raises(services.RedactionProblem, match="cannot be redacted: it is not playable"):
        services.create_project(original, "alice")
    assert not RedactionProject.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_review_edits_are_checked(original) -> None:
    project = services.create_project(original, "alice", plates=False, detect=False)
    services.run_detection(project.pk)
    project.refresh_from_db()
    track = project.tracks.first()
    with pytest.raises(services.RedactionProblem, match="outside the recording"):
        editing.set_keyframe(track, 99.0, (0.1, 0.1, 0.2, 0.2), "bob")
    with pytest.raises(services.RedactionProblem, match="width and a height"):
        editing.add_manual_track(project, 0.5, (0.5, 0.5, 0.5, 0.6), "bob")
    with pytest.raises(services.RedactionProblem):
        editing.add_audio_range(project, 1.0, 0.5, "mute", "bob")
    with pytest.raises(services.RedactionProblem):
        editing.add_audio_range(project, 0.0, 0.5, "shout", "bob")
    detection = track.boxes.first()
    with pytest.raises(services.RedactionProblem, match="leave the track out"):
        editing.delete_keyframe(detection, "bob")
    keyframe = editing.set_keyframe(track, 0.2, (0.1, 0.1, 0.2, 0.2), "bob")
    editing.delete_keyframe(keyframe, "bob")
    item = editing.add_audio_range(project, 0.1, 0.2, "mute", "bob")
    editing.remove_audio_range(item, "bob")
    assert not AudioRange.objects.exists()
    steps = [s for _, _, s in custody_steps(original.sha256)]
    assert (
        steps.count("keyframe") == 1
        and "keyframe-remove" in steps
        and "audio-range-remove" in steps
    )
    # Re-detection replaces detected tracks but keeps the reviewer's manual ones.
    manual = editing.add_manual_track(project, 0.5, (0.5, 0.5, 0.6, 0.6), "bob")
    services.run_detection(project.pk)
    assert Track.objects.filter(pk=manual.pk).exists()
    numbers = list(project.tracks.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers))


def test_the_signing_certificate_is_made_once_and_kept_private(tmp_path) -> None:
    keys = tmp_path / "keys"
    first = ensure_certificate(keys)
    assert stat.S_IMODE(os.stat(keys).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(keys / KEY_FILE).st_mode) == 0o600
    assert (keys / ROOT_FILE).exists()
    chain = (keys / CHAIN_FILE).read_text()
    assert chain.count("BEGIN CERTIFICATE") == 2
    again = ensure_certificate(keys)
    assert again == first and (keys / CHAIN_FILE).read_text() == chain
    os.chmod(keys / KEY_FILE, 0o644)
    with pytest.raises(SigningError, match="chmod 600"):
        ensure_certificate(keys)


def test_an_unsigned_file_has_no_credentials(clips) -> None:
    with pytest.raises(SigningError, match="no readable content credentials"):
        read_credentials(clips["good"])


@pytest.mark.django_db(transaction=True)
def test_renders_sign_with_the_instance_certificate(original) -> None:
    project = services.create_project(original, "alice", plates=False, detect=False)
    services.run_detection(project.pk)
    render = rendering.request_render(RedactionProject.objects.get(pk=project.pk), "alice")
    rendering.run_render(render.pk)
    keys = get_settings().home_dir / "keys"
    assert (keys / CHAIN_FILE).exists() and stat.S_IMODE(os.stat(keys / KEY_FILE).st_mode) == 0o600
    assert Render.objects.get(pk=render.pk).derivative is not None
