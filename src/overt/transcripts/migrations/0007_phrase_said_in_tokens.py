# PostgreSQL: a phrase's word order checked in the transcript's tokens, not its vector.
#
# The words' vector (tsv) keeps at most 256 positions of each word (and none past
# 16,383), so in a transcript that says "the" 300 times, `tsv @@ 'drop' <-> 'the' <->
# 'weapon'` misses a "drop the weapon" said after the 256th "the", though the index of
# word triples (0006) holds it. The tokens are the normalised words, one space apart, so
# the phrase is the substring ' drop the weapon' of ' ' || tokens (its last word may be
# the start of a longer one, as a prefix search should): exact, with no limit, and no
# dearer than reading the vector. This function replaces 0006's
# transcripts_speech_triples_said for the search (that one stays, unused, for a rollback).

from django.db import migrations

TABLE = "transcripts_speechindex"
TRIPLES = "transcripts_word_triples"  # 0006
FUNCTION = "transcripts_speech_phrase_said"

FORWARD = f"""CREATE OR REPLACE FUNCTION {FUNCTION}(triples tsquery, words text)
RETURNS SETOF bigint
LANGUAGE sql STABLE PARALLEL SAFE ROWS 5000 SET enable_seqscan = off
AS $$ SELECT recording_id FROM {TABLE}
      WHERE {TRIPLES}(tokens) @@ triples AND strpos(' ' || tokens, ' ' || words) > 0 $$"""
BACKWARD = f"DROP FUNCTION IF EXISTS {FUNCTION}(tsquery, text)"


def forward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0006_speech_word_triples")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
