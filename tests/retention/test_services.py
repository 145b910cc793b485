"""The retention services on a real catalogue and store: recycle, recover, purge,
certificates and tombstones, holds, triggers, early deletion with two people."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from retention_support import ACTOR, make_recording, snapshot

from overt.custody.models import CustodyEntry
from overt.custody.services import Actor
from overt.evidence.models import Derivative, Original, Recording
from overt.retention import services
from overt.retention.models import (
    DeletionCertificate,
    DeletionRequest,
    Disposal,
    Hold,
    Tombstone,
)
from overt.retention.services import NotFound, Refused, run_retention

pytestmark = [pytest.mark.scaled, pytest.mark.usefixtures("policies")]
DAY = timedelta(days=1)


def _new(people, store, days_ago, clock, label, categories=("Non-evidential",), **kw):
    officer, device = people
    return make_recording(
        store,
        officer,
        device,
        clock.now() - timedelta(days=days_ago),
        label=label,
        categories=categories,
        **kw,
    )


def _status(made) -> str:
    d = Disposal.objects.filter(recording_ref=made.pk).order_by("-pk").first()
    return d.status if d else "live"


def test_due_footage_is_recycled_then_purged_with_certificate_and_tombstone(
    people, purge_store, sim_clock
) -> None:
    old = _new(people, purge_store, 40, sim_clock, "old", originals=2)
    young = _new(people, purge_store, 10, sim_clock, "young")
    evidential = _new(people, purge_store, 400, sim_clock, "ev", categories=("Evidential",))

    report = run_retention(store=purge_store)
    assert [(o.recording, o.action) for o in report.outcomes] == [(old.pk, "recycled")]
    assert _status(old) == "recycled" and _status(young) == "live"
    assert all(purge_store.exists(sha) for sha in old.objects)  # the bin keeps it whole
    recycle_entries = CustodyEntry.objects.filter(action="delete")
    assert recycle_entries.count() == 2  # one per original
    assert {e.object_sha256 for e in recycle_entries} <= set(old.objects)

    sim_clock.advance(6 * DAY)
    assert run_retention(store=purge_store).count("purged") == 0  # still recoverable
    sim_clock.advance(DAY)
    report = run_retention(store=purge_store)
    assert report.count("purged") == 1

    for sha in old.objects:
        assert not purge_store.exists(sha)
    assert not Recording.objects.filter(pk=old.pk).exists()
    assert not Original.objects.filter(sha256__in=list(old.objects)).exists()
    assert not Derivative.objects.filter(sha256__in=list(old.objects)).exists()
    assert Recording.objects.filter(pk__in=[young.pk, evidential.pk]).count() == 2

    tomb = Tombstone.objects.get(recording_ref=old.pk)
    cert = tomb.certificate
    assert hashlib.sha256(cert.body.encode()).hexdigest() == cert.sha256
    body = json.loads(cert.body)
    assert body["schema"] == "overt.deletion-certificate/1"
    assert body["what"]["officer"]["number"] == "MP200"
    assert body["what"]["device"]["serial"] == "CAM-R1"
    listed = {o["sha256"]: o["size"] for o in body["what"]["objects"]}
    assert listed == {sha: len(data) for sha, data in old.objects.items()}
    assert body["why"]["policy"] == "Non-evidential"
    assert "31 days" in body["why"]["decided_by"]
    assert (
        body["when"]["purged_at"]
        >= body["when"]["recoverable_until"]
        >= body["when"]["recycled_at"]
    )
    entry = CustodyEntry.objects.get(index=cert.custody_index)
    assert entry.action == "purge"
    assert json.loads(entry.entry)["details"]["certificate_sha256"] == cert.sha256
    per_original = CustodyEntry.objects.filter(action="purge").exclude(object_sha256="")
    assert per_original.count() == 2


def test_a_recovery_inside_the_window_brings_the_recording_back_whole(
    people, purge_store, sim_clock
) -> None:
    made = _new(people, purge_store, 35, sim_clock, "recover", originals=2)
    before = snapshot(made.pk, purge_store)
    run_retention(store=purge_store)
    assert _status(made) == "recycled"

    with pytest.raises(Refused, match="due again"):
        services.recover(made.pk, reason="oops", actor=ACTOR, store=purge_store)
    sim_clock.advance(3 * DAY)
    result = services.categorize(
        made.pk, "Evidential", actor=ACTOR, reason="shows an assault", store=purge_store
    )
    assert result["recovered"]
    assert _status(made) == "recovered"
    after = snapshot(made.pk, purge_store)
    before["categories"] = sorted([*before["categories"], "Evidential"])
    assert after == before
    sim_clock.advance(30 * DAY)
    report = run_retention(store=purge_store)
    assert report.count("purged") == 0 and report.count("recycled") == 0
    assert (
        CustodyEntry.objects.filter(
            action="metadata-change", entry__contains="recovered-from-recycle"
        ).count()
        == 2
    )


def test_recover_with_keep_until(people, purge_store, sim_clock) -> None:
    made = _new(people, purge_store, 35, sim_clock, "keep")
    run_retention(store=purge_store)
    services.recover(
        made.pk,
        reason="needed for a complaint review",
        actor=ACTOR,
        keep_until_date=sim_clock.now() + 60 * DAY,
        store=purge_store,
    )
    assert _status(made) == "recovered"
    sim_clock.advance(59 * DAY)
    assert run_retention(store=purge_store).count("recycled") == 0
    sim_clock.advance(2 * DAY)
    # kept until a date means reviewed again then, not deleted unseen
    report = run_retention(store=purge_store)
    assert report.count("recycled") == 0
    assert [r.recording for r in report.review_due] == [made.pk]


def test_a_hold_on_a_recycled_recording_brings_it_back(people, purge_store, sim_clock) -> None:
    made = _new(people, purge_store, 35, sim_clock, "held")
    run_retention(store=purge_store)
    result = services.set_hold(
        made.pk, kind="complaint", reason="IOPC referral", actor=ACTOR, store=purge_store
    )
    assert result.recovered and _status(made) == "recovered"
    sim_clock.advance(400 * DAY)
    report = run_retention(store=purge_store)
    assert report.count("recycled") == 0 and report.held == 1
    services.release_hold(made.pk, reason="complaint closed", actor=ACTOR)
    assert run_retention(store=purge_store).count("recycled") == 1


def test_held_footage_is_never_deleted_whatever_its_age(people, purge_store, sim_clock) -> None:
    made = _new(people, purge_store, 3000, sim_clock, "ancient")
    services.set_hold(made.pk, kind="legal", reason="court order 123", actor=ACTOR)
    services.set_hold(made.pk, kind="post-incident", reason="PIP", actor=ACTOR)
    sim_clock.advance(3650 * DAY)
    assert run_retention(store=purge_store).outcomes == []
    with pytest.raises(Refused, match="2 active holds"):
        services.release_hold(made.pk, reason="done", actor=ACTOR)
    services.release_hold(made.pk, reason="order lifted", actor=ACTOR, kind="legal")
    assert run_retention(store=purge_store).outcomes == []  # one hold is enough
    assert all(purge_store.exists(sha) for sha in made.objects)


def test_hold_on_deleted_recording_is_refused_naming_the_certificate(
    people, purge_store, sim_clock
) -> None:
    made = _new(people, purge_store, 35, sim_clock, "gone")
    run_retention(store=purge_store)
    sim_clock.advance(8 * DAY)
    run_retention(store=purge_store)
    number = Tombstone.objects.get(recording_ref=made.pk).certificate.number
    with pytest.raises(Refused, match=number):
        services.set_hold(made.pk, reason="too late", actor=ACTOR)
    with pytest.raises(NotFound):
        services.set_hold(999_999, reason="no such", actor=ACTOR)
    assert not Hold.objects.filter(recording_ref=made.pk).exists()


def test_released_holds_outlive_the_recording_and_appear_on_its_certificate(
    people, purge_store, sim_clock
) -> None:
    made = _new(people, purge_store, 10, sim_clock, "released", categories=("Non-evidential",))
    services.set_hold(made.pk, kind="case", reference="CASE/1", reason="case open", actor=ACTOR)
    sim_clock.advance(60 * DAY)
    services.release_hold(made.pk, reason="case closed: NFA", actor=ACTOR)
    run_retention(store=purge_store)
    sim_clock.advance(7 * DAY)
    run_retention(store=purge_store)
    hold = Hold.objects.get(recording_ref=made.pk)
    assert hold.recording is None and hold.released_at is not None
    body = json.loads(Tombstone.objects.get(recording_ref=made.pk).certificate.body)
    assert body["holds_released_before"][0]["reference"] == "CASE/1"


def test_trigger_policy_counts_from_the_case_closing(people, purge_store, sim_clock) -> None:
    made = _new(people, purge_store, 500, sim_clock, "case", categories=("Case",))
    assert run_retention(store=purge_store).outcomes == []
    assert "the case was closed" in services.retention_of(made.pk).explain()
    services.add_trigger(
        made.pk, "case-closed", occurred_at=sim_clock.now(), reason="CPS: NFA", actor=ACTOR
    )
    sim_clock.advance(89 * DAY)
    assert run_retention(store=purge_store).outcomes == []
    sim_clock.advance(DAY)
    assert run_retention(store=purge_store).count("recycled") == 1


def test_review_policies_flag_and_never_delete(people, purge_store, sim_clock) -> None:
    made = _new(people, purge_store, 370, sim_clock, "traffic", categories=("Traffic",))
    report = run_retention(store=purge_store)
    assert report.outcomes == [] and [r.recording for r in report.review_due] == [made.pk]
    assert services.review_due()[0].recording == made.pk
    services.keep_until(made.pk, sim_clock.now() + 180 * DAY, reason="appeal pending", actor=ACTOR)
    assert run_retention(store=purge_store).review_due == []


def test_uncategorised_default_review_then_delete_when_configured(
    people, purge_store, sim_clock, settings_env
) -> None:
    made = _new(people, purge_store, 40, sim_clock, "uncat", categories=())
    report = run_retention(store=purge_store)
    assert report.outcomes == [] and report.review_due[0].recording == made.pk
    worklist = services.uncategorised()
    assert worklist[0].officer == "MP200" and worklist[0].team == "Response Team 2"
    assert worklist[0].recordings == (made.pk,)
    settings_env(retention_uncategorised_action="delete", retention_uncategorised_days=60)
    assert run_retention(store=purge_store).outcomes == []
    sim_clock.advance(20 * DAY)
    assert run_retention(store=purge_store).count("recycled") == 1


def test_future_as_of_is_a_what_if_only(people, purge_store, sim_clock) -> None:
    made = _new(people, purge_store, 20, sim_clock, "whatif")
    later = sim_clock.now() + 30 * DAY
    with pytest.raises(Refused, match="future"):
        run_retention(later, store=purge_store)
    report = run_retention(later, dry_run=True, store=purge_store)
    assert [(o.recording, o.action) for o in report.outcomes] == [(made.pk, "would-recycle")]
    assert not Disposal.objects.exists()
    assert CustodyEntry.objects.filter(action="delete").count() == 0
    upcoming = services.upcoming(days=30)
    assert [(r.recording, r.stage) for r in upcoming] == [(made.pk, "recycle")]
    assert services.upcoming(days=7) == []


def test_identical_derivative_bytes_shared_with_another_recording_are_kept(
    people, purge_store, sim_clock
) -> None:
    poster = b"the same grey frame" * 10
    gone = _new(people, purge_store, 40, sim_clock, "share-a", shared_poster=poster)
    kept = _new(people, purge_store, 5, sim_clock, "share-b", shared_poster=poster)
    run_retention(store=purge_store)
    sim_clock.advance(7 * DAY)
    run_retention(store=purge_store)
    shared = hashlib.sha256(poster).hexdigest()
    assert purge_store.exists(shared)
    assert Derivative.objects.filter(sha256=shared, original__recording_id=kept.pk).exists()
    body = json.loads(Tombstone.objects.get(recording_ref=gone.pk).certificate.body)
    flags = {o["sha256"]: o["bytes_removed"] for o in body["what"]["objects"]}
    assert flags[shared] is False and sum(flags.values()) == 1


# --- early deletion ------------------------------------------------------------------------


def test_early_deletion_needs_two_different_authorised_people(
    people, purge_store, sim_clock, managers
) -> None:
    alice, bob, carol = managers
    made = _new(people, purge_store, 1, sim_clock, "early", categories=("Evidential",))
    with pytest.raises(Refused, match="approve_deletion"):
        services.request_deletion(made.pk, user=carol, reason="filmed by mistake")
    request = services.request_deletion(made.pk, user=alice, reason="filmed in a toilet by error")
    with pytest.raises(Refused, match="two different people"):
        services.decide_deletion(request.pk, user=alice, reason="me again", approve=True)
    with pytest.raises(Refused, match="approve_deletion"):
        services.decide_deletion(request.pk, user=carol, reason="ok", approve=True)
    assert _status(made) == "live"
    services.decide_deletion(
        request.pk, user=bob, reason="agreed: no evidential value", approve=True
    )
    assert _status(made) == "recycled"
    sim_clock.advance(7 * DAY)
    assert run_retention(store=purge_store).count("purged") == 1
    why = json.loads(Tombstone.objects.get(recording_ref=made.pk).certificate.body)["why"]
    assert why["basis"] == "early"
    assert (why["request"]["requested_by"], why["request"]["approved_by"]) == ("alice", "bob")
    assert why["request"]["reason"] == "filmed in a toilet by error"


def test_early_deletion_is_refused_while_held(people, purge_store, sim_clock, managers) -> None:
    alice, bob, _ = managers
    made = _new(people, purge_store, 1, sim_clock, "early-held", categories=("Evidential",))
    request = services.request_deletion(made.pk, user=alice, reason="mistake")
    services.set_hold(made.pk, kind="legal", reason="solicitor's letter", actor=ACTOR)
    with pytest.raises(Refused, match="held"):
        services.decide_deletion(request.pk, user=bob, reason="ok", approve=True)
    assert DeletionRequest.objects.get(pk=request.pk).status == "pending"
    services.decide_deletion(request.pk, user=bob, reason="no: held", approve=False)
    assert DeletionRequest.objects.get(pk=request.pk).status == "refused"


def test_the_database_refuses_a_self_approved_request(people, purge_store, sim_clock, managers):
    alice, _, _ = managers
    made = _new(people, purge_store, 1, sim_clock, "db-rule")
    request = services.request_deletion(made.pk, user=alice, reason="mistake")
    with pytest.raises(IntegrityError), transaction.atomic():
        DeletionRequest.objects.filter(pk=request.pk).update(decided_by=alice)


def test_a_purge_never_runs_before_its_recycle_window_even_if_asked(
    people, purge_store, sim_clock
) -> None:
    made = _new(people, purge_store, 40, sim_clock, "window")
    run_retention(store=purge_store)
    disposal = Disposal.objects.get(recording_ref=made.pk)
    outcome = services.purge(disposal.pk, as_of=sim_clock.now(), store=purge_store)
    assert outcome.action == "skipped"
    assert all(purge_store.exists(sha) for sha in made.objects)


def test_categories_and_holds_are_custody_logged(people, purge_store, sim_clock) -> None:
    made = _new(people, purge_store, 1, sim_clock, "logged", categories=())
    services.categorize(made.pk, "Traffic", actor=Actor("user", "pc-jones"), reason="RTC")
    with pytest.raises(NotFound, match="unknown category"):
        services.categorize(made.pk, "Nope", actor=ACTOR)
    services.set_hold(made.pk, reason="keep", actor=ACTOR)
    actions = list(
        CustodyEntry.objects.filter(object_sha256__in=list(made.objects)).values_list(
            "action", "actor"
        )
    )
    assert ("category-change", "user:pc-jones") in actions
    assert ("hold-set", "user:evidence-manager") in actions
    assert DeletionCertificate.objects.count() == 0


def test_the_daily_job_runs_retention_and_queues_tomorrow(people, sim_clock) -> None:
    from overt.evidence.store import get_store
    from overt.jobs.models import Job
    from overt.jobs.services import run
    from overt.retention.jobs import DAILY_JOB, ensure_scheduled

    made = _new(people, get_store(), 40, sim_clock, "job")
    job = ensure_scheduled()
    assert ensure_scheduled().pk == job.pk  # idempotent
    assert run(job.pk) == Job.Status.SUCCEEDED
    assert _status(made) == "recycled"
    job.refresh_from_db()
    assert "recycled 1" in job.message
    pending = Job.objects.filter(kind=DAILY_JOB, status=Job.Status.QUEUED)
    assert pending.count() == 1 and pending.get().pk != job.pk


def test_a_role_with_manage_retention_may_delete_early(people, purge_store, sim_clock, managers):
    from overt.testing.access import make_user

    alice = managers[0]
    erin = make_user("erin", "evidence-manager")  # a role, not the bare permission
    officer = make_user("olly", "officer")
    made = _new(people, purge_store, 1, sim_clock, "role", categories=("Evidential",))
    with pytest.raises(Refused, match="manage-retention"):
        services.request_deletion(made.pk, user=officer, reason="mine")
    request = services.request_deletion(made.pk, user=erin, reason="recorded by mistake")
    services.decide_deletion(request.pk, user=alice, reason="agreed", approve=True)
    assert _status(made) == "recycled"


def test_references_from_other_apps_are_cleared_or_block_the_purge(
    people, purge_store, sim_clock
) -> None:
    """A nullable PROTECT reference (an upload's record of the original it made) is
    unlinked and named on the certificate; a required one (a redaction project) stops the
    purge before any byte is removed, naming it, until it is dealt with."""
    from django.apps import apps

    if not (apps.is_installed("overt.uploads") and apps.is_installed("overt.redaction")):
        pytest.skip("the uploads and redaction apps are not installed")
    upload_model = apps.get_model("uploads", "Upload")
    project_model = apps.get_model("redaction", "RedactionProject")
    made = _new(people, purge_store, 40, sim_clock, "refs")
    original = made.recording.originals.get()
    upload = upload_model.objects.create(
        id="u-refs",
        principal_kind="device",
        principal="CAM-R1",
        officer_number="MP200",
        device_serial="CAM-R1",
        filename="x.mp4",
        length=1,
        original=original,
        expires_at=sim_clock.now(),
    )
    project = project_model.objects.create(original=original, created_by="editor")
    run_retention(store=purge_store)
    sim_clock.advance(7 * DAY)
    (outcome,) = run_retention(store=purge_store).outcomes
    assert (
        outcome.action == "blocked" and f"redaction.RedactionProject {project.pk}" in outcome.detail
    )
    assert all(purge_store.exists(sha) for sha in made.objects)
    assert Disposal.objects.get(recording_ref=made.pk).last_error.startswith("still referenced")

    project.delete()
    sim_clock.advance(DAY)
    (outcome,) = run_retention(store=purge_store).outcomes
    assert outcome.action == "purged"
    upload.refresh_from_db()
    assert upload.original is None
    body = json.loads(Tombstone.objects.get(recording_ref=made.pk).certificate.body)
    cleared = [c for o in body["what"]["objects"] for c in o.get("references_cleared", [])]
    assert cleared == ["uploads.Upload u-refs (original)"]


def test_an_open_post_incident_procedure_holds_its_incidents_footage(
    people, purge_store, sim_clock, managers
) -> None:
    from django.apps import apps

    from overt.evidence.models import Incident

    if not apps.is_installed("overt.access"):
        pytest.skip("the access app (post-incident procedures) is not installed")
    procedure_model = apps.get_model("access", "PostIncidentProcedure")
    alice = managers[0]
    made = _new(people, purge_store, 40, sim_clock, "pip")
    incident = Incident.objects.create(reference="CAD 1/PIP", kind="armed deployment")
    Recording.objects.filter(pk=made.pk).update(incident=incident)
    procedure = procedure_model.objects.create(
        incident=incident, manager=alice, started_by="user:alice", started_at=sim_clock.now()
    )
    report = run_retention(store=purge_store)
    assert report.outcomes == [] and report.held == 1
    assert services.retention_of(made.pk).explain() == "held: post-incident procedure"
    with pytest.raises(Refused, match="post-incident procedure"):
        services.request_deletion(made.pk, user=alice, reason="not needed")
    procedure_model.objects.filter(pk=procedure.pk).update(released_at=sim_clock.now())
    sim_clock.advance(DAY)
    assert run_retention(store=purge_store).count("recycled") == 1
