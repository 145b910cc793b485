# PostgreSQL: the first N recordings that said a term, always through the GIN index.
#
# `LIMIT n` on the index table let the planner scan the table in order and test
# `tsv @@` row by row, reading each vector back from TOAST: for a word in a quarter of
# 100,000 transcripts, the first 2,001 cost about 7,000 vectors read (45 ms). Through
# the index the matches come from one bitmap (a few ms whatever the word). As in 0004, a
# function with its own setting is planned on its own.

from django.db import migrations

FUNCTION = "transcripts_speech_first"

FORWARD = f"""CREATE OR REPLACE FUNCTION {FUNCTION}(query tsquery, n integer)
RETURNS SETOF bigint
LANGUAGE sql STABLE PARALLEL SAFE ROWS 2000 SET enable_seqscan = off
AS $$ SELECT recording_id FROM transcripts_speechindex WHERE tsv @@ query LIMIT n $$"""
BACKWARD = f"DROP FUNCTION IF EXISTS {FUNCTION}(tsquery, integer)"


def forward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0004_speech_recordings_function")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
