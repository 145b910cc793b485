"""Sidecar parsing under arbitrary input: a Sidecar or a SidecarError, nothing else.

Anything else (RecursionError, OverflowError, a bare ValueError) would crash `overt
watch` or give `overt ingest` a traceback (issue 11, items 10 and 11).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from overt.ingest.sidecar import Sidecar, SidecarError, parse_sidecar
from overt.ingest.times import MIN_CAPTURE_TIME, max_capture_time

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
# Times as a camera might get them wrong: real shapes at the calendar's edges, odd offsets.
times = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.builds(
        lambda year, offset: f"{year:04d}-12-31T23:59:59{offset}",
        st.integers(1, 9999),
        st.sampled_from(["Z", "+23:59", "-23:59", "+00:00", "+24:00", "-00:60", ""]),
    ),
    st.text(max_size=40),
    json_scalars,
)
sidecar_like = st.fixed_dictionaries(
    {"schema": st.sampled_from(["overt.sidecar/1"]) | json_scalars},
    optional={
        "officer": st.text(max_size=40) | json_scalars,
        "device": st.text(max_size=70) | json_scalars,
        "sha256": st.text(alphabet="0123456789abcdef", min_size=64, max_size=64) | json_values,
        "recording": st.fixed_dictionaries(
            {"trigger_on_at": times},
            optional={
                "trigger_off_at": times,
                "pre_event_seconds": st.integers() | st.floats(),
                "location": st.fixed_dictionaries(
                    {"lat": st.floats() | st.integers(), "lon": st.floats() | st.integers()}
                ),
                "gps_track": st.lists(
                    st.fixed_dictionaries({"t": times, "lat": st.floats(), "lon": st.floats()}),
                    max_size=3,
                ),
            },
        )
        | json_values,
        "clip": st.fixed_dictionaries(
            {}, optional={"started_at": times, "stopped_at": times, "filename": st.text()}
        )
        | json_values,
        "markers": st.lists(
            st.fixed_dictionaries({"at": times, "text": st.text(max_size=600)}), max_size=3
        )
        | json_values,
        "categories": st.lists(st.text(max_size=120), max_size=3) | json_values,
    },
)

# Valid in every field but the times, so that most examples reach the time checks.
timed_sidecars = st.fixed_dictionaries(
    {"schema": st.just("overt.sidecar/1")},
    optional={
        "recording": st.fixed_dictionaries(
            {"trigger_on_at": times},
            optional={
                "trigger_off_at": times,
                "gps_track": st.lists(
                    st.fixed_dictionaries({"t": times, "lat": st.just(51.5), "lon": st.just(0)}),
                    max_size=2,
                ),
            },
        ),
        "clip": st.fixed_dictionaries({}, optional={"started_at": times, "stopped_at": times}),
        "markers": st.lists(st.fixed_dictionaries({"at": times, "text": st.just("x")}), max_size=2),
    },
)


def _parses_or_refuses(raw: bytes) -> Sidecar | None:
    try:
        return parse_sidecar(raw, "fuzz.json")
    except SidecarError as exc:
        assert str(exc).startswith("fuzz.json: "), exc
        return None


def _all_times(sidecar: Sidecar) -> list[datetime]:
    found = [sidecar.clip.started_at, sidecar.clip.stopped_at]
    found += [m.at for m in sidecar.markers]
    if sidecar.recording:
        found += [sidecar.recording.trigger_on_at, sidecar.recording.trigger_off_at]
        found += [p.t for p in sidecar.recording.gps_track]
    return [t for t in found if t is not None]


@FUZZ
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_parse_or_raise_sidecar_error(raw: bytes) -> None:
    _parses_or_refuses(raw)


@FUZZ
@given(json_values)
def test_arbitrary_json_parses_or_raises_sidecar_error(value: object) -> None:
    _parses_or_refuses(json.dumps(value).encode())


@FUZZ
@given(sidecar_like)
def test_sidecar_shaped_json_parses_or_raises_sidecar_error(value: dict) -> None:
    _parses_or_refuses(json.dumps(value).encode())


@FUZZ
@given(timed_sidecars)
def test_every_accepted_time_is_in_range(value: dict) -> None:
    sidecar = _parses_or_refuses(json.dumps(value).encode())
    if sidecar is None:
        return
    latest = max_capture_time(datetime.now(UTC))
    for when in _all_times(sidecar):
        # Accepted means usable: it converts to UTC and lies in the documented range.
        assert MIN_CAPTURE_TIME <= when.astimezone(UTC) <= latest


@settings(max_examples=30, deadline=None)
@given(st.integers(17, 200_000), st.sampled_from(["[", '{"a":', '{"schema":']))
def test_deep_nesting_is_a_sidecar_error(depth: int, opener: str) -> None:
    closer = {"[": "]", '{"a":': "}", '{"schema":': "}"}[opener]
    raw = (opener * depth + "1" + closer * depth).encode()
    assert _parses_or_refuses(raw) is None


def test_overflowing_numbers_and_lone_surrogates_are_sidecar_errors() -> None:
    for raw in (
        b'{"schema": "overt.sidecar/1", "recording": {"trigger_on_at": "2026-11-20T14:00:00Z",'
        b' "pre_event_seconds": ' + b"9" * 5000 + b"}}",
        b'{"schema": "overt.sidecar/1", "officer": "\\ud800"}',
        b'{"schema": "overt.sidecar/1", "clip": {"started_at": "9999-12-31T23:59:59-23:59"}}',
        b'{"schema": "overt.sidecar/1", "markers": [{"at": "0001-01-01T00:00:00+23:59",'
        b' "text": "x"}]}',
    ):
        assert _parses_or_refuses(raw) is None, raw[:80]
