"""The search's ways of answering, each giving the same matches: a term or a place
found in few recordings is a list of ids the listing is driven from; one found in many
is checked recording by recording in the listing's order, or (a phrase's word order on
PostgreSQL) every candidate at once; several found in many (words, a category) are
intersected first (evidence.joint). The thresholds are lowered here so that a handful
of recordings takes the path 100,000 would. Both engines."""

from __future__ import annotations

import pytest
from django.test import Client
from search_support import another_clip, make_recording

from overt.evidence import catalogue, joint
from overt.evidence.catalogue import RecordingFilter
from overt.evidence.models import Officer
from overt.testing.access import make_user, sign_in
from overt.transcripts import search
from overt.transcripts.search import search_for

pytestmark = pytest.mark.scaled

SAID = {
    "in order": "armed police drop the weapon now",
    "out of order": "the weapon drop it",
    "apart": "drop it, the police have the weapon",
    "longer word": "drop the weaponry",
    "twice": "drop the bag then drop the weapon",
    "other": "nothing to see here",
}


@pytest.fixture
def said(db: None) -> dict[str, int]:
    return {
        name: make_recording(f"Said {name}", said=text, minutes=n).pk
        for n, (name, text) in enumerate(SAID.items())
    }


PATHS = ["few", "many, walked", "many, checked at once", "many, intersected"]
# ways that differ only where several sets meet (several terms, or a category)
JOINT_PATHS = [*PATHS, "many, intersected, words one by one", "too many to list"]
INTERSECTED = ("many, intersected", "many, intersected, words one by one")


@pytest.fixture(params=PATHS)
def path(request, monkeypatch) -> str:
    return _take(request.param, monkeypatch)


@pytest.fixture(params=JOINT_PATHS)
def joint_path(request, monkeypatch) -> str:
    return _take(request.param, monkeypatch)


def _take(param: str, monkeypatch) -> str:  # type: ignore[no-untyped-def]
    """Thresholds set so that a handful of recordings takes the way `param` names."""
    if param != "few":  # every term and place "large"
        monkeypatch.setattr(search, "SMALL", 0)
        monkeypatch.setattr(catalogue, "SMALL_TEXT_SET", 0)
        # a phrase or words checked row by row as the listing walks, or gathered at once
        monkeypatch.setattr(search, "PHRASE_WALK_CHECKS", 0 if "walked" in param else 1e12)
        monkeypatch.setattr(search, "WALK_WORDS", 0 if "walked" in param else 2)
        # a viewer who may play only some: walked (an officer's own), or never
        monkeypatch.setattr(search, "FEW_TO_WALK", 10**6 if "walked" in param else -1)
        # sets intersected before the listing (where two or more), or never; words said
        # merged into one look-up (PostgreSQL, migration 0008), or each its own set
        intersected = param in (*INTERSECTED, "too many to list")
        monkeypatch.setattr(joint, "JOINT_ESTIMATE", 1e12 if intersected else -1)
        if not intersected:
            monkeypatch.setattr(joint, "JOINT_MAX", -1)
        if param == "many, intersected, words one by one":
            monkeypatch.setattr(joint, "_mergers", {})
        if param == "too many to list":  # intersected, then too many: walked after all
            monkeypatch.setattr(joint, "JOINT_MAX", 0)
    return param


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ('"drop the weapon"', {"in order", "twice", "longer word"}),  # last word a prefix
        ('"drop the weapon now"', {"in order"}),
        ('"the weapon drop"', {"out of order"}),
        ('"weapon drop"', {"out of order"}),
        ('"police drop"', {"in order"}),
        ('"drop the weapon" police', {"in order"}),
        ('"see here" "nothing to"', {"other"}),
        ('"weapon the"', set()),
    ],
)
def test_a_phrase_is_its_words_in_order_either_way(said, path: str, q: str, expected) -> None:
    user = make_user("ev", "evidence-manager")
    found = search_for(user, RecordingFilter.from_params({"q": q})).results()
    assert set(found.values_list("pk", flat=True)) == {said[k] for k in expected}


