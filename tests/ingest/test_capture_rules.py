"""The capture-signature rules (overt.custody.overt_verify_capture), pure: no Django, no
database. Manifests are signed here with the `cryptography` Ed25519 API."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support_capture import START, Camera, Piece

from overt.custody import overt_verify_capture as rules


def _files(n: int, salt: str = "") -> list[bytes]:
    return [hashlib.sha256(f"{salt}{i}".encode()).digest() * (i + 3) for i in range(n)]


def _verify(
    camera: Camera,
    segments: list[rules.Segment],
    chain: rules.DeviceChain | None = None,
    keys: list[rules.Key] | None = None,
) -> rules.Verdict:
    return rules.verify_recording(camera.serial, keys or [camera.rules_key()], segments, chain)


def _resign(camera: Camera, piece: Piece, **changes: object) -> Piece:
    body = {**json.loads(piece.manifest), **changes}
    manifest, signature = camera.sign(body)
    return Piece(piece.data, manifest, signature, piece.recording_id, int(body["segment"]))


def test_a_whole_chain_verifies_with_its_facts() -> None:
    camera = Camera("CAM-1")
    gps = [{"at": "2026-11-20T14:00:01.000000Z", "lat": 51.5, "lon": -0.12, "accuracy_m": 4}]
    pieces = camera.record(_files(3), pre_event=29.5, gps=gps)
    verdict = _verify(camera, [p.as_segment() for p in pieces])
    assert verdict.capture_signature == "verified" and verdict.problems == []
    assert [v for v, _ in verdict.segments] == ["verified"] * 3
    facts = verdict.facts
    assert facts["pre_event_seconds"] == 29.5 and facts["device_sequence"] == 1
    assert facts["started_at"] == START and facts["ended_at"] == START + timedelta(minutes=3)
    assert facts["gps"] == gps and facts["clock_offset_s"] == 0.25
    assert facts["triggers"][0]["action"] == "start"


def test_the_order_files_arrive_in_does_not_matter() -> None:
    camera = Camera("CAM-1")
    segments = [p.as_segment() for p in camera.record(_files(5))]
    random.Random(4).shuffle(segments)
    assert _verify(camera, segments).capture_signature == "verified"


def test_an_interrupted_recording_verifies_and_says_so() -> None:
    camera = Camera("CAM-1")
    verdict = _verify(camera, [p.as_segment() for p in camera.record(_files(2), interrupted=True)])
    assert verdict.capture_signature == "verified"
    assert verdict.problems == [rules.INTERRUPTED]


def test_a_file_altered_after_capture_is_broken_and_named() -> None:
    camera = Camera("CAM-1")
    pieces = camera.record(_files(3))
    segments = [p.as_segment() for p in pieces]
    segments[1] = pieces[1].as_segment(pieces[1].data + b"x")
    verdict = _verify(camera, segments)
    assert verdict.capture_signature == "broken"
    assert [v for v, _ in verdict.segments] == ["verified", "broken", "verified"]
    assert "altered after capture" in verdict.segments[1][1][0]


def test_a_missing_segment_is_a_gap_wherever_it_was() -> None:
    camera = Camera("CAM-1")
    pieces = camera.record(_files(4))
    for drop in range(4):
        left = [p.as_segment() for i, p in enumerate(pieces) if i != drop]
        verdict = _verify(camera, left)
        assert verdict.capture_signature == "gap", drop
        expected = "no final segment" if drop == 3 else f"segment {drop} is missing"
        assert any(expected in p for p in verdict.problems), verdict.problems


def test_a_later_segment_turns_a_gap_into_verified() -> None:
    camera = Camera("CAM-1")
    pieces = camera.record(_files(3))
    assert _verify(camera, [pieces[0].as_segment()]).capture_signature == "gap"
    assert _verify(camera, [p.as_segment() for p in pieces]).capture_signature == "verified"


def test_a_file_without_a_manifest_is_unsigned() -> None:
    camera = Camera("CAM-1")
    pieces = camera.record(_files(1))
    bare = rules.Segment("ab" * 32, 10, manifest_sha256="cd" * 32, label="x.mp4")
    verdict = _verify(camera, [pieces[0].as_segment(), bare])
    assert verdict.capture_signature == "unsigned"
    assert verdict.segments[1] == (
        "unsigned",
        [
            f"file x.mp4 has no capture manifest (its upload named manifest {'cd' * 32}, never "
            "received)"
        ],
    )
    assert rules.verify_recording("CAM-1", [], []).capture_signature == "unsigned"


def test_signatures_keys_and_their_windows() -> None:
    camera, thief = Camera("CAM-1"), Camera("CAM-1")
    pieces = camera.record(_files(2))
    segments = [p.as_segment() for p in pieces]
    # A key the force never enrolled for the device.
    verdict = _verify(camera, segments, keys=[thief.rules_key()])
    assert verdict.capture_signature == "broken" and "not a key enrolled" in verdict.problems[0]
    # Signed by someone else under the camera's key id.
    forged = [_resign(thief, p, key_id=camera.key_id).as_segment() for p in pieces]
    assert _verify(camera, forged).capture_signature == "broken"
    # A retired key still verifies what it signed while valid, not after.
    valid = rules.Key(
        camera.key_id, camera.public_key, START - timedelta(days=9), START + timedelta(hours=1)
    )
    assert _verify(camera, segments, keys=[valid]).capture_signature == "verified"
    retired = rules.Key(
        camera.key_id, camera.public_key, START - timedelta(days=9), START - timedelta(days=1)
    )
    verdict = _verify(camera, segments, keys=[retired])
    assert verdict.capture_signature == "broken" and "outside its validity" in verdict.problems[0]


def test_unreadable_repeated_foreign_and_backward_manifests_are_broken() -> None:
    camera = Camera("CAM-1")
    pieces = camera.record(_files(3))
    garbage = rules.Segment(pieces[0].sha256, len(pieces[0].data), b"{not json", b"\0" * 64)
    assert _verify(camera, [garbage]).capture_signature == "broken"
    repeat = _resign(camera, pieces[2], segment=1)
    assert _verify(camera, [p.as_segment() for p in (*pieces, repeat)]).capture_signature == (
        "broken"
    )
    other = [_resign(camera, p, device_serial="CAM-2").as_segment() for p in pieces]
    assert "names device 'CAM-2'" in _verify(camera, other).problems[0]
    back = _resign(camera, pieces[2], started_at="2026-11-20T13:00:00.000000Z")
    segments = [pieces[0].as_segment(), pieces[1].as_segment(), back.as_segment()]
    assert any("go back" in p or "ends before" in p for p in _verify(camera, segments).problems)


def test_the_device_sequence_across_recordings() -> None:
    camera = Camera("CAM-1")
    first = camera.record(_files(1, "a"))
    camera.record(_files(1, "b"))  # recording 2 never reaches the server
    third = camera.record(_files(1, "c"))
    segments = [p.as_segment() for p in third]
    verdict = _verify(camera, segments, rules.DeviceChain({first[0].manifest_sha256: (1, True)}))
    assert verdict.capture_signature == "gap"
    assert "recording 2 before this one has not been received" in verdict.problems[0]
    known = rules.DeviceChain({third[0].manifest_sha256: (1, True)})  # wrongly linked
    assert _verify(camera, segments, known).capture_signature == "gap"
    camera2 = Camera("CAM-1")
    one = camera2.record(_files(1, "d"))
    two = camera2.record(_files(1, "e"))
    chain = rules.DeviceChain({one[0].manifest_sha256: (1, True)})
    assert _verify(camera2, [two[0].as_segment()], chain).capture_signature == "verified"
    reused = rules.DeviceChain({one[0].manifest_sha256: (1, True)}, {2})
    assert _verify(camera2, [two[0].as_segment()], reused).capture_signature == "broken"
    not_end = rules.DeviceChain({one[0].manifest_sha256: (1, False)})
    assert _verify(camera2, [two[0].as_segment()], not_end).capture_signature == "broken"
    restarted = _resign(camera2, one[0], previous_manifest_sha256="ab" * 32)
    assert _verify(camera2, [restarted.as_segment()]).capture_signature == "broken"


def test_broken_beats_gap_beats_unsigned() -> None:
    camera = Camera("CAM-1")
    pieces = camera.record(_files(3))
    bare = rules.Segment("ab" * 32, 10)
    gap_and_unsigned = [pieces[0].as_segment(), bare]
    assert _verify(camera, gap_and_unsigned).capture_signature == "gap"
    broken = [pieces[0].as_segment(pieces[1].data), bare]
    assert _verify(camera, broken).capture_signature == "broken"


# --- any change to a chain must not verify ----------------------------------------------

MUTATIONS = [
    "remove",
    "swap-files",
    "flip-manifest",
    "flip-file",
    "renumber",
    "drop-signature",
    "reorder-resigned",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 6),
    mutation=st.sampled_from(MUTATIONS),
    data=st.data(),
)
def test_no_reorder_removal_or_alteration_of_a_chain_verifies(
    n: int, mutation: str, data: st.DataObject
) -> None:
    camera = Camera("CAM-1")
    pieces = camera.record(_files(n, "h"))
    segments = [p.as_segment() for p in pieces]
    assert _verify(camera, segments).capture_signature == "verified"
    i = data.draw(st.integers(0, n - 1), label="index")
    if mutation == "remove":
        del segments[i]
    elif mutation == "swap-files":
        if n < 2:
            return
        j = data.draw(st.integers(0, n - 1).filter(lambda j: j != i), label="other")
        segments[i] = pieces[i].as_segment(pieces[j].data)
        segments[j] = pieces[j].as_segment(pieces[i].data)
    elif mutation == "flip-manifest":
        at = data.draw(st.integers(0, len(pieces[i].manifest) - 1), label="byte")
        body = bytearray(pieces[i].manifest)
        body[at] ^= data.draw(st.integers(1, 255), label="bits")
        segments[i] = rules.Segment(
            pieces[i].sha256, len(pieces[i].data), bytes(body), pieces[i].signature
        )
    elif mutation == "flip-file":
        at = data.draw(st.integers(0, len(pieces[i].data) - 1), label="byte")
        body = bytearray(pieces[i].data)
        body[at] ^= 1
        segments[i] = pieces[i].as_segment(bytes(body))
    elif mutation == "renumber":  # re-signed by the device itself, with another number
        number = data.draw(st.integers(0, n + 2).filter(lambda k: k != i), label="number")
        segments[i] = _resign(camera, pieces[i], segment=number).as_segment()
    elif mutation == "drop-signature":
        segments[i] = rules.Segment(pieces[i].sha256, len(pieces[i].data), pieces[i].manifest, b"")
    else:  # two segments' places exchanged and re-signed, keeping their chain links
        if n < 2:
            return
        j = data.draw(st.integers(0, n - 1).filter(lambda j: j != i), label="other")
        a = _resign(camera, pieces[i], segment=j, final=j == n - 1)
        b = _resign(camera, pieces[j], segment=i, final=i == n - 1)
        segments[i], segments[j] = a.as_segment(), b.as_segment()
    assert _verify(camera, segments).capture_signature != "verified"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=st.sampled_from(sorted(json.loads(Camera("X").record([b"x"])[0].manifest))),
    value=JSON | st.just("missing") | st.integers(10**300, 10**400),
    garbage=st.binary(max_size=200),
)
def test_any_manifest_the_device_signs_is_judged_never_crashes(
    field: str, value: object, garbage: bytes
) -> None:
    camera = Camera("CAM-1")
    (piece,) = camera.record(_files(1, "fuzz"))
    body = json.loads(piece.manifest)
    if value == "missing":
        del body[field]
    else:
        body[field] = value
    signed = camera.sign(body)
    segment = rules.Segment(piece.sha256, len(piece.data), *signed)
    verdict = _verify(camera, [segment])  # signed by the device itself: judged on its content
    assert verdict.capture_signature in rules.RANK
    if field in ("format", "sha256", "size", "segment", "previous_manifest_sha256", "final"):
        if body.get(field, object()) != json.loads(piece.manifest)[field]:
            assert verdict.capture_signature != "verified", (field, value)
    junk = rules.Segment(piece.sha256, len(piece.data), garbage, b"")
    assert _verify(camera, [junk]).capture_signature == "broken"
