"""One way to make a derivative: its bytes stored, its row catalogued and its
`derivative-create` custody entry written together, or none of it; and no other code
in overt creates Derivative rows."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

import overt
from overt.custody.models import CustodyEntry
from overt.custody.services import Actor, Client
from overt.evidence.models import Derivative, Original
from overt.evidence.store import get_store
from overt.ingest.services import ingest_file
from overt.media import derivatives
from overt.media.catalogue import Provenance, Requester, store_derivative
from overt.media.pipeline import make_derivative
from overt.media.waveform import make_waveform
from support_derivatives import assert_every_derivative_has_its_entry

# Database tests here run on both engines by folder (overt.testing.engines); the ones
# that touch no engine run once.

SRC = Path(overt.__file__).parent
MAKES_A_ROW = re.compile(
    r"(?<!class )\bDerivative(\.objects\.(create|bulk_create|get_or_create|update_or_create)\b|\()"
)
RECORDS_CREATION = re.compile(r"""record\(\s*["']derivative-create["']""")


def _original(people: tuple) -> Original:
    from overt.evidence.models import Recording

    officer, device = people
    recording = Recording.objects.create(
        officer=officer, device=device, trigger_on_at=datetime(2026, 11, 20, 14, tzinfo=UTC)
    )
    return Original.objects.create(
        sha256="a" * 64, size=1, recording=recording, filename="x.mp4", source="cli", playable=True
    )


def test_the_file_row_and_entry_are_made_together(people, tmp_path: Path) -> None:
    original = _original(people)
    made = tmp_path / "note.json"
    made.write_bytes(b'{"made": "for this test"}')
    derivative = store_derivative(
        original,
        Derivative.Kind.WAVEFORM,
        made,
        content_type="application/json",
        provenance=Provenance("overt.test", "recipe=1"),
        facts={"count": 0},
        requester=Requester(
            Actor("user", "reviewer"),
            {"recording": original.recording_id, "original": original.pk},
            Client("192.0.2.7", "test agent"),
        ),
        details={"label": "why"},
    )
    stored = b"".join(get_store().read_range(derivative.sha256))
    assert stored == made.read_bytes()
    assert derivative.sha256 == hashlib.sha256(stored).hexdigest()
    assert (derivative.size, derivative.content_type) == (len(stored), "application/json")
    assert (derivative.generator, derivative.generator_version) == ("overt.test", "recipe=1")
    assert derivative.facts == {"count": 0}

    (row,) = CustodyEntry.objects.filter(action="derivative-create")
    entry = json.loads(row.entry)
    assert entry["actor"] == {"kind": "user", "id": "reviewer"}
    assert entry["object"] == {
        "sha256": original.sha256,
        "ids": {
            "recording": original.recording_id,
            "original": original.pk,
            "derivative": derivative.pk,
        },
    }
    assert entry["details"] == {
        "kind": "waveform",
        "sha256": derivative.sha256,
        "size": derivative.size,
        "generator": "overt.test",
        "generator_version": "recipe=1",
        "label": "why",
    }
    assert entry["client"]["address"] == "192.0.2.7"
    assert assert_every_derivative_has_its_entry() == 1


def test_a_derivative_whose_entry_cannot_be_written_is_not_catalogued(
    people, tmp_path: Path
) -> None:
    original = _original(people)
    made = tmp_path / "poster.jpg"
    made.write_bytes(b"not really a jpeg")
    before = CustodyEntry.objects.count()
    with pytest.raises(TypeError):  # the entry's details must be JSON
        store_derivative(
            original,
            Derivative.Kind.POSTER,
            made,
            content_type="image/jpeg",
            provenance=Provenance("overt.test", "recipe=1"),
            facts={},
            requester=Requester(Actor.system("media"), {"original": original.pk}),
            details={"unwritable": object()},
        )
    assert not Derivative.objects.exists()
    assert CustodyEntry.objects.count() == before


def test_media_derivatives_are_catalogued_once_with_their_entries(people, clips) -> None:
    original = Original.objects.get(
        pk=ingest_file(clips["good"], officer_number="MP100", device_serial="CAM-1").id
    )
    poster = make_derivative(original.pk, Derivative.Kind.POSTER, derivatives.make_poster)
    waveform = make_derivative(original.pk, Derivative.Kind.WAVEFORM, make_waveform)
    again = make_derivative(original.pk, Derivative.Kind.POSTER, derivatives.make_poster)
    assert again.pk == poster.pk  # idempotent: no second row, no second entry
    assert {poster.generator, waveform.generator} == {derivatives.GENERATOR}
    assert assert_every_derivative_has_its_entry() == 2
    (entry,) = [
        json.loads(e.entry)
        for e in CustodyEntry.objects.filter(action="derivative-create")
        if json.loads(e.entry)["details"]["kind"] == "poster"
    ]
    assert entry["actor"] == {"kind": "system", "id": "media"}
    assert entry["object"]["ids"] == {"original": original.pk, "derivative": poster.pk}


def test_only_the_catalogue_creates_derivatives() -> None:
    """Media, review and redaction all go through overt.media.catalogue; a second way
    of making a Derivative row (which could forget its custody entry) fails here."""
    makers, recorders = set(), set()
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if MAKES_A_ROW.search(text):
            makers.add(path.relative_to(SRC).as_posix())
        if RECORDS_CREATION.search(text):
            recorders.add(path.relative_to(SRC).as_posix())
    assert makers == {"media/catalogue.py"}
    assert recorders == {"media/catalogue.py"}
