"""access.one_reading(): within one listing the grant sets are read once, and every
listing reads them afresh, so a share given or revoked between two requests counts at
the next one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from overt.access.models import Share
from overt.access.services import Action, one_reading, permitted, visible_recordings
from overt.evidence.models import Device, Officer, Recording
from overt.testing.access import make_user, sign_in

pytestmark = pytest.mark.scaled


def _recording(title: str, officer: Officer) -> Recording:
    device, _ = Device.objects.get_or_create(serial="CAM-1")
    return Recording.objects.create(
        title=title, officer=officer, device=device, trigger_on_at=timezone.now()
    )


def _share_reads(queries: list[dict[str, str]]) -> int:
    """Reads of the user's shared recordings: one of the grant sets (a page's own count of
    shares, for its navigation, is another question)."""
    return sum(q["sql"].startswith('SELECT "access_share"."recording_id"') for q in queries)


def test_one_listing_reads_the_grants_once(client: Client, db: None) -> None:
    mine, other = (
        Officer.objects.create(number="MP1", name="A"),
        Officer.objects.create(number="MP2", name="B"),
    )
    _recording("Own stop", mine)
    _recording("Their stop", other)
    sign_in(client, make_user("pc", "officer", officer=mine))
    with CaptureQueriesContext(connection) as read:
        body = client.get("/api/recordings/", {"q": "stop"}).json()
    assert [r["title"] for r in body["results"]] == ["Own stop"]
    # listing, footage it may play, snippets: each asked; the sets were read once
    assert _share_reads(read.captured_queries) == 1
    with CaptureQueriesContext(connection) as read:
        assert client.get("/", {"q": "stop"}).status_code == 200
    assert _share_reads(read.captured_queries) == 1


def test_each_listing_reads_afresh(client: Client, db: None) -> None:
    """A share given between two requests shows at the second; one revoked, goes."""
    theirs = _recording("Their stop", Officer.objects.create(number="MP2", name="B"))
    user = make_user("cps", "prosecutor")
    sign_in(client, user)
    titles = lambda: [r["title"] for r in client.get("/api/recordings/").json()["results"]]  # noqa: E731
    assert titles() == []
    share = Share.objects.create(
        recording=theirs,
        grantee=user,
        expires_at=timezone.now() + timedelta(hours=1),
        created_by="sgt",
    )
    assert titles() == ["Their stop"]
    share.revoked_at = timezone.now()
    share.save()
    assert titles() == []


def test_outside_a_block_nothing_is_remembered(db: None) -> None:
    theirs = _recording("Their stop", Officer.objects.create(number="MP2", name="B"))
    user = make_user("cps", "prosecutor")
    assert not visible_recordings(user).exists()
    Share.objects.create(
        recording=theirs,
        grantee=user,
        expires_at=timezone.now() + timedelta(hours=1),
        created_by="sgt",
    )
    assert list(visible_recordings(user)) == [theirs]
    with one_reading():
        assert list(permitted(user, Action.LIST)) == [theirs]
        Share.objects.filter(grantee=user).delete()
        # the block's answer stands until it ends (it is for read-only work)...
        assert list(permitted(user, Action.LIST)) == [theirs]
    # ...and the next read is fresh
    assert not visible_recordings(user).exists()
