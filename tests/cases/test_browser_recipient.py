"""An outside recipient in Debian's Chromium, with no account: open the link, enter the
code, watch (the watermark is in the picture the browser decodes), download the original
byte for byte, and find the link dead after revocation. The evidence officer's side
(case page, the share with its code, the receipt) is walked too. Screenshots go to
test-artifacts/ (docs/images/ holds copies for docs/sharing.md)."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from cases_support import scene
from django.utils import timezone
from review_support import reviewer, sign_in_page

from overt.cases import items, services, sharing
from overt.evidence.store import get_store
from support_browser import screenshot

# The top-left band the watermark is drawn in (for a 320x180 frame), away from the edges.
BAND = (slice(5, 15), slice(10, 140))
FRAME_AT_ZERO = """async () => {
  const video = document.querySelector('video');
  video.pause();
  if (video.readyState < 2) {
    await new Promise((done) => video.addEventListener('loadeddata', done, {once: true}));
  }
  video.currentTime = 0;
  await new Promise((done) => video.addEventListener('seeked', done, {once: true}));
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth; canvas.height = video.videoHeight;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(video, 0, 0);
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  const grey = [];
  for (let i = 0; i < data.length; i += 4) {
    grey.push(Math.round(0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2]));
  }
  return {width: canvas.width, height: canvas.height, grey};
}"""


@pytest.mark.django_db(transaction=True)
def test_outside_recipient_watches_downloads_and_loses_access(
    live_server, page, browser, clips: dict[str, Path], tmp_path: Path
) -> None:
    world = scene(clips, tmp_path)
    officer, device = reviewer("evidence-officer")
    case = services.create_case(officer, "01YE1234526", "Robbery on the High Street")
    for rec in world.recordings:  # footage from two incidents
        items.add_recording(officer, case, rec.pk)
    made = sharing.create_share(
        officer, case=case.pk, recipient_name="Jane Prosecutor",
        recipient_organisation="CPS London", recipient_email="jane@cps.example",
        expires_at=timezone.now() + timedelta(days=28), allow_download=True,
    )  # fmt: skip
    link = f"{live_server.url}/s/{made.share.pk}"

    # The evidence officer's pages, for the record and the docs.
    sign_in_page(page, live_server.url, "evidence-officer", device)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    assert page.get_by_role("heading", name="Custody timeline").is_visible()
    screenshot(page, "sharing-case-page")
    page.goto(f"{live_server.url}/cases/{case.pk}/share")
    screenshot(page, "sharing-share-form")

    # The recipient: a fresh browser, no account.
    outside = browser.new_context(viewport={"width": 1280, "height": 720}, accept_downloads=True)
    them = outside.new_page()
    them.goto(link)
    code_box = them.locator('input[name="code"]')
    assert code_box.is_visible()
    screenshot(them, "sharing-recipient-code")
    code_box.fill("WRONG-CODE1")
    them.get_by_role("button", name="Open").click()
    assert them.get_by_text("That code did not work").is_visible()
    them.locator('input[name="code"]').fill(made.code)
    them.get_by_role("button", name="Open").click()
    assert them.get_by_role(
        "heading", name="Case 01YE1234526: Robbery on the High Street"
    ).is_visible()
    screenshot(them, "sharing-recipient-items")

    them.get_by_role("link", name="Watch").first.click()
    frame = them.evaluate(FRAME_AT_ZERO)
    grey = np.array(frame["grey"], dtype=np.int16).reshape(frame["height"], frame["width"])
    shared = sharing.share_for(officer, made.share.pk).items.order_by("pk").first()
    proxy = shared.recording.originals.get().derivatives.get(kind="proxy")
    plain_bytes = b"".join(get_store().read_range(proxy.sha256))
    plain = next(av.open(io.BytesIO(plain_bytes)).decode(video=0)).to_ndarray(format="gray")
    assert grey.shape == plain.shape
    # What the browser shows differs from the footage exactly where the marks are drawn.
    assert np.abs(grey[BAND] - plain[BAND].astype(np.int16)).mean() > 20
    assert np.abs(grey[90:100, 150:170] - plain[90:100, 150:170].astype(np.int16)).mean() < 12
    screenshot(them, "sharing-recipient-watch")

    them.go_back()
    with them.expect_download() as download:
        them.get_by_role("button", name="Download").first.click()
    got = Path(download.value.path()).read_bytes()
    original = shared.recording.originals.get()
    assert got == b"".join(get_store().read_range(original.sha256))  # byte for byte

    sharing.revoke_share(officer, made.share.pk, reason="case discontinued")
    response = them.goto(link)
    assert response is not None and response.status == 410
    assert them.get_by_role("heading", name="This evidence is no longer available").is_visible()
    screenshot(them, "sharing-recipient-revoked")
    response = them.goto(f"{link}/items/{shared.pk}/stream")
    assert response is not None and response.status == 410
    outside.close()

    page.goto(f"{live_server.url}/shares/{made.share.pk}/")
    assert page.locator("#share-state").inner_text() == "revoked"
    screenshot(page, "sharing-receipt")
