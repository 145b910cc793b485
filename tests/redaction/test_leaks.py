"""The leak check on rendered copies, release gating, decisions in custody and manifest;
bulk include / leave out and merging tracks. Real store, database, worker and model."""

from __future__ import annotations

from pathlib import Path

import pytest
from leak_support import steps

from overt import errors
from overt.evidence.models import Derivative, Original
from overt.ingest.services import ingest_file
from overt.jobs.worker import run_worker
from overt.redaction import bulk, leaks, rendering, services
from overt.redaction.engine.adhoc import Options, redact_file
from overt.redaction.engine.leakcheck import check_copy
from overt.redaction.models import LeakFinding, Track


def test_the_check_finds_faces_in_an_unredacted_copy_and_none_in_a_redacted_one(
    big_faces: Path, tmp_path: Path
) -> None:
    plain = check_copy(big_faces, stride=2)
    assert plain.frames == 50 and plain.checked == 25 and plain.findings
    best = max(plain.findings, key=lambda f: f.frames)
    assert best.frames >= 10 and best.thumbnail is not None and best.thumbnail.shape[0] == 96
    assert 0 <= best.box[0] < best.box[2] <= 1 and best.start_s <= best.end_s
    summary = plain.summary()
    assert summary["checked_frames"] == 25 and len(summary["findings"]) == len(plain.findings)

    out = tmp_path / "redacted.mp4"
    redact_file(big_faces, out, Options())
    assert check_copy(out, stride=2).findings == []


@pytest.fixture
def original(people, big_faces) -> Original:
    result = ingest_file(big_faces, officer_number="MP100", device_serial="CAM-1")
    return Original.objects.get(pk=result.id)


@pytest.mark.django_db(transaction=True)
def test_a_copy_with_findings_is_not_releasable_until_each_is_cleared(original) -> None:
    project = services.create_project(original, "alice", title="press")
    run_worker(burst=True)
    project.refresh_from_db()
    faces = list(project.tracks.filter(label="face").order_by("number"))
    assert faces
    # Leave every face out: the copy leaks, and the check must say so.
    bulk.set_included_many(project, [t.number for t in faces], False, "bob")
    render = rendering.request_render(project, "carol")
    run_worker(burst=True)
    render.refresh_from_db()
    derivative = render.derivative
    assert derivative is not None
    findings = list(render.leak_findings.order_by("number"))
    assert findings and all(f.status == LeakFinding.Status.OPEN for f in findings)
    assert findings[0].thumbnail[:2] == b"\xff\xd8"
    check = derivative.facts["leak_check"]
    assert [f["decision"] for f in check["findings"]] == ["open"] * len(findings)
    assert check["checked_frames"] >= 25 and "centerface" in check["detector"]
    assert leaks.blockers(render) and not leaks.releasable(derivative)
    with pytest.raises(leaks.NotReleasable) as refused:
        leaks.require_releasable(derivative)
    assert isinstance(refused.value, errors.Conflict)

    # One is fixed (a manual track for the next render); the copy stays blocked.
    fixed = leaks.decide(findings[0], "fix", "dave", note="bystander")
    assert fixed.status == LeakFinding.Status.FIXED and fixed.fixed_by_track is not None
    manual = project.tracks.get(number=fixed.fixed_by_track)
    assert manual.label == Track.Label.MANUAL and manual.start_s == pytest.approx(fixed.start_s)
    with pytest.raises(services.RedactionProblem):
        leaks.decide(findings[0], "not-a-face", "dave")
    derivative.refresh_from_db()
    assert not leaks.releasable(derivative)
    assert derivative.facts["leak_check"]["findings"][0]["decision"] == "fixed"

    # Marking every finding of a fresh copy "not a face" clears it.
    bulk.set_included_many(project, [t.number for t in faces], True, "bob")
    second = rendering.request_render(project, "carol")
    run_worker(burst=True)
    second.refresh_from_db()
    assert second.derivative is not None
    for finding in second.leak_findings.all():
        leaks.decide(finding, "not-a-face", "erin", note="a blurred blob")
    second.derivative.refresh_from_db()
    assert leaks.blockers(second) == [] and leaks.releasable(second.derivative)
    leaks.require_releasable(second.derivative)
    decided = [s for s in steps(original.sha256) if s["step"] == "leak-finding"]
    assert decided[0]["decision"] == "fixed" and decided[0]["track"] == fixed.fixed_by_track
    assert {"render", "finding", "derivative"} <= set(decided[0])
    with pytest.raises(services.RedactionProblem):
        leaks.decide(findings[1] if len(findings) > 1 else findings[0], "maybe", "erin")


@pytest.mark.django_db(transaction=True)
def test_other_derivatives_are_releasable_and_a_redacted_one_without_a_check_is_not(
    original,
) -> None:
    proxy_like = Derivative(original=original, kind=Derivative.Kind.PROXY, facts={})
    assert leaks.releasable(proxy_like)
    assert not leaks.releasable(Derivative(original=original, kind=Derivative.Kind.REDACTED))


