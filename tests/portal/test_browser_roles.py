"""Every role in Debian's Chromium, as the users `overt demo-data` creates (their
usernames, passwords and TOTP keys): sign in through the real forms (password, then TOTP
where the role needs it), land on the home page, and visit every page the navigation
offers (the main bar and each page's section bar). Each page must answer 200 with no
console error, no failed request, no element overflowing its box and no axe-core WCAG 2.1
A/AA violation. A screenshot per role and page goes to test-artifacts/roles/.

The instance is the demo's, built by its own code (overt.demo.seed.create_light_demo:
the same people, cameras, incidents, users, assignment, share and retention data, with
three short recordings of its plan instead of thirteen long ones, seconds instead of
minutes), once for all seven roles."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from browser_checks import axe_result, axe_violations, overflow, sign_in, start_axe, watch
from django.contrib.auth import get_user_model

from overt.access.matrix import Capability, Role, has_capability
from overt.access.models import Alert
from overt.custody.checkpoints import issue_checkpoint
from overt.custody.services import Actor
from overt.custody.verify import verify_instance
from overt.demo.seed import DEMO_USERS, create_light_demo
from overt.evidence.models import Recording
from overt.retention.services import request_deletion, set_hold
from overt.testing.access import totp_device
from support_browser import ARTIFACTS

SYSTEM = Actor.system("test")


def _instance() -> dict[Role, tuple[str, str, object]]:
    """The demo's users of every role, and enough to fill each home page."""
    create_light_demo()
    users = {u.username: u for u in get_user_model().objects.all()}
    domestic = Recording.objects.get(incident__reference="CAD 6120/20NOV")
    armed = Recording.objects.get(incident__reference="CAD 4410/20NOV")
    set_hold(armed.pk, reason="Complaint 2026/114", actor=SYSTEM, reference="C-114")
    request_deletion(domestic.pk, user=users["evidence"], reason="Recorded by mistake")
    Alert.objects.create(kind=Alert.Kind.values[0], message="Break-glass by ps.kowalski")
    issue_checkpoint()
    verify_instance(log_only=True)
    return {
        Role(demo.role): (demo.username, demo.password, totp_device(users[demo.username]))
        for demo in DEMO_USERS
    }


def _links(page, selector: str) -> list[str]:  # type: ignore[no-untyped-def]
    hrefs: list[str] = page.eval_on_selector_all(selector, "els => els.map(a => a.href)")
    return hrefs


class _Walk:
    """One user signed in, visiting every page offered, one page per step.

    The seven walks go in steps, a page of each at a time: each page is loaded (to its
    load event) in turn; then each is awaited to network idle, checked, and axe started on
    it; then each one's axe findings are collected and its screenshot taken. Network idle
    is 500 ms with no request: the pages' quiet spells, and their axe runs, now overlap
    instead of following one another (for 68 pages, 37 s and 19 s of the walk). Loads stay
    one after another, and every page gets the same waits, checks (in the same order) and
    screenshot as on its own."""

    def __init__(
        self, browser: Any, base: str, role: Role, username: str, password: str, device: Any
    ) -> None:
        self.base, self.role, self.username = base, role, username
        self.problems: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        self.page = self.context.new_page()
        self.errors = watch(self.page)
        sign_in(self.page, base, username, device, password=password)
        # The main bar, and the footer's API documentation (the footer's other links are a
        # YAML schema and a key, not pages).
        self.queue = _links(self.page, 'nav[aria-label="Main"] a, footer a[href$="/api/docs/"]')
        self.seen: list[str] = []
        self.url = ""
        self.response: Any = None

    def load_next(self) -> bool:
        """Start on the next page not yet seen, up to its load event; False when done."""
        while self.queue:
            url = self.queue.pop(0)
            if url in self.seen or urlsplit(url).netloc != urlsplit(self.base).netloc:
                continue
            self.seen.append(url)
            self.url = url
            self.errors.clear()
            self.response = self.page.goto(url)
            return True
        return False

    def check(self) -> None:
        """Wait for the page to be idle, check it, and start axe on it."""
        page, response = self.page, self.response
        page.wait_for_load_state("networkidle")
        if response is None or response.status != 200:
            self.problems.append(f"{self.where}: status {response.status if response else None}")
        self.problems += [f"{self.where}: {e}" for e in self.errors]
        self.problems += [f"{self.where}: overflow: {o}" for o in overflow(page)]
        start_axe(page)

    def finish(self, out: Path) -> None:
        """axe's findings, the screenshot, and the section bar's links to visit."""
        page = self.page
        self.problems += [f"{self.where}: axe: {v}" for v in axe_result(page)]
        slug = urlsplit(self.url).path.strip("/").replace("/", "-") or "library"
        page.screenshot(path=str(out / f"{self.role.value}-{slug}.png"), full_page=True)
        self.queue += [u for u in _links(page, "nav.section-nav a") if u not in self.seen]

    @property
    def where(self) -> str:
        return f"{self.role.value} ({self.username}) {urlsplit(self.url).path}"

    def close(self) -> list[str]:
        """The problems found, with the walk's own: too little seen, jobs wrongly offered."""
        self.context.close()
        role, paths = self.role, [urlsplit(u).path for u in self.seen]
        if not ("/home/" in paths and "/api/docs/" in paths and len(paths) >= 3):
            self.problems.append(f"{role.value}: the walk saw too little: {paths}")
        # Only roles with see-jobs are offered the job list.
        if ("/jobs/" in paths) != has_capability(role, Capability.SEE_JOBS):
            self.problems.append(f"{role.value}: Jobs offered: {'/jobs/' in paths}")
        return self.problems


@pytest.mark.timeout(2400)  # seven walks of dozens of pages, each checked by axe
@pytest.mark.django_db(transaction=True)
def test_every_demo_user_visits_every_page_they_are_offered(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    people = _instance()
    assert set(people) == set(Role)  # the demo has a user of every role
    out = ARTIFACTS / "roles"
    out.mkdir(parents=True, exist_ok=True)
    walks = [
        _Walk(browser, live_server.url, role, username, password, device)
        for role, (username, password, device) in people.items()
    ]
    going = walks
    while going:
        going = [walk for walk in going if walk.load_next()]
        for walk in going:
            walk.check()
        for walk in going:
            walk.finish(out)
    problems = [problem for walk in walks for problem in walk.close()]
    assert not problems, "\n".join(problems)


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
