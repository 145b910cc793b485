# PostgreSQL: phrases found through an index of word triples (issue 16: a phrase of
# common words that few transcripts say took about 0.5 s at 100,000 transcripts).
#
# The GIN index on `tsv` knows which words a transcript has, not where: every transcript
# holding all of a phrase's words had its vector read back from TOAST to check their
# order (about 5-14 us each, every one of 100,000 for three common words). This index
# holds each run of three adjacent words ("drop the weapon now" -> drop_the_weapon,
# the_weapon_now, weapon_now_; the last pair ends with "_" so a pair at the very end is
# there too). A phrase of two or three words is then one index entry (its last word a
# prefix), so its matches need no vector read; a longer one is narrowed to the
# transcripts with all its triples, and only those are read. (Adjacent pairs were tried
# first: three common words left up to 50,289 of 100,000 transcripts to read.)
#
# A transcript too long for one tsvector of triples (over 1 MB) is indexed by a marker
# instead, and phrases are looked for in its tokens (LONG_BYTES, LONG_SAID below).
#
# The triples are worked out from `tokens` by an immutable function (tokens are letters
# and digits only, so "_" cannot be part of a word), in one pass over the words (lead());
# an expression index, so nothing more is stored in the table. The search reaches it only
# through functions with their own setting, as in 0004: with LIMIT, the planner may
# otherwise walk the table and work out every row's triples (about 0.2 ms a row).

from django.db import migrations

TRIPLES = "transcripts_word_triples"
INDEX = "transcripts_speech_triples_gin"
TABLE = "transcripts_speechindex"
ALL = "transcripts_speech_triples"
FIRST = "transcripts_speech_triples_first"
SAID = "transcripts_speech_triples_said"
LONG_SAID = "transcripts_speech_long_said"
# A tsvector holds at most 1 MB of lexemes, and the words' vector (tsv) keeps positions only
# up to 16,383: a transcript whose triples would take more than this (about 10,000 words
# said, an hour or more of steady speech) is indexed as LONG alone, and a phrase search
# looks for it in those transcripts' tokens instead (LONG_SAID).
LONG_BYTES = 200_000
LONG = "_long"  # no triple starts with "_"

FORWARD = [
    f"""CREATE OR REPLACE FUNCTION {TRIPLES}(tokens text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN sum(octet_length(triple) + 1) > {LONG_BYTES} THEN '{LONG}'::tsvector
         ELSE coalesce(array_to_tsvector(array_agg(DISTINCT triple)), ''::tsvector) END
  FROM (
    SELECT word || '_' || lead(word) OVER w || '_' || coalesce(lead(word, 2) OVER w, '')
      AS triple
    FROM unnest(string_to_array(tokens, ' ')) WITH ORDINALITY AS t(word, n)
    WHERE word <> ''
    WINDOW w AS (ORDER BY n)
  ) triples WHERE triple IS NOT NULL AND octet_length(triple) < 2000
$$""",
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON {TABLE} USING gin ({TRIPLES}(tokens))",
    f"""CREATE OR REPLACE FUNCTION {ALL}(triples tsquery) RETURNS SETOF bigint
LANGUAGE sql STABLE PARALLEL SAFE ROWS 50000 SET enable_seqscan = off
AS $$ SELECT recording_id FROM {TABLE} WHERE {TRIPLES}(tokens) @@ triples $$""",
    f"""CREATE OR REPLACE FUNCTION {FIRST}(triples tsquery, n integer) RETURNS SETOF bigint
LANGUAGE sql STABLE PARALLEL SAFE ROWS 2000 SET enable_seqscan = off
AS $$ SELECT recording_id FROM {TABLE} WHERE {TRIPLES}(tokens) @@ triples LIMIT n $$""",
    # Those of them whose vector matches `query` (the words in order): `IS TRUE` keeps
    # the planner from the index on tsv, whose recheck would work out every candidate's
    # triples again; so each candidate from the triples index has its vector read once.
    f"""CREATE OR REPLACE FUNCTION {SAID}(triples tsquery, query tsquery) RETURNS SETOF bigint
LANGUAGE sql STABLE PARALLEL SAFE ROWS 5000 SET enable_seqscan = off
AS $$ SELECT recording_id FROM {TABLE}
      WHERE {TRIPLES}(tokens) @@ triples AND (tsv @@ query) IS TRUE $$""",
    # The transcripts too long for triples (LONG) whose tokens hold `words` (a phrase's
    # tokens, space-separated; the last may be the start of a longer word): found in the
    # text itself, since the vector's positions stop at 16,383.
    f"""CREATE OR REPLACE FUNCTION {LONG_SAID}(words text) RETURNS SETOF bigint
LANGUAGE sql STABLE PARALLEL SAFE ROWS 10 SET enable_seqscan = off
AS $$ SELECT recording_id FROM {TABLE}
      WHERE {TRIPLES}(tokens) @@ '{LONG}'::tsquery
        AND strpos(' ' || tokens, ' ' || words) > 0 $$""",
]
BACKWARD = [
    f"DROP FUNCTION IF EXISTS {LONG_SAID}(text)",
    f"DROP FUNCTION IF EXISTS {SAID}(tsquery, tsquery)",
    f"DROP FUNCTION IF EXISTS {FIRST}(tsquery, integer)",
    f"DROP FUNCTION IF EXISTS {ALL}(tsquery)",
    f"DROP INDEX IF EXISTS {INDEX}",
    f"DROP FUNCTION IF EXISTS {TRIPLES}(text)",
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
