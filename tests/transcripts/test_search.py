"""One search over everything an investigator knows, the same on SQLite (FTS5) and
PostgreSQL (full-text): these tests run on both engines."""

from __future__ import annotations

import pytest
from django.test import Client
from search_support import make_recording

from overt.evidence.catalogue import RecordingFilter
from overt.evidence.models import Recording
from overt.testing.access import make_user, sign_in
from overt.transcripts.search import search_for

pytestmark = pytest.mark.scaled


@pytest.fixture
def catalogue(db: None) -> dict[str, int]:
    recs = {
        "armed": make_recording(
            "Armed deployment 1",
            officer=("MP4121", "PC Asha Patel", "Specialist Firearms Command"),
            device="AXW120-0001",
            incident=("CAD 4410/20NOV", "Armed deployment, Horseferry Road"),
            said="Armed police! Drop the weapon! Show me your hands.",
            said_at=12.0,
            category="Firearms discharge",
        ),
        "stop": make_recording(
            "Stop 1",
            incident=("CAD 2957/20NOV", "Stop and search, Victoria Street"),
            said="I am searching you under section one on Victoria Street.",
            said_at=4.0,
            notes="Grounds: smell of cannabis",
            marker="Receipt given",
            minutes=5,
        ),
        "quiet": make_recording("Quiet patrol", minutes=10, device="AXW120-0009"),
    }
    return {k: v.pk for k, v in recs.items()}


def _ids(user, q: str) -> set[int]:
    search = search_for(user, RecordingFilter.from_params({"q": q}))
    return set(search.results().values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("Hughes", {"stop", "quiet"}),  # officer name
        ("MP4121", {"armed"}),  # collar number
        ("mp4121", {"armed"}),  # any case
        ("Westminster", {"stop", "quiet"}),  # team
        ("AXW120-0001", {"armed"}),  # device serial
        ("4410", {"armed"}),  # CAD reference
        ("Horseferry", {"armed"}),  # incident title: a street
        ("Victoria Street", {"stop"}),  # incident title and words said
        ("Firearms discharge", {"armed"}),  # category
        ("cannabis", {"stop"}),  # notes
        ("Receipt", {"stop"}),  # bookmark
        ("Quiet", {"quiet"}),  # title
        ('"drop the weapon"', {"armed"}),  # a phrase said
        ('"the weapon drop"', set()),  # words out of order are not the phrase
        ("weapon hands", {"armed"}),  # every word, anywhere in what was said
        ("weap", {"armed"}),  # a word's start
        ("weapon cannabis", set()),  # every word must be found in the one recording
        ("Patel weapon", {"armed"}),  # officer and words said together
    ],
)
def test_one_search_finds_what_investigators_know(catalogue, q: str, expected: set) -> None:
    user = make_user("ev", "evidence-manager")
    assert _ids(user, q) == {catalogue[k] for k in expected}


def test_results_show_where_it_was_said_and_link_to_that_second(client: Client, catalogue) -> None:
    sign_in(client, make_user("ev", "evidence-manager"))
    body = client.get("/api/recordings/", {"q": '"drop the weapon"'}).json()
    assert body["count"] == 1
    hit = body["results"][0]["transcript_hit"]
    assert hit["at_s"] == pytest.approx(13.0)  # "Drop" is the third word, 0.5 s apart
    assert "Drop the weapon!" in hit["text"]
    assert hit["url"].endswith(f"?clip={hit['original']}&t=13.00")
    assert hit["url"].startswith(f"/recordings/{catalogue['armed']}/")
    page = client.get("/", {"q": "drop the weapon"}).content.decode()
    assert "<mark>Drop the weapon!</mark>" in page or "<mark>Drop</mark>" in page
    assert hit["url"].replace("&", "&amp;") in page
    plain = client.get("/api/recordings/", {"q": "Patel"}).json()
    assert plain["results"][0]["transcript_hit"] is None  # found by name, not by words


@pytest.mark.parametrize(
    "q",
    [
        '"',
        '""',
        "'",
        "NEAR(a b)",
        "a* OR b^",
        "col:weapon",
        '"unbalanced phrase',
        "drop -- ; DROP TABLE evidence_recording",
        "ünïcödé straße",
        "警察 武器",
        "🙂🙂🙂",
        "AND OR NOT",
        "(((",
        "%_\\",
    ],
)
def test_hostile_queries_never_fail(client: Client, catalogue, q: str) -> None:
    sign_in(client, make_user("ev", "evidence-manager"))
    api = client.get("/api/recordings/", {"q": q})
    assert api.status_code in (200, 400), api.content
    page = client.get("/", {"q": q})
    assert page.status_code in (200, 400)


