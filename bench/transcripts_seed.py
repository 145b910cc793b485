"""Bulk catalogue for the search benchmark: bench/ingest.py's recordings (officers,
devices, incidents, categories, notes, markers), each original with a 300-word machine
transcript (a transcript derivative, its version and its search index row), written in
bulk straight to the tables, as a migration would; and a start point over London for
each recording (the place filter)."""

from __future__ import annotations

import hashlib
import random

from ingest import seed_catalogue

SYLLABLES = [
    "ba",
    "ce",
    "di",
    "fo",
    "gu",
    "ha",
    "je",
    "ki",
    "lo",
    "mu",
    "na",
    "pe",
    "qui",
    "ro",
    "sa",
    "te",
    "vi",
    "wo",
    "xa",
    "ye",
    "zu",
    "str",
    "an",
    "el",
    "or",
]
rng = random.Random(11)
VOCABULARY = sorted(  # sorted first: a set's order changes from process to process
    sorted({"".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(6000)}),
    key=lambda w: rng.random(),
)[:5000]  # rank order: the first words are the commonest (Zipf)
WEIGHTS = [1 / (rank + 1) for rank in range(len(VOCABULARY))]
WORDS = 300


def seed_transcripts(recordings: int, batch: int = 2000) -> dict[str, object]:
    from django.db import connection, transaction

    from overt.evidence.models import Derivative, Incident, Officer, Original
    from overt.transcripts.models import SpeechIndex, TranscriptVersion

    catalogue = seed_catalogue(recordings)
    rng = random.Random(5)
    phrases: list[str] = []
    ids = list(Original.objects.order_by("pk").values_list("pk", "recording_id"))
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        texts = [rng.choices(VOCABULARY, WEIGHTS, k=WORDS) for _ in chunk]
        if len(phrases) < 200:
            phrases += [" ".join(t[10:13]) for t in texts[:5]]
        with transaction.atomic():
            derivatives = Derivative.objects.bulk_create(
                Derivative(
                    original_id=pk,
                    kind="transcript",
                    sha256=hashlib.sha256(f"transcript-{pk}".encode()).hexdigest(),
                    size=WORDS * 40,
                    content_type="application/json",
                    generator="bench",
                    generator_version="bench",
                    facts={"version": 1, "status": "ok"},
                )
                for pk, _ in chunk
            )
            versions = TranscriptVersion.objects.bulk_create(
                TranscriptVersion(
                    original_id=pk,
                    number=1,
                    derivative=d,
                    status="ok",
                    language="en",
                    duration_s=WORDS * 0.4,
                    text=" ".join(words),
                    words=[
                        [w, round(i * 0.4, 2), round(i * 0.4 + 0.3, 2), 0.9]
                        for i, w in enumerate(words)
                    ],
                )
                for (pk, _), d, words in zip(chunk, derivatives, texts, strict=True)
            )
            SpeechIndex.objects.bulk_create(
                SpeechIndex(original_id=pk, recording_id=rid, version=v, tokens=" ".join(words))
                for (pk, rid), v, words in zip(chunk, versions, texts, strict=True)
            )
    with connection.cursor() as cursor:  # start points over London (the place filter)
        cursor.execute(
            "UPDATE evidence_recording SET"
            " start_latitude = 51.3 + ((id * 7919) % 40000) / 100000.0,"
            " start_longitude = -0.5 + ((id * 104729) % 80000) / 100000.0"
        )
    officer = Officer.objects.order_by("pk").first()
    return {
        "officer": officer.number if officer else "",
        "numbers": [o.number for o in Officer.objects.order_by("pk")[:50]],
        "incidents": [i.reference for i in Incident.objects.order_by("pk")[:50]],
        "devices": catalogue.devices[:50],
        "phrases": phrases,
        "recordings": catalogue.recordings,
    }
