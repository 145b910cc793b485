"""/media/derivatives/<id>: byte ranges, headers, and who may fetch what."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.test import AsyncClient, Client

from overt.demo.footage import render_clip
from overt.evidence.models import Derivative, Device, Officer, Original, Recording
from overt.evidence.store import get_store
from overt.media.derivatives import GENERATOR, GENERATOR_VERSION, make_proxy
from overt.testing.access import make_user, sign_in
from support_async import run_async

START = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def proxy_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real browser proxy of a 2 s synthetic clip."""
    folder: Path = tmp_path_factory.mktemp("proxy")
    render_clip(
        folder / "clip.mp4",
        seed=11,
        start_utc=START,
        duration_s=2,
        device_serial="CAM-R",
        officer_number="MP300",
        width=320,
        height=180,
    )
    make_proxy(folder / "clip.mp4", folder / "proxy.mp4")
    return (folder / "proxy.mp4").read_bytes()


@pytest.fixture
def media(db: None, proxy_bytes: bytes, unique_bytes) -> dict:
    officer = Officer.objects.create(number="MP300", name="PC Range")
    device = Device.objects.create(serial="CAM-R")
    recording = Recording.objects.create(
        title="Range test", officer=officer, device=device, trigger_on_at=START
    )
    original = Original.objects.create(
        sha256=hashlib.sha256(unique_bytes(64)).hexdigest(),
        size=64,
        recording=recording,
        filename="clip.mp4",
        source=Original.Source.CLI,
        playable=True,
        started_at=START,
        duration_s=2.0,
    )
    poster_bytes = unique_bytes(10_000)
    rows = {}
    for kind, content_type, data in [
        ("poster", "image/jpeg", poster_bytes),
        ("proxy", "video/mp4", proxy_bytes),
    ]:
        stored = get_store().put(io.BytesIO(data))
        rows[kind] = Derivative.objects.create(
            original=original,
            kind=kind,
            sha256=stored.sha256,
            size=stored.size,
            content_type=content_type,
            generator=GENERATOR,
            generator_version=GENERATOR_VERSION,
        )
    return {
        "recording": recording,
        "poster": rows["poster"],
        "proxy": rows["proxy"],
        "poster_bytes": poster_bytes,
        "proxy_bytes": proxy_bytes,
    }


@pytest.fixture
def viewer(client: Client, django_user_model) -> Client:
    return sign_in(client, make_user("viewer", "evidence-manager"))


@pytest.fixture
def watching(viewer: Client, media) -> Client:
    """The viewer after giving a reason: posters and sprites are footage too (issue 11)."""
    justify(viewer, media["recording"])
    return viewer


def url(derivative: Derivative) -> str:
    return f"/media/derivatives/{derivative.pk}"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def justify(client: Client, recording: Recording) -> None:
    response = client.post(
        f"/recordings/{recording.pk}/",
        {"category": "Evidence review", "text": "Checking the range test"},
    )
    assert response.status_code == 302


def test_login_is_required_and_answered_with_problem_json(client: Client, media) -> None:
    for derivative in (media["poster"], media["proxy"]):
        response = client.get(url(derivative))
        assert response.status_code == 403
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["title"] == "Login required"


def test_whole_poster_with_its_headers(watching: Client, media) -> None:
    poster = media["poster"]
    response = watching.get(url(poster))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Length"] == "10000"
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"] == f'"{poster.sha256}"'
    assert "Content-Range" not in response
    assert body(response) == media["poster_bytes"]


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),  # first bytes
        ("bytes=4000-5999", 4000, 5999),  # middle
        ("bytes=-100", 9900, 9999),  # suffix
        ("bytes=9000-", 9000, 9999),  # open-ended
        ("bytes=9990-20000", 9990, 9999),  # past the end: clipped
        ("bytes=-50000", 0, 9999),  # suffix longer than the object
        ("bytes=9999-9999", 9999, 9999),  # the last byte
    ],
)
def test_ranges(watching: Client, media, header: str, start: int, end: int) -> None:
    response = watching.get(url(media["poster"]), headers={"range": header})
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/10000"
    assert response["Content-Length"] == str(end - start + 1)
    assert response["Content-Type"] == "image/jpeg"
    assert body(response) == media["poster_bytes"][start : end + 1]


