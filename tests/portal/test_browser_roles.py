"""Every role in Debian's Chromium: sign in through the real forms (password, then TOTP
where the role needs it), land on the home page, and visit every page the navigation
offers (the main bar and each page's section bar). Each page must answer 200 with no
console error, no failed request, no element overflowing its box and no axe-core WCAG 2.1
A/AA violation. A screenshot per role and page goes to test-artifacts/roles/."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from browser_checks import PASSWORD, axe_violations, overflow, sign_in, watch
from django.utils import timezone
from portal_support import original, people, recording

from overt.access.grants import assign, share
from overt.access.matrix import Capability, Role, has_capability
from overt.access.models import Alert
from overt.custody.checkpoints import issue_checkpoint
from overt.custody.services import Actor
from overt.custody.verify import verify_instance
from overt.retention.services import request_deletion, set_hold
from overt.testing.access import totp_device
from support_browser import ARTIFACTS

SYSTEM = Actor.system("test")


def _instance() -> dict[Role, tuple[str, object]]:
    """Users of every role with passwords and TOTP, and enough to fill each home page."""
    users = people()
    for user in users.values():
        user.set_password(PASSWORD)  # type: ignore[attr-defined]
        user.save()  # type: ignore[attr-defined]
    own = recording("Stop on Horseferry Road")
    team = recording("Welfare check, Victoria Street", officer="MP2")
    for rec in (own, team):
        original(rec)
    share(team, users[Role.PROSECUTOR], expires_at=timezone.now() + timedelta(days=20), by=SYSTEM)
    assign(users[Role.INVESTIGATOR], recording=own, by=SYSTEM)
    set_hold(own.pk, reason="Complaint 2026/114", actor=SYSTEM, reference="C-114")
    request_deletion(team.pk, user=users[Role.EVIDENCE_MANAGER], reason="Recorded by mistake")
    Alert.objects.create(kind=Alert.Kind.values[0], message="Break-glass by ps.kowalski")
    issue_checkpoint()
    verify_instance(log_only=True)
    return {role: (user.get_username(), totp_device(user)) for role, user in users.items()}  # type: ignore[attr-defined]


def _links(page, selector: str) -> list[str]:  # type: ignore[no-untyped-def]
    hrefs: list[str] = page.eval_on_selector_all(selector, "els => els.map(a => a.href)")
    return hrefs


@pytest.mark.timeout(900)  # dozens of pages, each checked by axe; the machine is shared
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_every_role_visits_every_page_it_is_offered(live_server, browser, role: Role) -> None:  # type: ignore[no-untyped-def]
    username, device = _instance()[role]
    base = live_server.url
    out = ARTIFACTS / "roles"
    out.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors = watch(page)
    sign_in(page, base, username, device)
    # The main bar, and the footer's API documentation (the footer's other links are a
    # YAML schema and a key, not pages).
    queue = _links(page, 'nav[aria-label="Main"] a, footer a[href$="/api/docs/"]')
    seen: list[str] = []
    while queue:
        url = queue.pop(0)
        if url in seen or urlsplit(url).netloc != urlsplit(base).netloc:
            continue
        seen.append(url)
        errors.clear()
        response = page.goto(url)
        page.wait_for_load_state("networkidle")
        where = f"{role.value} {urlsplit(url).path}"
        if response is None or response.status != 200:
            problems.append(f"{where}: status {response.status if response else None}")
        problems += [f"{where}: {e}" for e in errors]
        problems += [f"{where}: overflow: {o}" for o in overflow(page)]
        problems += [f"{where}: axe: {v}" for v in axe_violations(page)]
        slug = urlsplit(url).path.strip("/").replace("/", "-") or "library"
        page.screenshot(path=str(out / f"{role.value}-{slug}.png"), full_page=True)
        queue += [u for u in _links(page, "nav.section-nav a") if u not in seen]
    context.close()
    assert not problems, "\n".join(problems)
    paths = [urlsplit(u).path for u in seen]
    assert "/home/" in paths and "/api/docs/" in paths and len(paths) >= 3  # it did walk
    # Only roles with see-jobs are offered the job list.
    assert ("/jobs/" in paths) == has_capability(role, Capability.SEE_JOBS)


def test_the_checks_find_what_they_look_for(page) -> None:  # type: ignore[no-untyped-def]
    """Guard against a walk that passes because its checks see nothing: a clipped button
    and an image without a text alternative are both reported."""
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main>'
        '<div style="width:80px;overflow:hidden"><button style="width:200px">Download</button></div>'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="10" height="10">'
        "</main></body></html>"
    )
    assert any("clipped" in problem for problem in overflow(page))
    assert any(v.startswith("image-alt") for v in axe_violations(page))
