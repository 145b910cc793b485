# PostgreSQL: which recordings said a term, always through the GIN index.
#
# With the long values out of line (0003), the index table's heap is small, so for a
# word in most transcripts the planner prefers a sequential scan and tests `tsv @@` on
# every row, not counting that each test first reads the vector back from TOAST: about
# 1.5 s at 100,000 transcripts, against about 0.1 s through the index. A function with
# its own setting is planned on its own, so the index is used there whatever the words;
# the catalogue asks it for the large matches only (more than 2,000: hence ROWS).

from django.db import migrations

FUNCTION = "transcripts_speech_recordings"

FORWARD = f"""CREATE OR REPLACE FUNCTION {FUNCTION}(query tsquery) RETURNS SETOF bigint
LANGUAGE sql STABLE PARALLEL SAFE ROWS 50000 SET enable_seqscan = off
AS $$ SELECT recording_id FROM transcripts_speechindex WHERE tsv @@ query $$"""
BACKWARD = f"DROP FUNCTION IF EXISTS {FUNCTION}(tsquery)"


def forward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0003_speech_search_by_recording")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
