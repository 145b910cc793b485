"""The one capture-time rule (overt.ingest.times), shared by every door."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from overt.ingest.times import (
    MAX_CLOCK_AHEAD,
    MIN_CAPTURE_TIME,
    CaptureTimeError,
    NotRFC3339,
    check_capture_time,
    parse_capture_time,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01t10:00:00z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01 10:00:00+02:00", datetime(2024, 5, 1, 8, tzinfo=UTC)),
        ("2024-05-01T10:00:00.123456789-01:30", datetime(2024, 5, 1, 11, 30, 0, 123456, UTC)),
        ("  2000-01-01T00:00:00Z ", MIN_CAPTURE_TIME),
    ],
)
def test_good_times_parse_to_utc(text: str, expected: datetime) -> None:
    assert parse_capture_time(text, now=NOW) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9999-12-31T23:59:59Z", "outside the accepted range"),
        ("9999-12-31T23:59:59-23:59", "outside the range a date can hold"),
        ("0001-01-01T00:00:00+23:59", "outside the range a date can hold"),
        ("1999-12-31T23:59:59Z", "outside the accepted range"),
        ("2000-01-01T00:00:00+00:01", "outside the accepted range"),
        ("2025-06-02T12:00:01Z", "outside the accepted range"),
        ("2024-02-30T10:00:00Z", "not a real time"),
        ("2024-05-01T24:00:00Z", "not a real time"),
        ("2024-05-01T10:00:00+24:00", "impossible time zone"),
        ("2024-05-01T10:00:00+05:60", "impossible time zone"),
        ("2024-05-01T10:00:00", "RFC 3339"),
        ("yesterday", "RFC 3339"),
        ("", "RFC 3339"),
    ],
)
def test_impossible_times_are_refused(text: str, message: str) -> None:
    with pytest.raises(CaptureTimeError, match=message):
        parse_capture_time(text, "started_at", now=NOW)


def test_the_error_is_a_value_error_and_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"clip\.started_at"):
        parse_capture_time("9999-01-01T00:00:00Z", "clip.started_at", now=NOW)


def test_unreadable_text_is_told_apart_from_an_impossible_time() -> None:
    with pytest.raises(NotRFC3339):
        parse_capture_time("1714557600", now=NOW)
    with pytest.raises(CaptureTimeError) as impossible:
        parse_capture_time("9999-01-01T00:00:00Z", now=NOW)
    assert not isinstance(impossible.value, NotRFC3339)


def test_the_upper_bound_is_now_plus_a_day() -> None:
    assert parse_capture_time("2025-06-02T12:00:00Z", now=NOW) == NOW + MAX_CLOCK_AHEAD


def test_check_takes_parsed_times_and_refuses_naive_ones() -> None:
    aware = datetime(2024, 1, 1, 1, tzinfo=UTC)
    assert check_capture_time(aware, now=NOW) == aware
    with pytest.raises(CaptureTimeError, match="no time zone"):
        check_capture_time(datetime(2024, 1, 1), now=NOW)