@pytest.mark.parametrize(
    "q",
    [
        "weapon " * 1500,
        '"' * 10_240,  # 10 kB of quotes
        "NEAR(a* OR b^) AND col:x " * 410,  # 10 kB of FTS5 syntax
        "'weapon':* <-> & | ! " * 500,  # 10 kB of tsquery syntax
        "警察" * 1707,  # 10 kB of UTF-8, three bytes a character
        "🙂" * 2560,  # 10 kB of four-byte characters
    ],
    ids=["words", "quotes", "fts5", "tsquery", "cjk", "emoji"],
)
def test_ten_kilobytes_is_refused_plainly(client: Client, catalogue, q: str) -> None:
    sign_in(client, make_user("ev", "evidence-manager"))
    response = client.get("/api/recordings/", {"q": q})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert "q: longer than 200 characters" in response.json()["detail"]
    page = client.get("/", {"q": q})
    assert page.status_code == 400
    assert "longer than 200 characters" in page.content.decode()


@pytest.mark.parametrize(
    "q",
    ["(weapon)", "weapon*", "^hands:", '"drop the weapon!"', "-weapon+", "'weapon'", "wéapon"],
)
def test_syntax_around_a_word_is_only_punctuation(client: Client, catalogue, q: str) -> None:
    """FTS5 and tsquery operators typed around a spoken word are separators: the word is
    still found, on both engines, and nothing is read as an operator."""
    sign_in(client, make_user("ev", "evidence-manager"))
    body = client.get("/api/recordings/", {"q": q}).json()
    assert [r["id"] for r in body["results"]] == [catalogue["armed"]]
    assert body["results"][0]["transcript_hit"] is not None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"box": "51.49,-0.15,51.51,-0.13"}, {"inside"}),  # south,west,north,east
        ({"box": "51.515,-0.15,51.53,-0.13"}, {"passes"}),  # the track enters it later
        ({"near": "51.5,-0.14,300"}, {"inside"}),
        ({"near": "51.52,-0.14,300"}, {"passes"}),
        ({"near": "51.5,-0.14,300", "q": "weapon"}, set()),  # with the text search too
        ({"box": "51.60,-0.31,51.62,-0.29"}, {"no start"}),  # its first fix came later
        ({"near": "51.61,-0.30,500"}, {"no start"}),
        ({"box": "51.40,0.49,51.42,0.51"}, {"from afar"}),  # started 60 km away
        ({"near": "51.41,0.50,800"}, {"from afar"}),
        ({"box": "52.19,0.11,52.21,0.13"}, {"away"}),  # a track of one fix
        ({"box": "51.0,-0.35,51.7,0.6"}, {"inside", "passes", "no start", "from afar"}),
    ],
)
def test_place_filters_use_the_gps_track(db: None, params: dict, expected: set) -> None:
    recs = {
        "inside": make_recording("In the box", gps=[(51.50, -0.14), (51.501, -0.141)]),
        "passes": make_recording("Walks in", gps=[(51.54, -0.14), (51.52, -0.14)], minutes=1),
        "away": make_recording("Elsewhere", gps=[(52.2, 0.12)], minutes=2),
        "no start": make_recording("Fix after a minute", minutes=3),
        "from afar": make_recording("Drove in", gps=[(51.45, -0.37), (51.41, 0.50)], minutes=4),
        "no fix": make_recording("Indoors", minutes=5),
    }
    # The camera had no fix when it started (no start point, a first point without one),
    # then walked through the box; the track is set after the recording was made.
    late = Recording.objects.get(pk=recs["no start"].pk)
    late.gps_track = [
        {"t": "2026-11-20T14:03:00+00:00"},
        {"t": "2026-11-20T14:03:05+00:00", "lat": None, "lon": None},
        "not a fix",
        {"t": "2026-11-20T14:03:10+00:00", "lat": True, "lon": -0.30},
        {"t": "2026-11-20T14:04:00+00:00", "lat": 51.61, "lon": -0.30},
    ]
    late.save()
    assert late.start_latitude is None
    Recording.objects.filter(pk=recs["no fix"].pk).update(
        gps_track=[{"lat": "51.5", "lon": -0.3}, {"lat": 51.61, "lon": 10**400}, [51.61, -0.3]]
    )
    user = make_user("ev", "evidence-manager")
    found = set(
        search_for(user, RecordingFilter.from_params(params)).results().values_list("pk", flat=True)
    )
    assert found == {recs[k].pk for k in expected}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"box": "1,2,3"}, "box"),
        ({"box": "51.6,-0.1,51.5,0"}, "box"),  # south above north
        ({"near": "51.5,-0.1,0"}, "near"),
        ({"near": "51.5,-0.1,900000"}, "near"),
        ({"near": "nan,0,10"}, "near"),
        ({"box": "0,0,1,1", "near": "0,0,10"}, "near"),
    ],
)
def test_bad_places_are_named(client: Client, db: None, params: dict, field: str) -> None:
    sign_in(client, make_user("ev", "evidence-manager"))
    response = client.get("/api/recordings/", params)
    assert response.status_code == 400
    assert field in response.json()["detail"]


