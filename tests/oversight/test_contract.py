"""The deployments contract (pure): the JSON shape, its CSV flattening, and bad rows
named with their field."""

from __future__ import annotations

import json

import pytest

from overt.oversight.contract import CSV_COLUMNS, ContractError, parse_csv, parse_json

GOOD = {
    "reference": "CAD 4410/20NOV",
    "type": "armed-deployment",
    "borough": "Westminster",
    "team": "SCO19",
    "authorised_at": "2026-11-20T13:55:00Z",
    "arrived_at": "2026-11-20T14:00:00Z",
    "ended_at": "2026-11-20T14:30:00Z",
    "location": {"lat": 51.4977, "lon": -0.1415},
    "officers": [
        {
            "number": "MP4121",
            "arrived_at": "2026-11-20T14:01:00Z",
            "departed_at": "2026-11-20T14:29:00Z",
        },
        {"number": "MP4122", "arrived_at": None, "departed_at": None},
    ],
}


def errors_of(text: str, csv: bool = False) -> list[tuple[str, str]]:
    with pytest.raises(ContractError) as caught:
        (parse_csv if csv else parse_json)(text)
    return [(e.row, e.field) for e in caught.value.errors]


def test_the_issue_example_round_trips() -> None:
    [dep] = parse_json(json.dumps([GOOD]))
    assert dep.reference == "CAD 4410/20NOV" and dep.lat == 51.4977
    assert [o.number for o in dep.officers] == ["MP4121", "MP4122"]
    assert dep.officers[1].arrived_at is None
    assert dep.as_json() == GOOD


def test_csv_flattens_the_same_fields() -> None:
    lines = [",".join(CSV_COLUMNS)]
    for o in GOOD["officers"]:
        lines.append(
            ",".join(
                [
                    '"CAD 4410/20NOV"',
                    "armed-deployment",
                    "Westminster",
                    "SCO19",
                    "2026-11-20T13:55:00Z",
                    "2026-11-20T14:00:00Z",
                    "2026-11-20T14:30:00Z",
                    "51.4977",
                    "-0.1415",
                    o["number"],
                    o["arrived_at"] or "",
                    o["departed_at"] or "",
                ]
            )
        )
    assert parse_csv("\n".join(lines) + "\n") == parse_json(json.dumps([GOOD]))


def test_csv_deployment_without_officers_is_one_row_with_no_number() -> None:
    header = ",".join(CSV_COLUMNS)
    row = "R1,stop-and-search,Camden,TSG,,2026-11-20T14:00:00Z,2026-11-20T14:10:00Z,,,,,"
    [dep] = parse_csv(f"{header}\n{row}\n")
    assert dep.officers == () and dep.lat is None and dep.authorised_at is None


def test_csv_rows_of_one_reference_must_agree() -> None:
    header = ",".join(CSV_COLUMNS)
    a = "R1,stop-and-search,Camden,TSG,,2026-11-20T14:00:00Z,2026-11-20T14:10:00Z,,,A1,,"
    b = "R1,stop-and-search,Hackney,TSG,,2026-11-20T14:00:00Z,2026-11-20T14:10:00Z,,,A2,,"
    assert errors_of(f"{header}\n{a}\n{b}\n", csv=True) == [("row 3", "borough")]


def test_csv_header_must_be_the_documented_one() -> None:
    assert ("row 1", "officer_number") in errors_of("reference,type\nx,y\n", csv=True)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"arrived_at": None}, "arrived_at"),
        ({"arrived_at": "2026-11-20 14:00:00"}, "arrived_at"),  # no offset: ambiguous
        ({"ended_at": "2026-11-20T13:00:00Z"}, "ended_at"),  # before arrival
        ({"type": "picnic"}, "type"),
        ({"reference": ""}, "reference"),
        ({"location": {"lat": 95, "lon": 0}}, "location.lat"),
        ({"location": {"lat": 51.5}}, "location"),
        ({"colour": "blue"}, "colour"),
        ({"officers": None}, "officers"),
        ({"officers": [{"number": "A", "arrived_at": "yesterday"}]}, "officers[0].arrived_at"),
        ({"officers": [{"number": "A"}, {"number": "A"}]}, "officers[1].number"),
        ({"officers": [{"number": "A", "badge": 1}]}, "officers[0].badge"),
        (
            {
                "officers": [
                    {
                        "number": "A",
                        "arrived_at": "2026-11-20T14:20:00Z",
                        "departed_at": "2026-11-20T14:10:00Z",
                    }
                ]
            },
            "officers[0].departed_at",
        ),
    ],
)
def test_a_bad_field_is_named_with_its_row(change: dict, field: str) -> None:
    bad = {**GOOD, **change}
    assert ("deployment 2", field) in errors_of(
        json.dumps([GOOD, bad]).replace('"CAD 4410/20NOV"', '"X"', 1)
    )


def test_a_reference_twice_in_one_file_is_refused() -> None:
    assert errors_of(json.dumps([GOOD, GOOD])) == [("deployment 2", "reference")]


def test_every_error_is_reported_at_once() -> None:
    bad = {**GOOD, "type": "picnic", "borough": ""}
    found = errors_of(json.dumps([bad]))
    assert ("deployment 1", "type") in found and ("deployment 1", "borough") in found