@pytest.mark.parametrize("header", ["bytes=10000-", "bytes=20000-20100", "bytes=-0"])
def test_unsatisfiable_range_is_416(watching: Client, media, header: str) -> None:
    response = watching.get(url(media["poster"]), headers={"range": header})
    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */10000"
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("header", ["bytes=0-0,5-6", "items=0-5", "bytes=500-100", "bytes=x-y"])
def test_ranges_we_do_not_serve_get_the_whole_object(watching: Client, media, header: str) -> None:
    response = watching.get(url(media["poster"]), headers={"range": header})
    assert response.status_code == 200
    assert body(response) == media["poster_bytes"]


def test_conditional_requests(watching: Client, media) -> None:
    poster = media["poster"]
    etag = f'"{poster.sha256}"'
    assert watching.get(url(poster), headers={"if-none-match": etag}).status_code == 304
    stale = watching.get(url(poster), headers={"range": "bytes=0-9", "if-range": '"other"'})
    assert stale.status_code == 200  # the client's copy is of something else
    fresh = watching.get(url(poster), headers={"range": "bytes=0-9", "if-range": etag})
    assert fresh.status_code == 206


def test_head_sends_headers_only(watching: Client, media) -> None:
    response = watching.head(url(media["poster"]), headers={"range": "bytes=0-99"})
    assert response.status_code == 206
    assert response["Content-Length"] == "100"
    assert response.content == b""


def test_proxy_needs_a_justification_first(viewer: Client, media) -> None:
    proxy = media["proxy"]
    refused = viewer.get(url(proxy), headers={"range": "bytes=0-99"})
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["title"] == "Justification required"
    assert refused.json()["recording"] == media["recording"].pk

    justify(viewer, media["recording"])
    size = len(media["proxy_bytes"])
    head = viewer.get(url(proxy), headers={"range": "bytes=0-1023"})
    assert head.status_code == 206
    assert head["Content-Type"] == "video/mp4"
    assert head["Content-Range"] == f"bytes 0-1023/{size}"
    first = body(head)
    assert first[4:8] == b"ftyp"  # an MP4 a browser can start on
    rest = viewer.get(url(proxy), headers={"range": "bytes=1024-"})
    assert first + body(rest) == media["proxy_bytes"]
    whole = viewer.get(url(proxy))
    assert whole.status_code == 200
    assert hashlib.sha256(body(whole)).hexdigest() == proxy.sha256


def test_a_grant_covers_only_its_own_recording(viewer: Client, media, unique_bytes) -> None:
    justify(viewer, media["recording"])
    other = Recording.objects.create(
        title="Other",
        officer=media["recording"].officer,
        device=media["recording"].device,
        trigger_on_at=START,
    )
    original = Original.objects.create(
        sha256=hashlib.sha256(unique_bytes(32)).hexdigest(),
        size=32,
        recording=other,
        filename="other.mp4",
        source=Original.Source.CLI,
        playable=True,
    )
    proxy = media["proxy"]
    other_proxy = Derivative.objects.create(
        original=original,
        kind="proxy",
        sha256=proxy.sha256,
        size=proxy.size,
        content_type="video/mp4",
        generator=GENERATOR,
        generator_version=GENERATOR_VERSION,
    )
    assert viewer.get(url(proxy), headers={"range": "bytes=0-9"}).status_code == 206
    assert viewer.get(url(other_proxy), headers={"range": "bytes=0-9"}).status_code == 403


def test_under_asgi_the_range_streams_asynchronously(
    transactional_db: None, viewer: Client, media
) -> None:
    # Committed rows (transactional_db): the request runs on another thread and connection.
    justify(viewer, media["recording"])
    async_client = AsyncClient()
    async_client.cookies = viewer.cookies

    async def fetch(header: str) -> tuple:
        response = await async_client.get(url(media["proxy"]), headers={"range": header})
        chunks = [chunk async for chunk in response.streaming_content]
        return response, b"".join(chunks)

    response, data = run_async(fetch("bytes=100-4195"))
    assert response.status_code == 206
    assert response.is_async  # Django would otherwise buffer a sync iterator whole
    assert data == media["proxy_bytes"][100:4196]


def test_the_waveform_needs_only_a_login(viewer: Client, media) -> None:
    """Loudness over time: no picture and no words, so no reason is asked for it."""
    poster = media["poster"]
    waveform = Derivative.objects.create(
        original=poster.original,
        kind="waveform",
        sha256=poster.sha256,
        size=poster.size,
        content_type="application/json",
        generator=GENERATOR,
        generator_version=GENERATOR_VERSION,
    )
    response = viewer.get(url(waveform), headers={"range": "bytes=0-9"})
    assert response.status_code == 206
    assert response["Content-Type"] == "application/json"
    assert body(response) == media["poster_bytes"][:10]
