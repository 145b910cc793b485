"""Navigation by role: the bar offers a page only where it answers 200, for every role,
and never offers Jobs to a role without see-jobs."""

from __future__ import annotations

import pytest
from portal_support import client_for, nav_urls, people

from overt.access.matrix import Capability, Role, has_capability
from overt.portal.navigation import allows, collect, is_current, visible
from overt.web.nav import NavLink


def test_capability_and_roles_decide() -> None:
    jobs = NavLink("Jobs", "jobs", capability="see-jobs")
    only_officer = NavLink("Mine", "library", roles=frozenset({"officer"}))
    assert allows(jobs, Role.EVIDENCE_MANAGER) and allows(jobs, Role.ADMIN)
    assert not allows(jobs, Role.OFFICER) and not allows(jobs, Role.AUDITOR)
    assert allows(only_officer, Role.OFFICER) and not allows(only_officer, Role.SUPERVISOR)
    assert not allows(NavLink("Home", "home"), None)  # no role: nothing


def test_order_then_label() -> None:
    links = [NavLink("B", "b", order=5), NavLink("A", "a", order=5), NavLink("Z", "z", order=1)]
    assert [x.label for x in visible(links, Role.OFFICER)] == ["Z", "A", "B"]


def test_current_link_is_the_most_specific() -> None:
    assert is_current("/", "/") and not is_current("/", "/retention/")
    assert is_current("/custody/", "/custody/checkpoints/")


def test_every_installed_app_nav_is_collected() -> None:
    names = {link.url_name for link in collect()}
    assert {"home", "library", "jobs", "retention", "access-alerts", "custody-browser"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_each_offered_page_answers_200(role: Role) -> None:
    users = people()
    client = client_for(users[role])
    home = client.get("/home/")
    assert home.status_code == 200
    urls = nav_urls(home.content.decode())
    assert "/home/" in urls
    for url in urls:
        assert client.get(url).status_code == 200, (role, url)
    assert ("/jobs/" in urls) == has_capability(role, Capability.SEE_JOBS)


@pytest.mark.django_db
def test_a_page_not_offered_is_refused() -> None:
    """The other side: what the bar leaves out for the officer answers 403 (not offered
    because refused, not refused because not offered)."""
    client = client_for(people()[Role.OFFICER])
    for url in ("/jobs/", "/retention/", "/access/alerts/", "/custody/"):
        assert client.get(url).status_code == 403, url


@pytest.mark.django_db
def test_alert_badge_counts_waiting_alerts() -> None:
    from overt.access.models import Alert

    users = people()
    Alert.objects.create(kind=Alert.Kind.values[0], message="m")
    Alert.objects.create(kind=Alert.Kind.values[0], message="n")
    page = client_for(users[Role.AUDITOR]).get("/home/").content.decode()
    assert '<span class="nav-badge" aria-label="2 waiting">2</span>' in page
    page = client_for(users[Role.OFFICER]).get("/home/").content.decode()
    assert "nav-badge" not in page
