"""The oversight pages in Debian's Chromium: the dashboard's SVG bars drill down to the
attendances and on to a recording; complaints link footage; a supervisor reviews the
sample and the officer sees the outcome. No request leaves the site (no CDN)."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from oversight_support import ACTOR, as_file, at, attending, deployment, officer, recording

from overt.access.matrix import Role
from overt.oversight.compliance import run
from overt.oversight.deployments import import_deployments
from overt.oversight.models import ReviewItem
from overt.testing.access import make_user, sign_in
from support_browser import screenshot


def signed_in(page, live_server, user) -> None:  # type: ignore[no-untyped-def]
    client = sign_in(Client(), user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def scene() -> dict[str, int]:
    a, b = officer("A1"), officer("B2")
    on_time = recording(a, at(-1), at(31))
    late = recording(b, at(4), at(31))
    items = [
        deployment("CAD 1", [attending("A1", at(0), at(30)), attending("B2", at(0), at(30))]),
        deployment("CAD 2", [attending("A1", at(60), at(90))], arrived=at(60), borough="Camden"),
    ]
    import_deployments(as_file(items), actor=ACTOR)
    run(date(2026, 11, 20), date(2026, 11, 20))
    return {"on_time": on_time.pk, "late": late.pk}


@pytest.mark.django_db(transaction=True)
def test_dashboard_drills_down_to_attendances_and_recordings(live_server, page) -> None:
    ids = scene()
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    signed_in(page, live_server, make_user("em", Role.EVIDENCE_MANAGER))
    page.goto(f"{live_server.url}/oversight/")
    assert page.get_by_role("heading", level=1).text_content().startswith("Oversight")
    late_chart = page.get_by_role("img", name="Late activations, by borough")
    assert late_chart.is_visible()
    screenshot(page, "oversight-dashboard")
    late_chart.locator("a").filter(has=page.locator("title", has_text="Westminster")).first.click()
    page.wait_for_url("**/oversight/attendances/**")
    rows = page.locator("#attendances tbody tr")
    assert rows.count() == 1 and "late" in rows.first.text_content()
    rows.first.get_by_role("link").first.click()
    page.wait_for_url(f"**/recordings/{ids['late']}/")
    page.goto(f"{live_server.url}/oversight/?borough=Camden")
    page.get_by_role("img", name="Attendances with no footage, by borough").locator(
        "a"
    ).first.click()
    assert "no-footage" in page.locator("#attendances tbody tr").first.text_content()
    assert outside == []


@pytest.mark.django_db(transaction=True)
def test_drill_down_lists_only_recordings_the_viewer_may_see(live_server, page) -> None:
    scene()
    signed_in(page, live_server, make_user("aud", Role.AUDITOR))  # sees oversight, no footage
    page.goto(f"{live_server.url}/oversight/attendances/?status=recorded")
    row = page.locator("#attendances tbody tr").first
    assert "1 not visible to you" in row.text_content() and row.get_by_role("link").count() == 0


@pytest.mark.django_db(transaction=True)
def test_complaint_review_and_the_officers_own_outcome(live_server, page) -> None:
    ids = scene()
    signed_in(page, live_server, make_user("em", Role.EVIDENCE_MANAGER))
    page.goto(f"{live_server.url}/oversight/complaints/")
    page.get_by_label("Reference").fill("CO/77")
    page.get_by_label("Received on").fill("2026-11-21")
    page.get_by_label("Events from (e.g. 2026-11-20T14:00:00Z)").fill("2026-11-20T14:00:00Z")
    page.get_by_label("Events to").fill("2026-11-20T14:20:00Z")
    page.get_by_label("Officers named (numbers, separated by spaces)").fill("B2")
    page.get_by_role("button", name="Register").click()
    page.wait_for_url("**/oversight/complaints/CO/77/")
    page.get_by_role("button", name="Link and hold").click()
    assert (
        page.locator("ul[aria-labelledby=linked] a").first.get_attribute("href")
        == f"/recordings/{ids['late']}/"
    )
    screenshot(page, "oversight-complaint")

    signed_in(page, live_server, make_user("sgt", Role.SUPERVISOR, team="SCO19"))
    page.goto(f"{live_server.url}/oversight/review/?team=SCO19")
    page.get_by_label("Week (any day of it)").fill("2026-11-20")
    page.get_by_role("button", name="Draw the sample").click()
    form = page.locator("form").filter(has=page.get_by_role("button", name="Record")).first
    form.get_by_label("good practice").check()
    form.get_by_label("Note").fill("clear commentary")
    form.get_by_role("button", name="Record").click()
    assert page.get_by_text("clear commentary").count() >= 1

    reviewed = ReviewItem.objects.get(reviewed_at__isnull=False)
    signed_in(
        page, live_server, make_user("pc", Role.OFFICER, officer=reviewed.recording.officer.number)
    )
    page.goto(f"{live_server.url}/oversight/my-reviews/")
    row = page.locator("table tbody tr").first
    assert "good-practice" in row.text_content() and "clear commentary" in row.text_content()
    screenshot(page, "oversight-my-reviews")
    signed_in(
        page, live_server, make_user("other", Role.OFFICER, officer="ZZ1" if officer("ZZ1") else "")
    )
    page.goto(f"{live_server.url}/oversight/my-reviews/")
    assert "None of your recordings" in page.locator("table tbody").text_content()
