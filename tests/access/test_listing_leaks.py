"""Drop-downs and job lists reveal nothing about footage the viewer may not see."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from overt.access.services import visible_recordings
from overt.evidence.catalogue import facet_options
from overt.evidence.models import Device, Incident, Officer, Recording
from overt.testing.access import make_user, sign_in

WHEN = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


@pytest.fixture
def two_officers(db) -> tuple[Officer, Officer]:
    mine = Officer.objects.create(number="MP1", name="PC Mine", team="North")
    other = Officer.objects.create(number="MP2", name="PC Secret", team="South")
    for officer, serial, reference in [(mine, "CAM-A", "CAD 1"), (other, "CAM-B", "CAD 2")]:
        Recording.objects.create(
            officer=officer,
            device=Device.objects.create(serial=serial, model="W"),
            incident=Incident.objects.create(reference=reference, title=f"{reference} title"),
            trigger_on_at=WHEN,
        )
    return mine, other


def test_facets_only_name_what_the_viewer_can_see(two_officers) -> None:
    user = make_user("pc-mine", "officer", officer="MP1")
    facets = facet_options(visible_recordings(user))
    assert [n for n, _ in facets.officers] == ["MP1"]
    assert [s for s, _ in facets.devices] == ["CAM-A"]
    assert [r for r, _ in facets.incidents] == ["CAD 1"]
    everything = facet_options()
    assert {n for n, _ in everything.officers} == {"MP1", "MP2"}


def test_library_page_hides_other_officers_from_its_filters(client, two_officers) -> None:
    sign_in(client, make_user("pc-mine", "officer", officer="MP1"))
    page = client.get("/").content.decode()
    assert "PC Mine" in page
    assert "PC Secret" not in page and "CAD 2" not in page and "CAM-B" not in page


@pytest.mark.parametrize(("role", "status"), [("officer", 403), ("evidence-manager", 200)])
def test_job_list_is_for_operators(client, db, role: str, status: int) -> None:
    sign_in(client, make_user("someone", role))
    assert client.get("/api/jobs/").status_code == status
