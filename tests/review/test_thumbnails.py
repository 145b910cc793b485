"""Issue 11 item 7: the library's list pictures are too coarse to identify a face and are
served without a reason; the poster and the scrub sprite themselves are frames of
footage and play only under a justified view, which logs a `view` for their clip."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime

import pytest
from django.test import Client
from PIL import Image, ImageChops, ImageStat

from overt.custody.models import CustodyEntry
from overt.custody.services import entries_for
from overt.evidence.models import Derivative, Device, Officer, Original, Recording
from overt.evidence.store import get_store
from overt.review.thumbnails import DETAIL_SIZE, THUMBNAIL_SIZE
from overt.testing.access import make_user, sign_in

START = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
pytestmark = pytest.mark.scaled  # the poster is read back from S3 in the scaled run


def detailed_jpeg(width: int = 1280, height: int = 720, seed: int = 7) -> bytes:
    """A poster of random blocks 1/64 of its width across: detail as fine as a plain
    64-pixel-wide thumbnail could show, the hardest case for one to hide."""
    rng = random.Random(seed)
    blocks = (64, max(1, round(64 * height / width)))
    if height > width:
        blocks = (max(1, round(64 * width / height)), 64)
    image = Image.frombytes("RGB", blocks, rng.randbytes(blocks[0] * blocks[1] * 3))
    image = image.resize((width, height), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def store_derivative(original: Original, kind: str, data: bytes, content_type: str) -> Derivative:
    stored = get_store().put(io.BytesIO(data))
    return Derivative.objects.create(
        original=original,
        kind=kind,
        sha256=stored.sha256,
        size=stored.size,
        content_type=content_type,
        generator="test",
        generator_version="1",
    )


def another_clip(recording: Recording, data: bytes) -> Original:
    return Original.objects.create(
        sha256=get_store().put(io.BytesIO(data)).sha256,
        size=len(data),
        recording=recording,
        filename="clip-2.mp4",
        source=Original.Source.CLI,
        playable=True,
        started_at=START,
        duration_s=2.0,
    )


@pytest.fixture
def scene(db: None, unique_bytes) -> dict:
    officer = Officer.objects.create(number="MP400", name="PC Thumb")
    device = Device.objects.create(serial="CAM-T")
    recording = Recording.objects.create(
        title="Thumbnail test", officer=officer, device=device, trigger_on_at=START
    )
    original = Original.objects.create(
        sha256=get_store().put(io.BytesIO(unique_bytes(64))).sha256,
        size=64,
        recording=recording,
        filename="clip.mp4",
        source=Original.Source.CLI,
        playable=True,
        started_at=START,
        duration_s=2.0,
    )
    poster_bytes = detailed_jpeg()
    return {
        "recording": recording,
        "original": original,
        "poster": store_derivative(original, "poster", poster_bytes, "image/jpeg"),
        "sprite": store_derivative(original, "sprite", detailed_jpeg(640, 360, 8), "image/jpeg"),
        "poster_bytes": poster_bytes,
    }


@pytest.fixture
def viewer(client: Client, db: None) -> Client:
    return sign_in(client, make_user("viewer", "evidence-manager"))


def thumbnail_url(poster: Derivative) -> str:
    return f"/media/derivatives/{poster.pk}/thumbnail"


def served_image(response) -> Image.Image:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image.convert("RGB")


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel value (0 to 255)."""
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def reduced(image: Image.Image, samples: int) -> Image.Image:
    """`image` with no more than `samples` colour samples on its longer side."""
    w, h = image.size
    small = (max(1, round(w * samples / max(w, h))), max(1, round(h * samples / max(w, h))))
    return image.resize(small, Image.Resampling.BOX).resize(image.size, Image.Resampling.BICUBIC)


