"""The materialised verdicts and the dashboards' snapshot: what a run stores equals what
is computed, a run for one borough replaces only that borough's verdicts, anything that
could change a verdict marks the snapshot stale (and a rolled-back change does not), and
the drill-down over stored verdicts still names only the recordings the viewer may see."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import transaction
from django.db.models import Count
from oversight_support import ACTOR, as_file, at, attending, deployment, officer, recording

from overt.access.matrix import Role
from overt.evidence.models import Recording
from overt.oversight import dashboard
from overt.oversight.compliance import run
from overt.oversight.deployments import import_deployments
from overt.oversight.freshness import mark_stale
from overt.oversight.models import Snapshot, Verdict
from overt.testing.access import make_user, sign_in

pytestmark = pytest.mark.django_db
DAY = date(2026, 11, 20)


def scene() -> dict[str, int]:
    a, b, c = officer("A1"), officer("B2"), officer("C3", team="TSG")
    ids = {
        "a": recording(a, at(-1), at(31)).pk,
        "b": recording(b, at(3), at(31)).pk,
        "c": recording(c, at(-1), at(31), audio=False).pk,
    }
    items = [
        deployment("CAD 1", [attending("A1", at(0), at(30)), attending("B2", at(0), at(30))]),
        deployment("CAD 2", [attending("C3", at(0), at(30))], borough="Camden", team="TSG"),
    ]
    import_deployments(as_file(items), actor=ACTOR)
    return ids


def live_counts() -> list[list[object]]:
    """The snapshot's counts computed afresh from the stored verdicts."""
    rows = Verdict.objects.values("borough", "team", "month", "status").annotate(n=Count("id"))
    return sorted([r["borough"], r["team"], r["month"], r["status"], r["n"]] for r in rows)


def snapshot_counts() -> list[list[object]]:
    snap = dashboard.latest()
    assert snap is not None
    return sorted(row[:5] for row in snap.counts)


def test_stored_verdicts_and_snapshot_are_what_the_run_computed() -> None:
    ids = scene()
    outcome = run(DAY, DAY)
    stored = {
        (v.attendance.deployment.reference, v.attendance.officer_number): v
        for v in Verdict.objects.select_related("attendance__deployment")
    }
    assert len(stored) == len(outcome.judged) == 3
    for j in outcome.judged:
        v = stored[(j.deployment, j.officer)]
        assert (v.status, v.activation_delay_s, v.early_stop_s) == (
            j.status,
            j.activation_delay_s,
            j.early_stop_s,
        )
        assert tuple(v.recordings) == j.recordings and (v.borough, v.team, v.month) == (
            j.borough,
            j.team,
            j.month,
        )
    assert stored[("CAD 2", "C3")].muted_audio and stored[("CAD 2", "C3")].recordings == [ids["c"]]
    assert snapshot_counts() == live_counts()
    assert Snapshot.objects.count() == 1 and dashboard.latest().stale_since is None


def test_a_run_for_one_borough_replaces_only_its_verdicts() -> None:
    scene()
    run(DAY, DAY)
    camden_before = Verdict.objects.get(borough="Camden")
    westminster_before = set(Verdict.objects.filter(borough="Westminster").values_list("pk"))
    run(DAY, DAY, "camden")  # the borough matches without regard to case
    assert set(Verdict.objects.filter(borough="Westminster").values_list("pk")) == (
        westminster_before
    )
    camden_after = Verdict.objects.get(borough="Camden")
    assert camden_after.pk != camden_before.pk and camden_after.status == camden_before.status
    assert Verdict.objects.count() == 3 and snapshot_counts() == live_counts()


def test_a_run_that_stores_nothing_leaves_verdicts_and_snapshot_alone() -> None:
    scene()
    run(DAY, DAY)
    before = (list(Verdict.objects.values_list("pk", flat=True)), dashboard.latest().pk)
    run(DAY, DAY, store=False)
    assert (list(Verdict.objects.values_list("pk", flat=True)), dashboard.latest().pk) == before