@pytest.mark.parametrize("text", ["", "{}", "[1]", "not json", '[{"reference": 5}]'])
def test_malformed_files_are_refused_not_crashed(text: str) -> None:
    with pytest.raises(ContractError):
        parse_json(text)


def test_offsets_are_converted_to_utc() -> None:
    [dep] = parse_json(json.dumps([{**GOOD, "arrived_at": "2026-11-20T15:00:00+01:00"}]))
    assert dep.arrived_at.isoformat() == "2026-11-20T14:00:00+00:00"


# Hostile input an outside client can send: each is refused by row and field (or read as
# the contract says), never a crash and never a value silently dropped.
@pytest.mark.parametrize(
    "when",
    [
        "2026-W47-5T14:00:00+00:00",  # ISO 8601 week date: not RFC 3339
        "2026-11-20T14:00:00+0000",  # offset without a colon
        "2026-11-20T14:00:00+01",  # offset of hours only
        "2026-11-20T14:00:00+01:00:30",  # offset with seconds
        "2026-11-20T14:00:00,5Z",  # comma before the fraction
        "2026-11-20T14:00Z",  # no seconds
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC: once an OverflowError
        "2026-02-30T14:00:00Z",
        "2026-11-20T23:59:60Z",
    ],
)
def test_times_that_are_not_rfc3339_are_refused(when: str) -> None:
    bad = {**GOOD, "authorised_at": None, "arrived_at": when}
    assert errors_of(json.dumps([bad])) == [("deployment 1", "arrived_at")]


@pytest.mark.parametrize(
    "when", ["2026-11-20t14:00:00z", "2026-11-20 14:00:00Z", "2026-11-20T14:00:00.123456789Z"]
)
def test_rfc3339_forms_are_read(when: str) -> None:
    [dep] = parse_json(json.dumps([{**GOOD, "authorised_at": None, "arrived_at": when}]))
    assert dep.arrived_at.replace(microsecond=0).isoformat() == "2026-11-20T14:00:00+00:00"


def test_a_number_sent_as_a_string_is_the_wrong_type_in_json() -> None:
    bad = {**GOOD, "location": {"lat": "51.4977", "lon": "-0.1415"}}
    assert errors_of(json.dumps([bad])) == [
        ("deployment 1", "location.lat"),
        ("deployment 1", "location.lon"),
    ]


def test_a_key_given_twice_is_refused_not_last_wins() -> None:
    text = json.dumps([GOOD])
    twice = text.replace('"team": "SCO19"', '"team": "SCO19", "team": "TSG"')
    assert errors_of(twice) == [("deployment 1", "team")]
    nested = text.replace('"lat": 51.4977', '"lat": 51.4977, "lat": 0')
    assert errors_of(nested) == [("deployment 1", "location.lat")]
    officer = text.replace('"number": "MP4121"', '"number": "MP4121", "number": "MP1"')
    assert errors_of(officer) == [("deployment 1", "officers[0].number")]


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,  # once a RecursionError
        '[{"reference": "X", "location": {"lat": ' + "9" * 5000 + ', "lon": 0}}]',  # ValueError
    ],
)
def test_pathological_json_is_refused_not_crashed(text: str) -> None:
    with pytest.raises(ContractError):
        parse_json(text)


# Also invisible formatting characters: "CAD\u200b1" would be a second deployment that
# looks exactly like "CAD1".
@pytest.mark.parametrize(
    "char", ["\ud800", "\u202e", "\u2028", "\x85", "\u200b", "\ufeff", "\u200e"]
)
def test_unprintable_characters_are_refused(char: str) -> None:
    bad = {**GOOD, "reference": f"CAD{char}1"}
    assert errors_of(json.dumps([bad])) == [("deployment 1", "reference")]


def _csv(*rows: str, header: str = ",".join(CSV_COLUMNS)) -> str:
    return "\r\n".join([header, *rows]) + "\r\n"


ROW = (
    'C1,cad-incident,"Camden, North",TSG,,2026-11-20T14:00:00Z,2026-11-20T14:30:00Z,'
    "51.5,-0.14,MP1,,"
)


def test_csv_with_bom_crlf_and_quoted_commas_is_read() -> None:
    [dep] = parse_csv("\ufeff" + _csv(ROW))
    assert (dep.borough, dep.lat, [o.number for o in dep.officers]) == (
        "Camden, North",
        51.5,
        ["MP1"],
    )


def test_csv_column_given_twice_is_refused_not_last_wins() -> None:
    header = ",".join(CSV_COLUMNS) + ",reference"
    assert errors_of(_csv(ROW + ",C2", header=header), csv=True) == [("row 1", "reference")]


def test_csv_cells_too_large_for_the_reader_are_refused_by_row() -> None:
    huge = ROW.replace("C1", '"' + "x" * 200_000 + '"')
    assert errors_of(_csv(ROW.replace("C1", "C0"), huge), csv=True) == [("row 3", "")]
    long = ROW.replace("C1", "x" * 5000)
    assert errors_of(_csv(long), csv=True) == [("row 2", "")]