@pytest.fixture
def many(db: None) -> list[int]:
    """Five recordings that said "tarpaulin", newest last; one that did not."""
    made = [
        make_recording(f"Said it {n}", said=f"a blue tarpaulin number {n}", minutes=n)
        for n in range(5)
    ]
    make_recording("Never said it", said="nothing here", minutes=9)
    return [r.pk for r in reversed(made)]  # newest first, as listed


def test_a_text_search_counts_up_to_its_bound_and_says_so(
    client: Client, many: list[int], monkeypatch
) -> None:
    import overt.evidence.catalogue as catalogue

    sign_in(client, make_user("ev", "evidence-manager"))
    exact = client.get("/api/recordings/", {"q": "tarpaulin"}).json()
    assert (exact["count"], exact["count_exact"]) == (5, True)
    assert [r["id"] for r in exact["results"]] == many
    no_q = client.get("/api/recordings/").json()
    assert (no_q["count"], no_q["count_exact"]) == (6, True)  # no text: always exact

    monkeypatch.setattr(catalogue, "COUNT_LIMIT", 3)
    first = client.get("/api/recordings/", {"q": "tarpaulin", "limit": 2}).json()
    assert (first["count"], first["count_exact"]) == (3, False)  # more than 3
    assert [r["id"] for r in first["results"]] == many[:2]
    assert "offset=2" in first["next"]
    second = client.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == many[2:4]
    assert (second["count"], second["count_exact"]) == (4, False)  # counted to its page's end
    last = client.get(second["next"]).json()
    assert [r["id"] for r in last["results"]] == many[4:]
    assert (last["count"], last["count_exact"], last["next"]) == (5, True, None)
    assert last["results"][0]["transcript_hit"] is not None

    monkeypatch.setattr("overt.review.views.library.PAGE_SIZE", 2)
    page = client.get("/", {"q": "tarpaulin"}).content.decode()
    assert "Recordings 1\N{EN DASH}2 of more than 3 matching the filters" in " ".join(page.split())
    assert "Page 1</span>" in page and 'rel="next"' in page
    assert "Counted among the first 3 matches" in page
    end = client.get("/", {"q": "tarpaulin", "page": 3}).content.decode()
    assert "Recordings 5\N{EN DASH}5 of 5 matching" in " ".join(end.split())
    assert "Page 3 of 3" in end and 'rel="next"' not in end
    assert "Counted among the first" not in end
    past = client.get("/", {"q": "tarpaulin", "page": 9}).content.decode()  # the last page
    assert "Recordings 5\N{EN DASH}5 of 5 matching" in " ".join(past.split())


