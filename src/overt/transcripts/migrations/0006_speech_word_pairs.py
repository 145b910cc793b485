# PostgreSQL: phrases found through an index of word pairs (issue 16: a phrase of common
# words that few transcripts say took about 0.5 s at 100,000 transcripts).
#
# The GIN index on `tsv` knows which words a transcript has, not where: every transcript
# holding all of a phrase's words had its vector read back from TOAST to check their
# order (about 5 us each, every one of 100,000 for three common words). This index holds
# each transcript's adjacent word pairs ("drop the weapon" -> drop_the, the_weapon), so
# "drop the weapon" is first narrowed to transcripts with both pairs (in a test at
# 100,000: 81,231 with the three words, 2,926 with both pairs, 500 saying it). A
# two-word phrase is its one pair, so its matches need no vector read at all.
#
# The pairs are worked out from `tokens` by an immutable function (tokens are letters and
# digits only, so "_" cannot be part of a word), in one pass over the words (lead()); an
# expression index, so nothing more is stored in the table. The search reaches it only
# through functions with their own setting, as in 0004: with LIMIT, the planner may
# otherwise walk the table and work out every row's pairs (about 0.2 ms a row).

from django.db import migrations

PAIRS = "transcripts_word_pairs"
INDEX = "transcripts_speech_pairs_gin"
TABLE = "transcripts_speechindex"
ALL = "transcripts_speech_pairs"
FIRST = "transcripts_speech_pairs_first"
SAID = "transcripts_speech_pairs_said"

FORWARD = [
    f"""CREATE OR REPLACE FUNCTION {PAIRS}(tokens text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_to_tsvector(array_agg(DISTINCT pair)), ''::tsvector) FROM (
    SELECT word || '_' || lead(word) OVER (ORDER BY n) AS pair
    FROM unnest(string_to_array(tokens, ' ')) WITH ORDINALITY AS w(word, n)
    WHERE word <> ''
  ) pairs WHERE pair IS NOT NULL AND octet_length(pair) < 2000
$$""",
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON {TABLE} USING gin ({PAIRS}(tokens))",
    f"""CREATE OR REPLACE FUNCTION {ALL}(pairs tsquery) RETURNS SETOF bigint
LANGUAGE sql STABLE PARALLEL SAFE ROWS 50000 SET enable_seqscan = off
AS $$ SELECT recording_id FROM {TABLE} WHERE {PAIRS}(tokens) @@ pairs $$""",
    f"""CREATE OR REPLACE FUNCTION {FIRST}(pairs tsquery, n integer) RETURNS SETOF bigint
LANGUAGE sql STABLE PARALLEL SAFE ROWS 2000 SET enable_seqscan = off
AS $$ SELECT recording_id FROM {TABLE} WHERE {PAIRS}(tokens) @@ pairs LIMIT n $$""",
    # Those of them whose vector matches `query` (the pairs in order): `IS TRUE` keeps
    # the planner from the index on tsv, whose recheck would work out every candidate's
    # pairs again; so each candidate from the pairs index has its vector read once.
    f"""CREATE OR REPLACE FUNCTION {SAID}(pairs tsquery, query tsquery) RETURNS SETOF bigint
LANGUAGE sql STABLE PARALLEL SAFE ROWS 5000 SET enable_seqscan = off
AS $$ SELECT recording_id FROM {TABLE}
      WHERE {PAIRS}(tokens) @@ pairs AND (tsv @@ query) IS TRUE $$""",
]
BACKWARD = [
    f"DROP FUNCTION IF EXISTS {SAID}(tsquery, tsquery)",
    f"DROP FUNCTION IF EXISTS {FIRST}(tsquery, integer)",
    f"DROP FUNCTION IF EXISTS {ALL}(tsquery)",
    f"DROP INDEX IF EXISTS {INDEX}",
    f"DROP FUNCTION IF EXISTS {PAIRS}(text)",
]


def forward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for sql in FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0005_speech_first_matches")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
