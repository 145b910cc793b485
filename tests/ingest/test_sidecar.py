"""Sidecar parsing: clear errors for every kind of bad input."""

from __future__ import annotations

import json

import pytest

from overt.ingest.sidecar import SidecarError, parse_sidecar, safe_name

MINIMAL = {"schema": "overt.sidecar/1", "officer": "MP1", "device": "CAM"}


def test_minimal_sidecar_parses() -> None:
    sidecar = parse_sidecar(json.dumps(MINIMAL).encode())
    assert sidecar.officer == "MP1" and sidecar.markers == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff\xfe{}", "not valid UTF-8 at byte 0"),
        (b'{"schema": "overt.sidecar/1", "officer": "caf\xe9"}', "not valid UTF-8"),
        (b"{not json", "not valid JSON"),
        (json.dumps({"officer": "MP1"}).encode(), "schema"),
        (json.dumps({**MINIMAL, "schema": "overt.sidecar/9"}).encode(), "schema"),
        (json.dumps({**MINIMAL, "offcer": "typo"}).encode(), "offcer: Extra inputs"),
        (json.dumps({**MINIMAL, "clip": {"filename": "../../etc/passwd"}}).encode(), "plain name"),
        (json.dumps({**MINIMAL, "clip": {"filename": "a\x07b.mp4"}}).encode(), "control"),
        (
            json.dumps(
                {**MINIMAL, "markers": [{"at": "2026-11-20T14:00:00", "text": "x"}]}
            ).encode(),
            "markers.0.at",
        ),
        (
            json.dumps(
                {
                    **MINIMAL,
                    "recording": {
                        "trigger_on_at": "2026-11-20T14:00:00Z",
                        "location": {"lat": 95, "lon": 0},
                    },
                }
            ).encode(),
            "recording.location.lat",
        ),
        (b"x" * (4 << 20 + 1), "larger than"),
        (b"[" * 50 + b"]" * 50, "nested deeper than 16"),
        (
            json.dumps({**MINIMAL, "clip": {"started_at": "9999-12-31T23:59:59Z"}}).encode(),
            "clip.started_at: .*outside the accepted range",
        ),
        (
            json.dumps({**MINIMAL, "clip": {"started_at": 1700000000}}).encode(),
            "clip.started_at: .*RFC 3339 string",
        ),
        (
            json.dumps(
                {
                    **MINIMAL,
                    "clip": {
                        "started_at": "2026-11-20T14:00:10Z",
                        "stopped_at": "2026-11-20T14:00:00Z",
                    },
                }
            ).encode(),
            "stopped_at is before started_at",
        ),
    ],
)
def test_bad_sidecars_say_what_is_wrong(raw: bytes, message: str) -> None:
    with pytest.raises(SidecarError, match=message):
        parse_sidecar(raw, "s.json")


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "..\\x", "nul\x00", "\u202eevil"])
def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        safe_name(name)


def test_plain_unicode_names_are_fine() -> None:
    assert safe_name("Überprüfung 2026.mp4") == "Überprüfung 2026.mp4"
