"""The catalogue's recording filters: each on its own, combined, and their validation."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_from_bytes

import hypothesis
import pytest
from django.apps import apps as live_apps
from django.http import QueryDict
from hypothesis import strategies as st

from overt.evidence.catalogue import (
    FilterError,
    RecordingFilter,
    facet_options,
    filter_recordings,
)
from overt.evidence.models import (
    Category,
    Device,
    Incident,
    Marker,
    Officer,
    Original,
    Recording,
    Tag,
)

T0 = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)  # summer: London is UTC+1


@pytest.fixture
def catalogue(db: None) -> dict[str, Recording]:
    # The default categories come from data migrations (retention 0002, 0003); a
    # transactional test that ran earlier in this process empties every table, those rows
    # too: run the two data steps again, as tests/cases/test_library_bulk.py does.
    if not Category.objects.filter(name="Evidential").exists():
        for step in ("0002_default_policies", "0003_default_categories"):
            importlib.import_module(f"overt.retention.migrations.{step}").create(live_apps, None)
    asha = Officer.objects.create(number="MP1", name="PC Asha Patel")
    tom = Officer.objects.create(number="MP2", name="PC Tom Hughes")
    cam_a = Device.objects.create(serial="CAM-A", model="Axis W120")
    cam_b = Device.objects.create(serial="CAM-B")
    cad = Incident.objects.create(reference="CAD 1/JUL", title="Armed deployment")
    Incident.objects.create(reference="CAD 2/JUL")
    firearms = Category.objects.create(name="Firearms")
    Category.objects.create(name="Domestic")
    urgent = Tag.objects.create(name="urgent")

    def make(name: str, officer: Officer, device: Device, hours: float, **kw) -> Recording:
        return Recording.objects.create(
            title=name,
            officer=officer,
            device=device,
            trigger_on_at=T0 + timedelta(hours=hours),
            **kw,
        )

    rows = {
        "armed": make("Armed deployment", asha, cam_a, 0, incident=cad),
        "stop": make("Stop and search", tom, cam_b, 2, notes="Grounds: smell of cannabis"),
        "traffic": make("Traffic stop", tom, cam_a, 26),  # the next day
        "welfare": make("Welfare check", asha, cam_b, -30),  # two days before
    }
    rows["armed"].categories.add(firearms)
    rows["armed"].tags.add(urgent)
    rows["stop"].tags.add(urgent)
    Marker.objects.create(
        recording=rows["traffic"], at=rows["traffic"].trigger_on_at, text="Driver breathalysed"
    )
    for n, (key, playable) in enumerate([("armed", True), ("stop", True), ("stop", False)]):
        Original.objects.create(
            sha256=f"{n:064x}",
            size=1,
            recording=rows[key],
            filename=f"{key}-{n}.mp4",
            source=Original.Source.CLI,
            playable=playable,
            problem="" if playable else "truncated",
        )
    return rows


def titles(**params: object) -> list[str]:
    return [r.title for r in filter_recordings(RecordingFilter.from_params(params))]


def test_no_filter_lists_everything_newest_trigger_first(catalogue) -> None:
    assert titles() == ["Traffic stop", "Stop and search", "Armed deployment", "Welfare check"]


def test_same_trigger_time_falls_back_to_newest_id(catalogue) -> None:
    first = catalogue["armed"]
    twin = Recording.objects.create(
        title="Twin", officer=first.officer, device=first.device, trigger_on_at=first.trigger_on_at
    )
    ids = [r.pk for r in filter_recordings(RecordingFilter()) if r.trigger_on_at == T0]
    assert ids == [twin.pk, first.pk]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"officer": "MP1"}, ["Armed deployment", "Welfare check"]),
        ({"device": "CAM-A"}, ["Traffic stop", "Armed deployment"]),
        ({"incident": "CAD 1/JUL"}, ["Armed deployment"]),
        ({"incident": "CAD 2/JUL"}, []),
        ({"category": "Firearms"}, ["Armed deployment"]),
        ({"category": "Domestic"}, []),
        ({"tag": "urgent"}, ["Stop and search", "Armed deployment"]),
        ({"q": "STOP"}, ["Traffic stop", "Stop and search"]),  # title, any case
        ({"q": "cannabis"}, ["Stop and search"]),  # notes
        ({"q": "breathalysed"}, ["Traffic stop"]),  # marker text
        ({"playable": "false"}, ["Stop and search"]),
        ({"playable": "true"}, ["Traffic stop", "Armed deployment", "Welfare check"]),
        ({"officer": "nobody"}, []),
    ],
)
def test_each_filter(catalogue, params, expected) -> None:
    assert titles(**params) == expected


def test_filters_combine(catalogue) -> None:
    assert titles(officer="MP2", device="CAM-A") == ["Traffic stop"]
    assert titles(tag="urgent", officer="MP2", q="search") == ["Stop and search"]
    assert titles(tag="urgent", playable="true") == ["Armed deployment"]
    assert titles(device="CAM-B", since="2026-07-01", until="2026-07-01") == ["Stop and search"]
    assert titles(device="CAM-B", until="2026-06-30") == ["Welfare check"]


def test_dates_are_london_days_and_until_includes_its_whole_day(catalogue) -> None:
    assert titles(since="2026-07-01", until="2026-07-01") == ["Stop and search", "Armed deployment"]
    assert titles(since="2026-07-02") == ["Traffic stop"]
    assert titles(until="2026-06-30") == ["Welfare check"]
    since = RecordingFilter.from_params({"since": "2026-07-01"}).since
    assert since == datetime(2026, 6, 30, 23, 0, tzinfo=UTC)  # BST midnight


def test_date_times_take_an_offset_or_are_london_time(catalogue) -> None:
    # Armed deployment triggered at 10:00 UTC, which is 11:00 in London.
    assert titles(since="2026-07-01T11:00", until="2026-07-01T11:00:01") == ["Armed deployment"]
    assert titles(since="2026-07-01T10:00:00Z", until="2026-07-01T10:00:01Z") == [
        "Armed deployment"
    ]
    assert titles(since="2026-07-01T09:00Z", until="2026-07-01T11:00") == []  # until is exclusive


def test_from_params_reads_a_query_dict_and_ignores_blanks_and_unknown_keys() -> None:
    f = RecordingFilter.from_params(QueryDict("officer=MP1&device=&q=%20%20&page=3&playable=yes"))
    assert f == RecordingFilter(officer="MP1", playable=True)
    assert RecordingFilter.from_params({}).is_empty()


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"since": "yesterday"}, "since", "not a date"),
        ({"until": "2026-02-30"}, "until", "not a date"),
        ({"since": "2026-13-01T10:00"}, "since", "not a date"),
        ({"since": "2026-07-02", "until": "2026-07-01"}, "until", "after"),
        ({"playable": "maybe"}, "playable", "true or false"),
        ({"q": "x" * 201}, "q", "longer than"),
    ],
)
def test_bad_values_raise_a_filter_error_naming_the_field(params, field, words) -> None:
    with pytest.raises(FilterError) as caught:
        RecordingFilter.from_params(params)
    assert caught.value.field == field
    assert words in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_officer_device_and_incident_come_with_the_query(
    catalogue, django_assert_num_queries
) -> None:
    with django_assert_num_queries(1):
        rows = [
            (r.officer.number, r.device.serial, r.incident)
            for r in filter_recordings(RecordingFilter())
        ]
    assert len(rows) == 4


def test_facet_options_offer_every_value_the_filters_take(catalogue) -> None:
    facets = facet_options()
    assert facets.officers == [("MP1", "MP1 PC Asha Patel"), ("MP2", "MP2 PC Tom Hughes")]
    assert facets.devices == [("CAM-A", "CAM-A (Axis W120)"), ("CAM-B", "CAM-B")]
    assert sorted(facets.incidents) == [
        ("CAD 1/JUL", "CAD 1/JUL: Armed deployment"),
        ("CAD 2/JUL", "CAD 2/JUL"),
    ]
    defaults = [("Evidential", "Evidential"), ("Non-evidential", "Non-evidential")]
    assert facets.categories == sorted(
        [("Domestic", "Domestic"), ("Firearms", "Firearms"), *defaults]
    )
    for value, _ in facets.officers:
        assert titles(officer=value)


# --- hostile search text (issue 11 item 21), on SQLite FTS5 and on PostgreSQL pg_trgm ----

ODD = 'Said "halt*" ^twice (loudly) NEAR: the car; col:value AND 50% off_side \\ {x} -y +z'


@pytest.fixture
def odd_text(catalogue) -> Recording:
    return Recording.objects.create(
        title="Odd words",
        notes=ODD,
        officer=catalogue["armed"].officer,
        device=catalogue["armed"].device,
        trigger_on_at=T0 + timedelta(hours=5),
    )


@pytest.mark.scaled
@pytest.mark.parametrize(
    "q",
    [
        '"halt*"',  # quotes and the prefix star
        "halt*",
        "^twice",  # FTS5's start-of-column anchor
        "(loudly)",  # grouping
        "NEAR:",  # NEAR and a colon
        "col:value",  # FTS5's column filter
        "AND off_side",  # boolean operators are words like any other
        "50%",  # LIKE wildcards
        "off_side",
        "\\ {x}",  # backslash (LIKE's escape) and braces (FTS5 column sets)
        '"halt*" ^twice',
        "-y +z said",
    ],
)
def test_fts_metacharacters_are_only_text(odd_text, q: str) -> None:
    assert titles(q=q) == ["Odd words"]


@pytest.mark.scaled
@pytest.mark.parametrize("q", ["NOT armed", "armed OR welfare", "armed AND NOT welfare", "(armed)"])
def test_operators_do_not_operate(odd_text, q: str) -> None:
    """Each word must appear as written: NOT and OR find nothing that lacks them."""
    assert titles(q=q) == []


@pytest.mark.scaled
@pytest.mark.parametrize(
    "q", ["\x00abc", "ab\x00cd", "abc\x00", "armed\x01", "\x1babc", "abc\x7f", "abc\x85def"]
)
def test_nul_and_control_characters_are_refused_clearly(catalogue, q: str) -> None:
    with pytest.raises(FilterError) as caught:
        RecordingFilter.from_params({"q": q})
    assert caught.value.field == "q" and "control character" in caught.value.message
    with pytest.raises(FilterError):  # a filter built by hand is checked too
        list(filter_recordings(RecordingFilter(q=q)))


@pytest.mark.scaled
def test_tabs_and_line_breaks_separate_words(catalogue) -> None:
    assert titles(q="stop\tsearch\r\n") == ["Stop and search"]


@pytest.mark.scaled
@pytest.mark.parametrize("field", ["officer", "device", "incident", "category", "tag"])
def test_nul_in_any_text_filter_is_a_filter_error(catalogue, field: str) -> None:
    with pytest.raises(FilterError) as caught:
        RecordingFilter.from_params({field: "MP\x001"})
    assert caught.value.field == field


@pytest.mark.scaled
def test_unpaired_surrogates_are_refused(catalogue) -> None:
    with pytest.raises(FilterError) as caught:
        RecordingFilter.from_params({"q": "\ud800armed"})
    assert "surrogate" in caught.value.message


@pytest.mark.scaled
def test_very_long_text_is_refused_and_the_longest_allowed_works(catalogue) -> None:
    with pytest.raises(FilterError):
        RecordingFilter.from_params({"q": "armed" * 10_000})
    assert titles(q="x" * 200) == []
    assert titles(q=" ".join(["armed"] * 8)) == ["Armed deployment"]


@pytest.fixture
def api(client, catalogue):  # type: ignore[no-untyped-def]
    from overt.testing.access import make_user, sign_in

    return sign_in(client, make_user("searcher", "evidence-manager"))


@pytest.mark.scaled
@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("q=%00abc", 400),  # the probe's request: was a 500
        ("q=abc%00", 400),
        ("q=%1Babc", 400),
        ("officer=MP%001", 400),
        ("q=%ED%A0%80armed", 200),  # a UTF-8-encoded surrogate: not UTF-8, read as U+FFFD
        ("q=%FF%FEarmed", 200),  # invalid UTF-8 bytes
        ("q=" + "a" * 5000, 400),
        ("q=%22armed%22+NEAR%28x%29+%5E*", 200),
    ],
)
def test_the_api_and_library_answer_hostile_text_without_a_server_error(
    api, query: str, status: int
) -> None:
    response = api.get(f"/api/recordings/?{query}")
    assert response.status_code == status, response.content[:300]
    if status == 400:
        assert response["Content-Type"] == "application/problem+json"
        assert "q" in response.json()["detail"] or "officer" in response.json()["detail"]
    assert api.get(f"/?{query}").status_code == status  # the library page


@pytest.mark.scaled
def test_a_saved_search_name_with_nul_is_refused(api) -> None:
    from overt.review.models import SavedSearch

    response = api.post("/searches/", {"name": "mine\x00", "query": "q=armed"})
    assert response.status_code == 400
    assert not SavedSearch.objects.exists()


# Any string, through the service and through the API: results or a clear 400, never an
# exception of another kind or a 500.
@pytest.mark.scaled
@hypothesis.settings(
    max_examples=150, deadline=None, suppress_health_check=list(hypothesis.HealthCheck)
)
@hypothesis.given(text=st.text(max_size=220))
def test_any_query_string_never_errors(catalogue, text: str) -> None:
    try:
        f = RecordingFilter.from_params({"q": text})
    except FilterError:
        return
    assert isinstance(list(filter_recordings(f)), list)


@pytest.mark.scaled
@hypothesis.settings(
    max_examples=100, deadline=None, suppress_health_check=list(hypothesis.HealthCheck)
)
@hypothesis.given(raw=st.binary(max_size=120))
def test_any_query_bytes_over_http_never_error(api, raw: bytes) -> None:
    response = api.get("/api/recordings/?q=" + quote_from_bytes(raw))
    assert response.status_code in (200, 400), response.content[:300]