@pytest.mark.parametrize("q", ["", "tarpaulin"])
def test_an_offset_or_page_beyond_any_end_is_an_empty_page_not_an_error(
    client: Client, many: list[int], monkeypatch, q: str
) -> None:
    """An offset past 2**63 once reached the database's LIMIT/OFFSET (a 500 on both
    engines), and a deep text-search page read every id up to it."""
    import overt.evidence.catalogue as catalogue

    sign_in(client, make_user("ev", "evidence-manager"))
    for offset in (10**20, 2**63, 10**6):
        response = client.get("/api/recordings/", {"q": q, "offset": offset})
        assert response.status_code == 200, (offset, response.content[:300])
        assert response.json()["results"] == []
    assert client.get("/", {"q": q, "page": 10**18}).status_code == 200
    monkeypatch.setattr(catalogue, "COUNT_LIMIT", 1)
    monkeypatch.setattr(catalogue, "MAX_WINDOW", 3)
    monkeypatch.setattr("overt.api.views.MAX_WINDOW", 3)
    deep = client.get("/api/recordings/", {"q": q, "offset": 2, "limit": 2}).json()
    if q:  # a text search pages no further than MAX_WINDOW into its matches
        assert [r["id"] for r in deep["results"]] == many[2:3]
        assert (deep["count"], deep["count_exact"], deep["next"]) == (3, False, None)
    else:  # without text the count is exact and paging goes to the end
        assert (len(deep["results"]), deep["count"], deep["count_exact"]) == (2, 6, True)


def test_bounded_facets_count_only_what_the_viewer_may_see(
    client: Client, many: list[int], monkeypatch
) -> None:
    import overt.evidence.catalogue as catalogue

    monkeypatch.setattr(catalogue, "COUNT_LIMIT", 2)
    other = make_recording(
        "Said it elsewhere",
        officer=("MP9001", "PC Other", "Other BCU"),
        said="the tarpaulin again",
        minutes=30,
    )
    officer = make_user("pc", "officer", officer="MP9001")
    sign_in(client, officer)
    body = client.get("/api/recordings/", {"q": "tarpaulin"}).json()
    assert (body["count"], body["count_exact"]) == (1, True)  # only their own
    assert [r["id"] for r in body["results"]] == [other.pk]
    page = client.get("/", {"q": "tarpaulin"}).content.decode()
    facets = page.split('id="facets-heading"', 1)[1]
    assert "MP9001" in facets and "MP2210" not in facets
    search = search_for(officer, RecordingFilter.from_params({"q": "tarpaulin"}))
    window = search.window(0, 50)
    assert (window.count, window.exact, [r.pk for r in window.recordings]) == (1, True, [other.pk])
    assert [(c.value, c.count) for c in search.facets()["officer"]] == [("MP9001", 1)]
    manager = search_for(make_user("ev", "evidence-manager"), RecordingFilter(q="tarpaulin"))
    window = manager.window(0, 1)
    assert (window.count, window.exact) == (2, False)
    assert not manager.facets_exact
    assert sum(c.count for c in manager.facets()["officer"]) == 2  # among the first two
    chosen = search_for(
        make_user("ev2", "evidence-manager"), RecordingFilter(q="tarpaulin", officer="MP2210")
    )
    chosen.window(0, 1)
    counts = dict((c.value, c.count) for c in chosen.facets()["officer"])
    assert counts == {"MP9001": 1, "MP2210": 1}  # the alternatives, among the first two


@pytest.mark.parametrize(
    ("said", "q", "text", "at_s"),
    [  # one token a word: only the words around the hit are read
        ("one two three four five six seven eight nine ten eleven twelve", "nine", None, 4.0),
        # "can't" is two tokens and "—" none: the words are read whole, same snippet
        ("well — I can't breathe, please stop now", "breathe", "well — I can't", 2.0),
        ("well — I can't breathe, please stop now", '"can t breathe"', "well — I", 1.5),
    ],
)
def test_snippets_are_the_same_words_however_they_are_read(
    client: Client, db: None, said: str, q: str, text: str | None, at_s: float
) -> None:
    rec = make_recording("Snippet", said=said)
    sign_in(client, make_user("ev", "evidence-manager"))
    hit = client.get("/api/recordings/", {"q": q}).json()["results"][0]["transcript_hit"]
    assert hit["at_s"] == pytest.approx(at_s)
    if text is None:  # eight words either side of the hit, and a mark that more follow
        assert hit["text"] == "one two three four five six seven eight nine ten eleven twelve"
    else:
        assert hit["text"].startswith(text) and hit["text"].endswith("stop now")
    assert hit["url"].startswith(f"/recordings/{rec.pk}/")
    long_said = " ".join(f"w{n}" for n in range(40))
    make_recording("Long", said=long_said, minutes=1)
    hit = client.get("/api/recordings/", {"q": "w20"}).json()["results"][0]["transcript_hit"]
    assert hit["text"] == "… " + " ".join(f"w{n}" for n in range(12, 29)) + " …"
    assert hit["at_s"] == pytest.approx(10.0)