def test_importing_deployments_marks_the_snapshot_stale_until_the_next_run(client) -> None:
    scene()
    run(DAY, DAY)
    sign_in(client, make_user("em", Role.EVIDENCE_MANAGER))
    assert b"Out of date" not in client.get("/oversight/").content

    # The same file again changes nothing: still fresh.
    items = [
        deployment("CAD 1", [attending("A1", at(0), at(30)), attending("B2", at(0), at(30))]),
        deployment("CAD 2", [attending("C3", at(0), at(30))], borough="Camden", team="TSG"),
    ]
    import_deployments(as_file(items), actor=ACTOR)
    assert dashboard.latest().stale_since is None

    # A corrected deployment: its attendances (and their verdicts) are replaced.
    items[1] = deployment(
        "CAD 2",
        [attending("C3", at(0), at(30)), attending("A1", at(0), at(30))],
        borough="Camden",
        team="TSG",
    )
    import_deployments(as_file(items), actor=ACTOR)
    snap = dashboard.latest()
    assert snap.stale_since is not None and snap.stale_reason == "deployments imported"
    page = client.get("/oversight/").content.decode()
    assert "Out of date: deployments imported since" in page

    run(DAY, DAY)
    assert dashboard.latest().stale_since is None and Verdict.objects.count() == 4
    assert snapshot_counts() == live_counts()
    assert "Out of date" not in client.get("/oversight/").content.decode()


def test_saving_or_deleting_a_recording_marks_the_snapshot_stale() -> None:
    ids = scene()
    run(DAY, DAY)
    rec = Recording.objects.get(pk=ids["b"])
    rec.clock_offset_s = 200.0  # its camera was 200 s fast: on in time, off 140 s early
    rec.save(update_fields=["clock_offset_s"])
    snap = dashboard.latest()
    assert snap.stale_since is not None and snap.stale_reason == "recordings changed"
    first = snap.stale_since
    mark_stale("something else")  # the first change is the one kept
    assert (dashboard.latest().stale_since, dashboard.latest().stale_reason) == (
        first,
        "recordings changed",
    )
    run(DAY, DAY)
    assert dashboard.latest().stale_since is None
    b2 = Verdict.objects.get(attendance__officer_number="B2")
    assert (b2.status, b2.activation_delay_s, b2.early_stop_s) == ("early-stop", 0.0, 140.0)

    recording(officer("A1"), at(40), at(41))
    assert dashboard.latest().stale_since is not None


def test_a_rolled_back_change_leaves_the_snapshot_fresh() -> None:
    ids = scene()
    run(DAY, DAY)
    with pytest.raises(RuntimeError), transaction.atomic():
        Recording.objects.filter(pk=ids["a"]).first().save()
        assert dashboard.latest().stale_since is not None
        raise RuntimeError("rolled back")
    assert dashboard.latest().stale_since is None


def test_an_officer_registered_after_the_import_is_matched_at_the_next_run() -> None:
    import_deployments(
        as_file([deployment("CAD 9", [attending("N7", at(0), at(30))])]), actor=ACTOR
    )
    assert run(DAY, DAY).judged[0].status == "no-footage"  # unknown to overt
    recording(officer("N7"), at(-1), at(31))
    judged = run(DAY, DAY).judged
    assert [(j.officer, j.status) for j in judged] == [("N7", "recorded")]


def test_the_drill_down_over_stored_verdicts_names_only_visible_recordings(client) -> None:
    ids = scene()
    run(DAY, DAY)
    sign_in(client, make_user("em", Role.EVIDENCE_MANAGER))
    page = client.get("/oversight/attendances/?borough=Westminster").content.decode()
    assert f'href="/recordings/{ids["a"]}/"' in page and f'href="/recordings/{ids["b"]}/"' in page
    assert "not visible to you" not in page
    late = client.get("/oversight/attendances/?borough=Westminster&status=late").content.decode()
    assert f"/recordings/{ids['b']}/" in late and f"/recordings/{ids['a']}/" not in late

    client.logout()
    sign_in(client, make_user("aud", Role.AUDITOR))  # sees oversight, not footage
    page = client.get("/oversight/attendances/?borough=Westminster").content.decode()
    assert "/recordings/" not in page and page.count("1 not visible to you") == 2
