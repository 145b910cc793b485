"""The library's search: the free-text index kept current, words, facet counts through
the access restriction, sorts and the `has` filter. Marked scaled: it runs on PostgreSQL
(pg_trgm) in the scaled run as well as on SQLite (FTS5 trigram)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from overt.evidence.catalogue import FilterError, RecordingFilter, Search, filter_recordings
from overt.evidence.models import (
    Category,
    Derivative,
    Device,
    Incident,
    Marker,
    Officer,
    Original,
    Recording,
    Tag,
)

T0 = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
pytestmark = [pytest.mark.scaled]


@pytest.fixture
def world(db: None) -> dict:
    asha = Officer.objects.create(number="MP1", name="PC Asha Patel")
    tom = Officer.objects.create(number="MP2", name="PC Tom Hughes")
    cam_a = Device.objects.create(serial="CAM-A")
    cam_b = Device.objects.create(serial="CAM-B")
    cad = Incident.objects.create(reference="CAD 1/JUL", title="Armed deployment")
    firearms = Category.objects.create(name="Firearms")
    urgent = Tag.objects.create(name="urgent")

    def make(title: str, officer: Officer, device: Device, hours: float, **kw) -> Recording:
        return Recording.objects.create(
            title=title,
            officer=officer,
            device=device,
            trigger_on_at=T0 + timedelta(hours=hours),
            **kw,
        )

    rows = {
        "armed": make("Armed deployment", asha, cam_a, 0, incident=cad),
        "stop": make("Stop and search", tom, cam_b, 2, notes="Grounds: smell of cannabis"),
        "traffic": make("Traffic stop", tom, cam_a, 26),
        "welfare": make("Welfare check", asha, cam_b, -30, incident=cad),
    }
    rows["armed"].categories.add(firearms)
    rows["armed"].tags.add(urgent)
    rows["welfare"].tags.add(urgent)
    Marker.objects.create(recording=rows["armed"], at=T0, text="Subject detained")
    return rows


def titles(search: Search, sort: str = "newest") -> list[str]:
    return [r.title for r in search.results(sort)]


def find(**params: object) -> list[str]:
    return titles(Search(RecordingFilter.from_params(params)))


def test_every_word_must_appear_somewhere(world) -> None:
    assert find(q="armed detained") == ["Armed deployment"]  # title + marker
    assert find(q="SUBJECT") == ["Armed deployment"]  # any case
    assert find(q="ground cannabis") == ["Stop and search"]  # notes, substrings
    assert find(q="stop") == ["Traffic stop", "Stop and search"]
    assert find(q="stop ch") == ["Stop and search"]  # a short word narrows
    assert find(q="armed cannabis") == []


@pytest.mark.parametrize("q", ['"', "100%", "a_b c_d_e", "'; DROP TABLE x; --", "NEAR(", "*"])
def test_odd_text_is_just_text(world, q: str) -> None:
    try:
        f = RecordingFilter.from_params({"q": q})
    except FilterError as exc:
        assert exc.field == "q"
        return
    assert titles(Search(f)) == []
    assert Search(f).count() == 0


def test_short_words_alone_are_refused_with_a_reason(world) -> None:
    with pytest.raises(FilterError) as caught:
        RecordingFilter.from_params({"q": "a b"})
    assert caught.value.field == "q" and "at least 3 characters" in str(caught.value)
    with pytest.raises(FilterError):
        RecordingFilter.from_params({"q": " ".join(["word"] * 9)})


def test_the_index_follows_every_change(world) -> None:
    stop = world["stop"]
    stop.title = "Vehicle stop"
    stop.save()
    assert find(q="vehicle") == ["Vehicle stop"]
    assert find(q="search") == []
    stop.notes = "nothing found"
    stop.save(update_fields=["notes"])
    assert find(q="cannabis") == [] and find(q="nothing found") == ["Vehicle stop"]
    marker = Marker.objects.create(recording=stop, at=T0, text="Driver breathalysed")
    assert find(q="breathalysed") == ["Vehicle stop"]
    marker.text = "Driver cautioned"
    marker.save()
    assert find(q="breathalysed") == [] and find(q="cautioned") == ["Vehicle stop"]
    marker.recording = world["traffic"]
    marker.save()
    assert find(q="cautioned") == ["Traffic stop"]
    marker.delete()
    assert find(q="cautioned") == []
    Recording.objects.bulk_create(
        [Recording(title="Bulk quokka", officer=stop.officer, device=stop.device, trigger_on_at=T0)]
    )
    assert find(q="quokka") == ["Bulk quokka"]
    Recording.objects.filter(title="Bulk quokka").delete()
    assert find(q="quokka") == []


def test_large_text_matches_still_list_in_order(world, monkeypatch) -> None:
    import overt.evidence.catalogue as catalogue

    monkeypatch.setattr(catalogue, "SMALL_TEXT_SET", 1)  # take the id-subquery path
    search = Search(RecordingFilter(q="stop"))
    assert titles(search) == ["Traffic stop", "Stop and search"] and search.count() == 2


def test_counts_and_facets_see_only_what_the_viewer_may(world) -> None:
    hidden = world["stop"].pk

    def restrict(qs):
        return qs.exclude(pk=hidden)

    search = Search(RecordingFilter(), restrict)
    assert search.count() == 3
    assert "Stop and search" not in titles(search)
    facets = search.facets()
    assert [(c.value, c.count) for c in facets["officer"]] == [("MP1", 2), ("MP2", 1)]
    assert [(c.value, c.count) for c in facets["device"]] == [("CAM-A", 2), ("CAM-B", 1)]
    assert [(c.label, c.count) for c in facets["incident"]] == [("CAD 1/JUL: Armed deployment", 2)]
    assert [(c.value, c.count) for c in facets["category"]] == [("Firearms", 1)]
    assert [(c.value, c.count) for c in facets["tag"]] == [("urgent", 2)]

    only_stop = Search(RecordingFilter(q="cannabis"), restrict)
    assert only_stop.count() == 0
    assert all(not counts for counts in only_stop.facets().values())  # not even its officer


def test_a_chosen_facet_still_counts_its_alternatives(world) -> None:
    facets = Search(RecordingFilter(officer="MP2")).facets()
    assert [(c.value, c.count) for c in facets["officer"]] == [("MP1", 2), ("MP2", 2)]
    assert [(c.value, c.count) for c in facets["device"]] == [("CAM-A", 1), ("CAM-B", 1)]
    assert facets["category"] == []


def test_sorts(world) -> None:
    everything = Search(RecordingFilter())
    assert titles(everything, "oldest") == [
        "Welfare check",
        "Armed deployment",
        "Stop and search",
        "Traffic stop",
    ]
    assert titles(everything, "officer")[:2] == ["Armed deployment", "Welfare check"]
    assert titles(everything, "nonsense") == titles(everything, "newest")
    assert next(iter(filter_recordings(RecordingFilter(), "oldest"))).title == "Welfare check"


def test_has_clip_still_or_marker(world) -> None:
    original = Original.objects.create(
        sha256="a" * 64,
        size=1,
        recording=world["traffic"],
        filename="t.mp4",
        source=Original.Source.CLI,
        playable=True,
    )
    for n, kind in enumerate(["clip", "clip", "still"]):
        Derivative.objects.create(
            original=original,
            kind=kind,
            sha256=f"{n:064x}",
            size=1,
            content_type="video/mp4",
            generator="t",
            generator_version="1",
        )
    assert find(has="clip") == ["Traffic stop"]
    assert find(has="still") == ["Traffic stop"]
    assert find(has="marker") == ["Armed deployment"]
    with pytest.raises(FilterError):
        RecordingFilter.from_params({"has": "poster"})