def test_a_phrase_counts_pages_and_snippets_alike_either_way(
    client: Client, said, path: str
) -> None:
    sign_in(client, make_user("ev", "evidence-manager"))
    body = client.get("/api/recordings/", {"q": '"drop the weapon"', "limit": 2}).json()
    assert body["count"] == 3 and body["count_exact"] is True
    newest_first = [said["twice"], said["longer word"]]
    assert [r["id"] for r in body["results"]] == newest_first
    hits = [r["transcript_hit"]["text"] for r in body["results"]]
    assert hits == ["drop the bag then drop the weapon", "drop the weaponry"]
    rest = client.get("/api/recordings/", {"q": '"drop the weapon"', "offset": 2}).json()
    assert [r["id"] for r in rest["results"]] == [said["in order"]]


@pytest.mark.parametrize(
    ("q", "params", "expected"),
    [
        ("weapon drop", {}, {"in order", "out of order", "apart", "longer word", "twice"}),
        ("weapon police", {}, {"in order", "apart"}),
        ("police weapon armed", {}, {"in order"}),
        ("weapon nothing", {}, set()),  # each word said, never together
        (
            "weapon",
            {"officer": "MP2210"},
            {"in order", "out of order", "apart", "longer word", "twice"},
        ),
        ("weapon police", {"officer": "MP2210"}, {"in order", "apart"}),
        ("weapon", {"officer": "MP9"}, set()),
        # a word in a title, another said: found in two places, still both needed
        ("weapon other", {}, set()),
        ("said drop", {}, {"in order", "out of order", "apart", "longer word", "twice"}),
        ('weapon "the weapon"', {}, {"in order", "out of order", "apart", "twice", "longer word"}),
        ('armed "the weapon"', {}, {"in order"}),
        ("weapon !!!", {}, set()),  # a term with no word in it is found nowhere
    ],
)
def test_words_find_the_same_either_way(said, joint_path: str, q: str, params, expected) -> None:
    """Words found in many recordings are tested as the listing walks or gathered in one
    set, and several said words are looked up together; the matches are the same."""
    user = make_user("ev", "evidence-manager")
    f = RecordingFilter.from_params({"q": q, **params})
    found = search_for(user, f).results()
    assert set(found.values_list("pk", flat=True)) == {said[k] for k in expected}
    own = make_user("hughes", "officer", officer=Officer.objects.get(number="MP2210"))
    stranger = make_user("pc", "officer", officer=Officer.objects.create(number="MP8", name="Y"))
    found = search_for(own, f).results()
    assert set(found.values_list("pk", flat=True)) == {said[k] for k in expected}
    assert not search_for(stranger, f).results().exists()


def test_a_phrase_is_found_only_where_the_viewer_may_play(said, path: str) -> None:
    # All were filmed by PC Hughes (MP2210); another officer sees none of them.
    stranger = make_user("pc", "officer", officer=Officer.objects.create(number="MP9", name="X"))
    own = make_user("hughes", "officer", officer=Officer.objects.get(number="MP2210"))
    f = RecordingFilter.from_params({"q": '"drop the weapon"'})
    assert not search_for(stranger, f).results().exists()
    assert search_for(own, f).results().count() == 3


def test_each_hit_of_a_page_has_its_own_snippet(client: Client, db: None) -> None:
    """The words around every hit of a page are read at once; each stays with its own
    recording and second."""
    recs = [
        make_recording(f"R{n}", said=" ".join([f"pad{n}"] * n + ["tarpaulin", f"end{n}"]))
        for n in range(6)
    ]
    sign_in(client, make_user("ev", "evidence-manager"))
    body = client.get("/api/recordings/", {"q": "tarpaulin"}).json()
    hits = {r["id"]: r["transcript_hit"] for r in body["results"]}
    for n, rec in enumerate(recs):
        assert hits[rec.pk]["text"] == " ".join([f"pad{n}"] * n + ["tarpaulin", f"end{n}"])
        assert hits[rec.pk]["at_s"] == pytest.approx(n * 0.5)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"box": "51.5,-0.14,51.6,-0.1"}, {"south-west corner", "inside"}),  # edges count
        ({"box": "51.4,-0.2,51.5,-0.14"}, {"south-west corner"}),  # its north-east corner
        ({"box": "51.50001,-0.14,51.6,-0.1"}, {"inside"}),  # just north of the point
        ({"near": "51.55,-0.12,10"}, {"inside"}),
        ({"near": "51.55,-0.12,10", "q": "tarpaulin"}, {"inside"}),
        ({"near": "51.55,-0.12,10", "q": "weapon"}, set()),
        ({"box": "52.0,-0.14,52.1,-0.1"}, set()),
    ],
)
def test_a_place_finds_the_same_either_way(db: None, path: str, params, expected) -> None:
    recs = {
        "south-west corner": make_recording("Corner", gps=[(51.5, -0.14)]),
        "inside": make_recording("Inside", gps=[(51.55, -0.12)], said="a tarpaulin", minutes=1),
        "outside": make_recording("Outside", gps=[(51.45, -0.3)], minutes=2),
    }
    user = make_user("ev", "evidence-manager")
    found = search_for(user, RecordingFilter.from_params(params)).results()
    assert set(found.values_list("pk", flat=True)) == {recs[k].pk for k in expected}


