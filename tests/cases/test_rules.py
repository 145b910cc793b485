"""The pure rules of sharing, without the web: codes, expiry bounds, the watermark."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone
from PIL import Image

from overt import errors
from overt.cases.sharing import CODE_ALPHABET, MAX_DAYS, _when, new_code, normalise_code
from overt.cases.watermark import burn_luma, text_mask, watermark_png


def test_codes_are_ten_unambiguous_characters_typed_loosely() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200  # no repeats in a small sample
    for code in codes:
        assert re.fullmatch(rf"[{CODE_ALPHABET}]{{5}}-[{CODE_ALPHABET}]{{5}}", code)
    assert not set("01IO") & set(CODE_ALPHABET)
    assert normalise_code(" abcde 23456 ") == "ABCDE-23456"
    assert normalise_code("abcde-23456") == "ABCDE-23456"
    assert normalise_code(None) == ""


def test_expiry_must_be_future_and_within_90_days() -> None:
    now = timezone.now()
    assert _when(now + timedelta(days=MAX_DAYS) - timedelta(minutes=1))
    for bad in (now - timedelta(seconds=1), now + timedelta(days=MAX_DAYS, minutes=1), "soon", ""):
        with pytest.raises(errors.Invalid):
            _when(bad)
    naive = (now + timedelta(days=1)).replace(tzinfo=None).isoformat()
    assert _when(naive).tzinfo is not None  # a naive time is UTC


@pytest.mark.parametrize("width", [160, 320, 1280, 1920])
def test_the_mark_always_fits_the_frame(width: int) -> None:
    ink, box = text_mask(
        "Jane Prosecutor, CPS London · share 1a2b3c4d · 2026-12-06 09:00 UTC", width
    )
    assert ink.shape == box.shape
    assert ink.max() > 0.9  # real text pixels
    if width >= 320:
        assert ink.shape[1] <= width * 0.9
    luma = np.zeros((width * 9 // 16, width), dtype=np.uint8)
    burn_luma(luma, ink, box, 0.0)  # a mark wider than a tiny frame is cut, never an error
    assert luma.any()


def test_burning_changes_only_where_the_marks_are() -> None:
    luma = np.full((180, 320), 100, dtype=np.uint8)
    ink, box = text_mask("share 1a2b3c4d", 320)
    burn_luma(luma, ink, box, 0.0)
    changed = luma != 100
    assert changed.any() and (luma == 235).any()
    assert changed.mean() < 0.2  # two small bands, not the picture
    assert not changed[80:100, 100:200].any()  # the middle is untouched
    moved = np.full((180, 320), 100, dtype=np.uint8)
    burn_luma(moved, ink, box, 5.0)  # after MOVE_SECONDS the marks are elsewhere
    assert (moved != luma).any()


def test_stills_are_marked_in_their_pixels() -> None:
    plain = io.BytesIO()
    Image.new("RGB", (320, 180), (90, 90, 90)).save(plain, format="PNG")
    marked = Image.open(io.BytesIO(watermark_png(plain.getvalue(), "Jane · share 1a2b3c4d")))
    pixels = np.asarray(marked.convert("L"))
    assert (pixels > 200).any() and (pixels[80:100, 100:200] == 90).all()