def test_the_thumbnail_is_tiny_and_carries_no_detail(viewer: Client, scene) -> None:
    shown = served_image(viewer.get(thumbnail_url(scene["poster"])))
    assert shown.size == (THUMBNAIL_SIZE, 36)  # 16:9, 64 px wide
    assert max(shown.size) <= 64
    # All it holds is about DETAIL_SIZE samples across: reducing it to those changes
    # little (JPEG and resampling noise)...
    assert difference(shown, reduced(shown, DETAIL_SIZE)) < 5
    # ...whereas the poster merely scaled to the same size keeps its fine detail.
    poster = Image.open(io.BytesIO(scene["poster_bytes"])).convert("RGB")
    plain = poster.resize(shown.size, Image.Resampling.LANCZOS)
    assert difference(plain, reduced(plain, DETAIL_SIZE)) > 30


def test_a_portrait_poster_fits_the_same_box(viewer: Client, scene) -> None:
    clip = another_clip(scene["recording"], b"portrait clip")
    upright = store_derivative(clip, "poster", detailed_jpeg(405, 720, 9), "image/jpeg")
    shown = served_image(viewer.get(thumbnail_url(upright)))
    assert shown.size == (36, THUMBNAIL_SIZE)


def test_the_thumbnail_needs_no_reason_and_logs_nothing(viewer: Client, scene) -> None:
    before = CustodyEntry.objects.count()
    response = viewer.get(thumbnail_url(scene["poster"]))
    served_image(response)
    assert CustodyEntry.objects.count() == before  # a list picture is not a view
    etag = response["ETag"]
    again = viewer.get(thumbnail_url(scene["poster"]), headers={"if-none-match": etag})
    assert again.status_code == 304


def test_the_thumbnail_is_refused_to_those_who_may_not_see(client: Client, scene) -> None:
    anonymous = client.get(thumbnail_url(scene["poster"]))
    assert anonymous.status_code == 403
    assert anonymous["Content-Type"] == "application/problem+json"
    other = Officer.objects.create(number="MP401", name="PC Other")
    sign_in(client, make_user("other-officer", "officer", officer=other))
    refused = client.get(thumbnail_url(scene["poster"]))
    assert refused.status_code == 404  # as if it did not exist
    assert b"\xff\xd8" not in refused.content


def test_only_posters_have_thumbnails(viewer: Client, scene) -> None:
    assert viewer.get(thumbnail_url(scene["sprite"])).status_code == 404
    assert viewer.get("/media/derivatives/999999/thumbnail").status_code == 404


def test_an_unreadable_poster_gets_a_grey_placeholder(viewer: Client, scene, unique_bytes) -> None:
    clip = another_clip(scene["recording"], b"broken poster clip")
    broken = store_derivative(clip, "poster", unique_bytes(5000), "image/jpeg")
    shown = served_image(viewer.get(thumbnail_url(broken)))
    assert max(shown.size) <= THUMBNAIL_SIZE
    assert difference(shown, Image.new("RGB", shown.size, (128, 128, 128))) < 2


@pytest.mark.parametrize("kind", ["poster", "sprite"])
def test_poster_and_sprite_need_a_justified_view_which_is_logged(
    viewer: Client, scene, kind: str
) -> None:
    derivative, original = scene[kind], scene["original"]
    refused = viewer.get(f"/media/derivatives/{derivative.pk}")
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["title"] == "Justification required"
    assert [e.action for e in entries_for(original.sha256)] == []

    justified = viewer.post(
        f"/recordings/{scene['recording'].pk}/",
        {"category": "Investigation", "text": "Looking at the frames"},
    )
    assert justified.status_code == 302
    fetched = viewer.get(f"/media/derivatives/{derivative.pk}")
    assert fetched.status_code == 200
    assert b"".join(fetched.streaming_content)[:2] == b"\xff\xd8"  # the full-size JPEG
    [view] = [e for e in entries_for(original.sha256) if e.action == "view"]
    assert view.actor == "user:viewer"


def test_the_library_links_thumbnails_never_posters(viewer: Client, scene) -> None:
    html = viewer.get("/").content.decode()
    poster = scene["poster"]
    assert f'src="/media/derivatives/{poster.pk}/thumbnail"' in html
    assert f'src="/media/derivatives/{poster.pk}"' not in html
