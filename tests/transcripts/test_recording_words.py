"""PostgreSQL's index of every recording's words (migration 0008), kept by a trigger on
the clips' index: it follows new clips, corrections and deletions; a recording whose
words are too many for one vector is kept as NULL and still found, word by word in its
clips; and two words said in different clips find it through the one look-up."""

from __future__ import annotations

import pytest
from django.db import connection
from search_support import another_clip, make_recording

from overt.evidence import catalogue, joint
from overt.evidence.catalogue import RecordingFilter
from overt.evidence.models import Original
from overt.testing.access import make_user
from overt.transcripts import search
from overt.transcripts.corrections import correct
from overt.transcripts.models import SpeechIndex
from overt.transcripts.search import search_for

pytestmark = pytest.mark.scaled


@pytest.fixture(autouse=True)
def postgresql_only(db: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the index of each recording's words is PostgreSQL's (SQLite: FTS5)")


@pytest.fixture
def merged(monkeypatch) -> None:
    """Every word 'found in many', so two words are looked up together."""
    monkeypatch.setattr(search, "SMALL", 0)
    monkeypatch.setattr(catalogue, "SMALL_TEXT_SET", 0)
    monkeypatch.setattr(joint, "JOINT_ESTIMATE", 1e12)


def words_of(recording_id: int) -> set[str] | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tsvector_to_array(words), words IS NULL "
            "FROM transcripts_recording_words WHERE recording_id = %s",
            [recording_id],
        )
        row = cursor.fetchone()
    if row is None:
        return set()
    return None if row[1] else set(row[0])


def found(q: str) -> set[int]:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username="ev").first()
    user = user or make_user("ev", "evidence-manager")
    result = search_for(user, RecordingFilter.from_params({"q": q}))
    return set(result.results().values_list("pk", flat=True))


def test_the_index_follows_clips_corrections_and_deletion(merged) -> None:
    rec = make_recording("Stop", said="drop it now")
    assert words_of(rec.pk) == {"drop", "it", "now"}
    another_clip(rec, "the weapon", 1)
    assert words_of(rec.pk) == {"drop", "it", "now", "the", "weapon"}
    assert found("drop weapon") == {rec.pk}
    first = Original.objects.filter(recording=rec).order_by("pk").first()
    assert first is not None
    editor = make_user("ed", "evidence-manager")
    correct(editor, first.pk, {0: "put"}, "misheard")  # "drop" was "put"
    assert words_of(rec.pk) == {"put", "it", "now", "the", "weapon"}
    assert found("drop weapon") == set()
    assert found("put weapon") == {rec.pk}
    # (a recording is never deleted but by retention; its clips' index rows go with it)
    SpeechIndex.objects.filter(recording_id=rec.pk, original_id=first.pk).delete()
    assert words_of(rec.pk) == {"the", "weapon"}
    SpeechIndex.objects.filter(recording_id=rec.pk).delete()
    assert words_of(rec.pk) == set()


def test_too_many_words_for_one_vector_is_kept_and_still_found(merged) -> None:
    """Two clips of 5,500 distinct 100-letter words each: each clip's vector fits in
    1 MB, their union does not. Saving the second clip does not fail; the recording's
    row is NULL and its words are looked for clip by clip."""
    first = " ".join(f"a{n}{'x' * 100}" for n in range(5500))
    second = " ".join(f"b{n}{'x' * 100}" for n in range(5500))
    rec = make_recording("Long", said=f"alpha {first}")
    other = make_recording("Other", said="alpha bravo", minutes=1)
    another_clip(rec, f"bravo {second}", 1)
    assert words_of(rec.pk) is None
    assert found("alpha bravo") == {rec.pk, other.pk}
    assert found("alpha charlie") == set()


def test_a_word_said_in_one_clip_and_one_in_another_is_found_together(merged) -> None:
    rec = make_recording("Split", said="drop it")
    another_clip(rec, "the weapon", 1)
    make_recording("Half", said="drop everything", minutes=1)
    assert found("drop weapon") == {rec.pk}
    user = make_user("pc", "evidence-manager")
    assert search_for(user, RecordingFilter.from_params({"q": "drop weapon"})).intersected
    assert found("weap dro") == {rec.pk}  # each word a prefix, as everywhere
    assert found("drop it") == {rec.pk}


@pytest.mark.django_db(transaction=True)
def test_two_clips_saved_at_once_both_count(merged) -> None:
    """Two transactions each index a clip of one recording; the second waits for the
    first's lock on the recording's row, then merges both clips' words (without the
    lock, each merged what it saw and the later write dropped the other's words)."""
    import threading

    import psycopg

    rec = make_recording("Two at once", said="alpha")
    another_clip(rec, "bravo", 1)
    rows = list(
        SpeechIndex.objects.filter(recording_id=rec.pk).values_list(
            "original_id", "recording_id", "version_id", "tokens"
        )
    )
    SpeechIndex.objects.filter(recording_id=rec.pk).delete()
    assert words_of(rec.pk) == set()
    settings = connection.settings_dict
    dsn = f"host={settings['HOST']} port={settings['PORT'] or 5432} dbname={settings['NAME']} user={settings['USER']}"
    insert = (
        "INSERT INTO transcripts_speechindex (original_id, recording_id, version_id, tokens) "
        "VALUES (%s, %s, %s, %s)"
    )
    first, second = psycopg.connect(dsn), psycopg.connect(dsn)
    try:
        first.execute(insert, rows[0])  # not committed yet
        done = threading.Event()

        def other() -> None:
            second.execute(insert, rows[1])  # waits for the first's lock
            second.commit()
            done.set()

        thread = threading.Thread(target=other)
        thread.start()
        assert not done.wait(0.5)  # still waiting on the first transaction
        first.commit()
        thread.join(10)
        assert done.is_set()
    finally:
        first.close()
        second.close()
    assert words_of(rec.pk) == {"alpha", "bravo"}
