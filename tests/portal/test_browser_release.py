"""The release page in Chromium: every Download button is inside its table's visible box
at 1280x800 (issue 19: it was clipped on every release page, pushed out by the hash)."""

from __future__ import annotations

import pytest
from browser_checks import PASSWORD, overflow, sign_in
from portal_support import original, people, recording

from overt.access.matrix import Role
from overt.testing.access import totp_device
from support_browser import screenshot

OUTSIDE = """() => [...document.querySelectorAll('button[name=original]')].filter((b) => {
  const r = b.getBoundingClientRect(), w = b.closest('.table-wrap').getBoundingClientRect();
  return r.right > w.right + 1 || r.left < w.left - 1;
}).length"""


@pytest.mark.django_db(transaction=True)
def test_download_buttons_are_not_clipped(live_server, page) -> None:  # type: ignore[no-untyped-def]
    manager = people()[Role.EVIDENCE_MANAGER]
    manager.set_password(PASSWORD)  # type: ignore[attr-defined]
    manager.save()  # type: ignore[attr-defined]
    rec = recording("Stop on Horseferry Road")
    original(rec, "first")
    long_name = original(rec, "second")
    long_name.filename = "AXW1200001_20261120T140000Z_0001_" + "9" * 40 + ".MP4"  # no break
    long_name.save()
    sign_in(page, live_server.url, "manager", totp_device(manager))
    page.goto(f"{live_server.url}/recordings/{rec.pk}/release")
    assert page.get_by_role("button", name="Download").count() == 2
    assert page.evaluate(OUTSIDE) == 0
    assert overflow(page) == []
    screenshot(page, "release-page")