@pytest.mark.django_db(transaction=True)
def test_bulk_leave_out_and_merge_tracks(original) -> None:
    project = services.create_project(original, "alice", detect=False)
    from overt.redaction import editing

    a = editing.add_manual_track(project, 0.0, (0.1, 0.1, 0.2, 0.2), "bob", seconds=0.5)
    b = editing.add_manual_track(project, 0.8, (0.3, 0.1, 0.4, 0.2), "bob", seconds=0.5)
    c = editing.add_manual_track(project, 1.5, (0.5, 0.1, 0.6, 0.2), "bob", seconds=0.4)
    assert bulk.set_included_many(project, [a.number, b.number], False, "bob") == [1, 2]
    assert list(project.tracks.filter(included=False).values_list("number", flat=True)) == [1, 2]
    with pytest.raises(services.RedactionProblem):
        bulk.set_included_many(project, [a.number, 99], True, "bob")
    kept = bulk.merge_tracks(project, [c.number, a.number, b.number], "bob")
    assert kept.number == a.number and project.tracks.count() == 1
    assert (kept.start_s, kept.end_s) == (pytest.approx(0.0), pytest.approx(1.9))
    assert kept.boxes.count() == 6 and kept.included  # c was still masked
    assert steps(original.sha256)[-1] == {
        "step": "track-merge",
        "track": a.number,
        "merged": [b.number, c.number],
    }
    with pytest.raises(services.RedactionProblem):
        bulk.merge_tracks(project, [kept.number], "bob")


@pytest.mark.django_db(transaction=True)
def test_merging_never_unmasks_what_a_merged_track_masked(original) -> None:
    """Two people on screen at once are not one person: merging them would leave one
    box where two were masked. Duplicate boxes of one face become one box covering both."""
    from overt.redaction import editing

    project = services.create_project(original, "alice", detect=False)
    left = editing.add_manual_track(project, 0.5, (0.1, 0.1, 0.2, 0.3), "bob", seconds=1.0)
    right = editing.add_manual_track(project, 0.8, (0.6, 0.1, 0.7, 0.3), "bob", seconds=1.0)
    with pytest.raises(services.RedactionProblem, match="not one person"):
        bulk.merge_tracks(project, [left.number, right.number], "bob")
    assert project.tracks.count() == 2  # nothing changed
    assert set(right.boxes.values_list("x1", flat=True)) == {0.6}
    # Interpolated too: a keyframe of one inside the other's span, far from it.
    late = editing.add_manual_track(project, 1.2, (0.8, 0.6, 0.9, 0.8), "bob", seconds=0.2)
    with pytest.raises(services.RedactionProblem, match="not one person"):
        bulk.merge_tracks(project, [left.number, late.number], "bob")

    # One face found twice at the same instants, boxes overlapping: merged, covering both.
    twin = editing.add_manual_track(project, 0.5, (0.15, 0.12, 0.25, 0.35), "bob", seconds=1.0)
    kept = bulk.merge_tracks(project, [left.number, twin.number], "bob")
    boxes = list(kept.boxes.order_by("t"))
    assert len(boxes) == 2 and project.tracks.count() == 3
    for box in boxes:
        assert (box.x1, box.y1, box.x2, box.y2) == pytest.approx((0.1, 0.1, 0.25, 0.35))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("right_box", [(0.15, 0.1, 0.25, 0.3), (0.2, 0.1, 0.3, 0.3)])
def test_a_merged_track_covers_each_merged_track_at_every_moment(original, right_box) -> None:
    """Keyframes at different moments: the merged track must not slide from one track's
    box to the other's and leave the first bare between them (overlapping, and touching
    only at an edge)."""
    from overt.redaction import editing
    from overt.redaction.bulk import _engine_tracks
    from overt.redaction.models import Box

    project = services.create_project(original, "alice", detect=False)
    left = editing.add_manual_track(project, 0.2, (0.1, 0.1, 0.2, 0.3), "bob", seconds=1.6)
    right = editing.add_manual_track(project, 0.6, right_box, "bob", seconds=0.8)
    sources = [left, right]
    before = _engine_tracks(sources, list(Box.objects.filter(track__in=sources)))
    kept = bulk.merge_tracks(project, [left.number, right.number], "bob")
    after = _engine_tracks([kept], list(kept.boxes.all()))[kept.number]
    for step in range(0, 161):
        t = 0.2 + step * 0.01
        merged = after.box_at(t)
        for track in before.values():
            own = track.box_at(t)
            if own is None:
                continue
            assert merged is not None, t
            assert merged[0] <= own[0] + 1e-9 and merged[1] <= own[1] + 1e-9, (t, merged, own)
            assert merged[2] >= own[2] - 1e-9 and merged[3] >= own[3] - 1e-9, (t, merged, own)
