"""/media/derivatives/<poster id>/thumbnail: the library's list picture.

A poster is a frame of footage, so the poster itself plays only under a justified view
(see media.py). The library shows a picture for fifty recordings at once, and logging
each as a view would bury the real views in noise, so it shows this instead: the poster
reduced to at most DETAIL_SIZE colour samples on its longer side, then smoothly enlarged
to at most THUMBNAIL_SIZE pixels. A face filling the whole frame is then a handful of
samples, too few to identify anyone; what is left tells a night street from a lit room.
Made on request from the stored poster (a JPEG decoded at 1/8 scale costs about a
millisecond), so nothing new is stored or needs migrating.
"""

from __future__ import annotations

import io
import logging

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe
from PIL import Image, UnidentifiedImageError

from overt.access.services import AccessDenied, Action, check, visible_recordings
from overt.evidence.models import Derivative
from overt.evidence.store import ObjectNotFound, get_store
from overt.web.problems import problem

from .media import _etags

log = logging.getLogger(__name__)

DETAIL_SIZE = 12  # colour samples on the longer side: all the picture a thumbnail carries
THUMBNAIL_SIZE = 64  # pixels on the longer side, as served
MAX_POSTER_BYTES = 8 * 1024 * 1024  # posters are ~100 KB JPEGs; refuse to buffer more
PLACEHOLDER = (128, 128, 128)  # for a poster that cannot be read as a picture
VERSION = 1  # in the ETag: change it when the recipe changes


@require_safe
def poster_thumbnail(request: HttpRequest, derivative_id: int) -> HttpResponseBase:
    if not request.user.is_authenticated:
        return problem(403, "Login required", "Log in to overt to fetch evidence media.")
    poster = get_object_or_404(
        Derivative.objects.select_related("original__recording").filter(
            kind=Derivative.Kind.POSTER,
            original__recording__in=visible_recordings(request.user),
        ),
        pk=derivative_id,
    )
    try:
        check(request.user, Action.VIEW, poster.original.recording)
    except AccessDenied as exc:
        return problem(403, "Not allowed", str(exc), recording=poster.original.recording_id)
    etag = f'"{poster.sha256}-thumbnail-{VERSION}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, max-age=3600",
        "Content-Disposition": "inline",
    }
    if etag in _etags(request.headers.get("If-None-Match")):
        return HttpResponse(status=304, headers=headers)
    try:
        data = _read(poster.sha256)
    except ObjectNotFound:
        return problem(404, "Media missing", f"derivative {poster.pk} is not in the store")
    return HttpResponse(thumbnail(data), content_type="image/jpeg", headers=headers)


def thumbnail(poster: bytes | None) -> bytes:
    """The list picture of a poster (JPEG bytes); a flat grey one if it cannot be read."""
    try:
        if poster is None:
            raise UnidentifiedImageError("poster too large to buffer")
        with Image.open(io.BytesIO(poster)) as image:
            image.draft("RGB", (DETAIL_SIZE * 2, DETAIL_SIZE * 2))  # JPEG: decode small
            picture = image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        log.warning("poster unreadable, serving a placeholder thumbnail: %s", exc)
        picture = Image.new("RGB", (16, 9), PLACEHOLDER)
    detail = picture.resize(_fit(picture.size, DETAIL_SIZE), Image.Resampling.BOX)
    shown = detail.resize(_fit(picture.size, THUMBNAIL_SIZE), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    shown.save(out, format="JPEG", quality=80)
    return out.getvalue()


def _fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    width, height = size
    scale = longest / max(width, height, 1)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _read(sha256: str) -> bytes | None:
    store = get_store()
    if store.size(sha256) > MAX_POSTER_BYTES:
        return None
    return b"".join(store.read_range(sha256))
