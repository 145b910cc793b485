"""Sharing outside the force: the API contract, the recipient's pages with no account,
watermarked playback, downloads byte for byte, and every way a link ends (410)."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from cases_support import scene
from django.test import Client
from django.utils import timezone

from overt.cases import recipient as recipient_service
from overt.cases.models import CaseItem, ExternalShare, ShareEvent
from overt.custody.models import CustodyEntry
from overt.evidence.store import get_store
from overt.evidence.store.base import ObjectLocked
from overt.evidence.store.local import LocalStore
from overt.testing.access import sign_in

LATER = (timezone.now() + timedelta(days=30)).isoformat()


@pytest.fixture
def shared(db, clips: dict[str, Path], tmp_path: Path):  # type: ignore[no-untyped-def]
    world = scene(clips, tmp_path)
    staff = sign_in(Client(), world.manager)
    case = staff.post(
        "/api/cases/", {"reference": "URN-17", "title": "Robbery"}, content_type="application/json"
    ).json()
    for rec in world.recordings[:2]:
        staff.post(
            f"/api/cases/{case['id']}/items/",
            {"recording": rec.pk},
            content_type="application/json",
        )
    made = staff.post(
        "/api/shares/",
        {
            "case": case["id"],
            "recipient_name": "Jane Prosecutor",
            "recipient_email": "jane@cps.example",
            "expires_at": LATER,
            "allow_download": True,
        },
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    return world, staff, case, made.json()


def _open(share: dict) -> Client:
    recipient = Client()  # no account
    path = share["url"].split("localhost:8000", 1)[1]
    page = recipient.get(path)
    assert page.status_code == 200
    assert 'name="code"' in page.content.decode()
    opened = recipient.post(path, {"code": share["code"]})
    assert opened.status_code == 302
    return recipient


def _path(share: dict) -> str:
    return f"/s/{share['id']}"


def test_share_contract_and_secrets(shared) -> None:
    _world, _staff, _case, share = shared
    assert set(share) >= {"id", "url", "code", "expires_at"}
    assert re.fullmatch(r"[0-9a-f]{32}", share["id"])  # 128 random bits
    assert share["url"].endswith(f"/s/{share['id']}")
    row = ExternalShare.objects.get(pk=share["id"])
    assert share["code"] not in row.code_hash and row.code_hash.startswith("$argon2")
    assert share["code"].replace("-", "") not in json.dumps(
        [json.loads(e.entry) for e in CustodyEntry.objects.all()]
    )
    entries = [json.loads(e.entry) for e in CustodyEntry.objects.filter(action="share")]
    assert len(entries) == 2  # one per original of the two recordings
    assert {e["details"]["recipient_email"] for e in entries} == {"jane@cps.example"}


def test_expiry_is_at_most_90_days(shared) -> None:
    _world, staff, case, _ = shared
    for when in (
        (timezone.now() + timedelta(days=91)).isoformat(),
        (timezone.now() - timedelta(days=1)).isoformat(),
    ):
        response = staff.post(
            "/api/shares/",
            {
                "case": case["id"],
                "recipient_name": "X",
                "recipient_email": "x@example.org",
                "expires_at": when,
            },
            content_type="application/json",
        )
        assert response.status_code == 400
        assert response.json()["field"] if "field" in response.json() else True


def test_the_recipient_watches_a_watermarked_stream_and_downloads_originals(shared) -> None:
    _world, _staff, _case, share = shared
    recipient = _open(share)
    home = recipient.get(_path(share)).content.decode()
    assert "Jane Prosecutor" in home and "Download" in home
    item = ExternalShare.objects.get(pk=share["id"]).items.first()
    stream = recipient.get(f"{_path(share)}/items/{item.pk}/stream")
    assert stream.status_code == 200 and stream["Content-Type"] == "video/mp4"
    data = b"".join(stream.streaming_content)
    frame = next(av.open(io.BytesIO(data)).decode(video=0)).to_ndarray(format="gray")
    # The source proxy's first frame, to compare: the watermark's band and bright text
    # are in the picture itself, at the top left.
    proxy = item.recording.originals.get().derivatives.get(kind="proxy")
    src = b"".join(get_store().read_range(proxy.sha256))
    plain = next(av.open(io.BytesIO(src)).decode(video=0)).to_ndarray(format="gray")
    band = (slice(4, 18), slice(8, 150))
    assert np.abs(frame[band].astype(int) - plain[band].astype(int)).mean() > 20
    views = [json.loads(e.entry) for e in CustodyEntry.objects.filter(action="view")]
    assert views and views[-1]["details"]["share"] == share["id"][:8]
    assert views[-1]["actor"]["id"].startswith(f"share:{share['id'][:8]}")
    got = recipient.post(f"{_path(share)}/items/{item.pk}/download", {"part": "0"})
    original = item.recording.originals.get()
    body = b"".join(got.streaming_content)
    assert body == b"".join(get_store().read_range(original.sha256))  # byte for byte
    assert got["Repr-Digest"].startswith("sha-256=:")
    kinds = list(ShareEvent.objects.filter(share_id=share["id"]).values_list("kind", flat=True))
    assert kinds == ["created", "opened", "viewed", "downloaded"]


def test_view_only_shares_refuse_downloads(shared) -> None:
    world, staff, _case, _ = shared
    made = staff.post(
        "/api/shares/",
        {
            "recording": world.recordings[0].pk,
            "recipient_name": "D",
            "recipient_email": "d@defence.example",
            "expires_at": LATER,
        },
        content_type="application/json",
    ).json()
    recipient = _open(made)
    item = ExternalShare.objects.get(pk=made["id"]).items.get()
    response = recipient.post(f"{_path(made)}/items/{item.pk}/download", {"part": "0"})
    assert response.status_code == 403 and not getattr(response, "streaming", False)


def test_wrong_codes_are_rate_limited_per_share_and_logged(shared) -> None:
    _world, _staff, _case, share = shared
    guesser = Client()
    for _ in range(5):
        assert guesser.post(_path(share), {"code": "AAAAA-AAAAA"}).status_code == 403
    limited = guesser.post(_path(share), {"code": share["code"]})  # even the right one
    assert limited.status_code == 429
    refused = [
        json.loads(e.entry)["details"]["reason"]
        for e in CustodyEntry.objects.filter(action="share-refused")
    ]
    assert refused.count("wrong code") == 5 and "too many wrong codes" in refused


def test_guessed_links_are_404_and_count_against_the_address(shared) -> None:
    _world, _staff, _case, share = shared
    guesser = Client()
    for n in range(5):
        assert guesser.get(f"/s/{n:032x}").status_code == 404
    assert guesser.post(_path(share), {"code": share["code"]}).status_code == 429


@pytest.mark.parametrize("ending", ["revoked", "expired", "removed", "purged", "withdrawn"])
def test_every_ending_is_a_clear_410_with_a_custody_entry_and_no_bytes(
    shared, ending, monkeypatch, tmp_path
) -> None:
    _world, staff, case, share = shared
    recipient = _open(share)
    item = ExternalShare.objects.get(pk=share["id"]).items.first()
    if ending == "revoked":
        assert (
            staff.post(
                f"/api/shares/{share['id']}/revoke/",
                {"reason": "charged"},
                content_type="application/json",
            ).status_code
            == 200
        )
    elif ending == "expired":
        ExternalShare.objects.filter(pk=share["id"]).update(expires_at=timezone.now())
    elif ending == "removed":
        staff.patch(
            f"/api/cases/{case['id']}/items/{item.case_item_id}/",
            {"remove": True, "reason": "not relevant"},
            content_type="application/json",
        )
    elif ending == "purged":
        try:
            get_store().purge(item.files[0]["sha256"])
        except ObjectLocked:
            # S3 Object Lock keeps it until its date (retention purges a plain bucket in its
            # own tests): the recipient's side then reads a store that no longer holds it.
            monkeypatch.setattr(
                recipient_service, "get_store", lambda: LocalStore(tmp_path / "emptied")
            )
    else:
        CaseItem.objects.filter(pk=item.case_item_id).update(do_not_disclose=True)
    before = CustodyEntry.objects.filter(action="share-refused").count()
    for url, method in (
        (f"{_path(share)}/items/{item.pk}/stream", "get"),
        (f"{_path(share)}/items/{item.pk}/download", "post"),
    ):
        response = getattr(recipient, method)(url)
        assert response.status_code == 410
        assert not getattr(response, "streaming", False)
        assert "no longer available" in response.content.decode()
    assert CustodyEntry.objects.filter(action="share-refused").count() == before + 2
    if ending in ("revoked", "expired"):
        assert recipient.get(_path(share)).status_code == 410


def test_do_not_disclose_items_are_never_shared(shared) -> None:
    _world, staff, case, _ = shared
    item = CaseItem.objects.filter(case_id=case["id"]).first()
    staff.patch(
        f"/api/cases/{case['id']}/items/{item.pk}/",
        {"do_not_disclose": True, "reason": "PII of a witness"},
        content_type="application/json",
    )
    named = staff.post(
        "/api/shares/",
        {
            "case": case["id"],
            "items": [item.pk],
            "recipient_name": "D",
            "recipient_email": "d@x.example",
            "expires_at": LATER,
        },
        content_type="application/json",
    )
    assert named.status_code == 409 and "do-not-disclose" in named.json()["detail"]
    whole = staff.post(
        "/api/shares/",
        {
            "case": case["id"],
            "recipient_name": "D",
            "recipient_email": "d@x.example",
            "expires_at": LATER,
        },
        content_type="application/json",
    ).json()
    assert len(whole["withheld"]) == 1 and "PII of a witness" in whole["withheld"][0]
    shared_items = ExternalShare.objects.get(pk=whole["id"]).items.all()
    assert item.pk not in [s.case_item_id for s in shared_items]
    alone = staff.post(
        "/api/shares/",
        {
            "recording": item.recording_id,
            "recipient_name": "D",
            "recipient_email": "d@x.example",
            "expires_at": LATER,
        },
        content_type="application/json",
    )
    assert alone.status_code == 409
    page = staff.get(f"/cases/{case['id']}/share").content.decode()
    assert "cannot be shared: PII of a witness" in page


def test_only_share_outside_holders_share(shared) -> None:
    world, _staff, case, _ = shared
    other = sign_in(Client(), world.investigator)
    response = other.post(
        "/api/shares/",
        {
            "case": case["id"],
            "recipient_name": "D",
            "recipient_email": "d@x.example",
            "expires_at": LATER,
        },
        content_type="application/json",
    )
    assert response.status_code == 403
    assert other.post(f"/api/shares/{'0' * 32}/revoke/").status_code == 403


def test_marked_copies_are_made_once_by_a_job_served_and_dropped_at_revocation(shared) -> None:
    from overt.cases.models import WatermarkedCopy
    from overt.jobs.models import Job
    from overt.jobs.services import run

    _world, staff, _case, share = shared
    queued = Job.objects.filter(kind="cases.watermark")
    assert queued.count() == 2  # one per shared video part
    for job in queued:  # as a worker would (the test's transaction never commits)
        assert run(job.pk) == "succeeded"
    copies = list(WatermarkedCopy.objects.filter(item__share_id=share["id"]))
    assert len(copies) == 2 and all(Path(c.path).is_file() for c in copies)
    assert all("shared" in c.text and "Jane Prosecutor" in c.text for c in copies)
    recipient = _open(share)
    item = copies[0].item
    served = b"".join(recipient.get(f"{_path(share)}/items/{item.pk}/stream").streaming_content)
    assert served == Path(copies[0].path).read_bytes()  # the copy, not a new encode
    assert CustodyEntry.objects.filter(action="view").exists()  # still a view entry
    staff.post(f"/api/shares/{share['id']}/revoke/", {}, content_type="application/json")
    assert not WatermarkedCopy.objects.filter(item__share_id=share["id"]).exists()
    assert not any(Path(c.path).exists() for c in copies)


def test_a_recipient_cannot_walk_into_another_share_or_its_items(shared) -> None:
    world, staff, _case, share = shared
    other = staff.post("/api/shares/", {"recording": world.recordings[2].pk,
                       "recipient_name": "Someone Else", "recipient_email": "else@x.example",
                       "expires_at": LATER, "allow_download": True},
                       content_type="application/json").json()  # fmt: skip
    mine = _open(share)
    theirs = ExternalShare.objects.get(pk=other["id"]).items.get()
    # Their item through my link: it is not in my share.
    for method, url in (("get", f"{_path(share)}/items/{theirs.pk}/stream"),
                        ("post", f"{_path(share)}/items/{theirs.pk}/download")):  # fmt: skip
        response = getattr(mine, method)(url)
        assert response.status_code == 404 and not getattr(response, "streaming", False)
    # Their link with my session: my code opened only my share.
    for method, url in (("get", f"{_path(other)}/items/{theirs.pk}/stream"),
                        ("post", f"{_path(other)}/items/{theirs.pk}/download")):  # fmt: skip
        response = getattr(mine, method)(url)
        assert response.status_code == 403 and not getattr(response, "streaming", False)
    assert "Someone Else" not in mine.get(_path(other)).content.decode()  # nothing before the code