@pytest.mark.parametrize("small", [3, 7])
def test_a_phrase_said_in_several_clips_of_each_recording_finds_every_one(
    db: None, monkeypatch, small: int
) -> None:
    """The index has a row per original: a limit of rows read must not be taken for a
    limit of recordings (PostgreSQL took the first rows, a few recordings' clips, for all
    of them, and lost the rest)."""
    monkeypatch.setattr(search, "SMALL", small)
    ids = set()
    for n in range(5):
        rec = make_recording(f"Segments {n}", said="armed police drop the weapon", minutes=n)
        ids.add(rec.pk)
        for k in range(1, 4):
            another_clip(rec, "then drop the weapon again", k)
    user = make_user("ev", "evidence-manager")
    for q in ('"drop the weapon"', '"the weapon"'):
        found = search_for(user, RecordingFilter.from_params({"q": q})).results()
        assert set(found.values_list("pk", flat=True)) == ids, q


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("drop weapon", {"split"}),  # each word said in one clip, neither in both
        ('"drop it" weapon', {"split"}),
        ('"drop it" "the weapon"', {"split"}),
        ('"it the"', set()),  # a phrase is said within one clip, not across two
    ],
)
def test_terms_said_in_different_clips_of_a_recording_find_it(
    db: None, joint_path: str, q: str, expected
) -> None:
    """Every term must be said somewhere in the recording: in any of its clips."""
    recs = {"split": make_recording("One", said="drop it"), "other": make_recording("Two")}
    another_clip(recs["split"], "the weapon", 1)
    user = make_user("ev", "evidence-manager")
    found = search_for(user, RecordingFilter.from_params({"q": q})).results()
    assert set(found.values_list("pk", flat=True)) == {recs[k].pk for k in expected}


def test_a_phrase_of_words_that_grow_when_normalised_is_a_plain_answer(
    client: Client, said, path: str
) -> None:
    """NFKD makes one character four ("㍿" is 株式会社): a 199-character query can make a
    run of words too long for any index; it finds nothing, with no error."""
    sign_in(client, make_user("ev", "evidence-manager"))
    q = '"' + "㍿" * 98 + " " + "㍿" * 98 + '"'
    response = client.get("/api/recordings/", {"q": q})
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_a_very_long_transcript_is_indexed_and_its_phrases_found(db: None, path: str) -> None:
    """A transcript too long for the index of word triples (PostgreSQL) is saved all the
    same, and its phrases are found, near its start and near its end."""
    filler = " ".join(f"word{n}" for n in range(45_000))  # triples over 1 MB
    long = make_recording("Long", said=f"alpha bravo charlie {filler} delta echo foxtrot")
    make_recording("Short", said="alpha bravo delta", minutes=1)
    user = make_user("ev", "evidence-manager")
    for q in ('"alpha bravo charlie"', '"echo foxtrot"', '"bravo charlie word0"'):
        found = search_for(user, RecordingFilter.from_params({"q": q})).results()
        assert set(found.values_list("pk", flat=True)) == {long.pk}, q


@pytest.mark.parametrize(
    ("q", "category", "expected"),
    [
        ("weapon", "Firearms", {"in order", "twice"}),
        ("weapon drop", "Firearms", {"in order", "twice"}),
        ("weapon police", "Firearms", {"in order"}),
        ("weapon", "Welfare", {"apart", "longer word"}),
        ("police", "Welfare", {"apart"}),
        ("nothing", "Firearms", {"other"}),
        ("nothing", "Welfare", set()),
    ],
)
def test_words_and_a_category_find_the_same_and_count_the_other_categories(
    client: Client, said, joint_path: str, q: str, category: str, expected
) -> None:
    """A category and said words, each found in many, give the same matches however
    they are combined; and the category facet still counts the matches in every other
    category (it leaves its own filter out, so an intersection with it cannot be used)."""
    from overt.evidence.models import Category, Recording

    firearms, _ = Category.objects.get_or_create(name="Firearms")
    welfare, _ = Category.objects.get_or_create(name="Welfare")
    for name in ("in order", "twice", "other"):
        Recording.objects.get(pk=said[name]).categories.add(firearms)
    for name in ("apart", "longer word"):
        Recording.objects.get(pk=said[name]).categories.add(welfare)
    user = make_user("ev", "evidence-manager")
    f = RecordingFilter.from_params({"q": q, "category": category})
    found = search_for(user, f)
    # (none in common is a list of none, however small the limit)
    if joint_path in INTERSECTED:
        assert found.intersected
    elif joint_path != "too many to list":
        assert not found.intersected
    assert set(found.results().values_list("pk", flat=True)) == {said[k] for k in expected}
    window = found.window(0, 50)
    assert {r.pk for r in window.recordings} == {said[k] for k in expected}
    assert window.count == len(expected) and window.exact
    counts = {c.value: c.count for c in found.facets()["category"]}
    anywhere = search_for(user, RecordingFilter.from_params({"q": q})).results()
    in_welfare = anywhere.filter(categories=welfare).count()
    assert counts.get("Welfare", 0) == in_welfare
    sign_in(client, user)
    page = client.get("/", {"q": q, "category": category})
    assert page.status_code == 200


@pytest.mark.parametrize(
    "q", ['"drop the weapon"', '"the weapon"', '"police drop the weapon now"', '"drop the weap"']
)
def test_a_phrase_after_a_word_said_hundreds_of_times_is_found_by_everyone(
    db: None, path: str, q: str
) -> None:
    """PostgreSQL's vector keeps at most 256 positions of a word: a phrase said after the
    300th "the" is still found (its order is checked in the tokens), alike for a viewer
    who sees everything and for the officer who filmed it."""
    filler = " ".join(["the"] * 300)
    rec = make_recording("Long stop", said=f"{filler} armed police drop the weapon now")
    make_recording("Other", said=f"{filler} nothing here", minutes=1)
    manager = make_user("ev", "evidence-manager")
    own = make_user("hughes", "officer", officer=Officer.objects.get(number="MP2210"))
    for user in (manager, own):
        found = search_for(user, RecordingFilter.from_params({"q": q})).results()
        assert set(found.values_list("pk", flat=True)) == {rec.pk}, (q, user.username)


@pytest.mark.parametrize("q", ["weapon", "weapon police", '"drop the weapon"'])
def test_words_in_footage_the_viewer_may_list_but_not_play_are_never_a_hit(
    db: None, joint_path: str, q: str
) -> None:
    """An officer's own footage of an incident under a post-incident procedure: they may
    know it exists, not play it; its words find it for nobody but those who may play it,
    whichever way the search answers (walked, a set, intersected)."""
    from overt.access.models import PostIncidentProcedure

    locked = make_recording(
        "Shooting", said="armed police drop the weapon", incident=("CAD-9", "Shots fired")
    )
    mine = make_recording("Routine", said="armed police drop the weapon", minutes=1)
    hughes = Officer.objects.get(number="MP2210")
    procedure = PostIncidentProcedure.objects.create(
        incident=locked.incident, manager=make_user("pim", "evidence-manager"), started_by="pim"
    )
    procedure.officers.add(hughes)
    own = make_user("hughes", "officer", officer=hughes)
    found = search_for(own, RecordingFilter.from_params({"q": q})).results()
    assert set(found.values_list("pk", flat=True)) == {mine.pk}
    manager = make_user("ev", "evidence-manager")
    found = search_for(manager, RecordingFilter.from_params({"q": q})).results()
    assert set(found.values_list("pk", flat=True)) == {mine.pk, locked.pk}
