# The words-said index, made to answer "which recordings" without reading the index
# table (issue 16: search p95 under 100 ms at 100,000 recordings):
# - SQLite: a contentless FTS5 table whose rowid is recording_id * 2^32 + original_id,
#   so a MATCH gives recording ids (rowid >> 32) with no look-up per hit (the 0002 table,
#   keyed by original id, cost a look-up in transcripts_speechindex per hit: about a
#   second for a word in every one of 100,000 transcripts). Triggers keep it current.
#   Original ids stay below 2^32 and recording ids below 2^31 (a 64-bit rowid).
# - PostgreSQL: a stored tsvector column (`tsv`, generated from `tokens`) with a GIN
#   index, in place of 0002's index on the expression: a phrase or prefix match rechecks
#   the stored vector instead of parsing the 300-word text again for every candidate.
# Both still index the normalised tokens (overt.transcripts.words), so they match alike.

from django.db import migrations

OLD = "transcripts_speech_fts"
FTS = "transcripts_speech_match"
TABLE = "transcripts_speechindex"
ROWID = "({row}.recording_id << 32) + {row}.original_id"

SQLITE_FORWARD = [
    f"DROP TRIGGER IF EXISTS {OLD}_insert",
    f"DROP TRIGGER IF EXISTS {OLD}_delete",
    f"DROP TRIGGER IF EXISTS {OLD}_update",
    f"DROP TABLE IF EXISTS {OLD}",
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(tokens, content='', "
    "tokenize='unicode61 remove_diacritics 2')",
    f"INSERT INTO {FTS}(rowid, tokens) SELECT {ROWID.format(row=TABLE)}, tokens FROM {TABLE}",
    f"CREATE TRIGGER {FTS}_insert AFTER INSERT ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}(rowid, tokens) VALUES ({ROWID.format(row='NEW')}, NEW.tokens); END",
    f"CREATE TRIGGER {FTS}_delete AFTER DELETE ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, tokens) "
    f"VALUES ('delete', {ROWID.format(row='OLD')}, OLD.tokens); END",
    f"CREATE TRIGGER {FTS}_update AFTER UPDATE ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, tokens) "
    f"VALUES ('delete', {ROWID.format(row='OLD')}, OLD.tokens); "
    f"INSERT INTO {FTS}(rowid, tokens) VALUES ({ROWID.format(row='NEW')}, NEW.tokens); END",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {FTS}_insert",
    f"DROP TRIGGER IF EXISTS {FTS}_delete",
    f"DROP TRIGGER IF EXISTS {FTS}_update",
    f"DROP TABLE IF EXISTS {FTS}",
    f"CREATE VIRTUAL TABLE {OLD} USING fts5(tokens, content='{TABLE}', "
    "content_rowid='original_id', tokenize='unicode61 remove_diacritics 2')",
    f"INSERT INTO {OLD}({OLD}) VALUES ('rebuild')",
    f"CREATE TRIGGER {OLD}_insert AFTER INSERT ON {TABLE} BEGIN "
    f"INSERT INTO {OLD}(rowid, tokens) VALUES (NEW.original_id, NEW.tokens); END",
    f"CREATE TRIGGER {OLD}_delete AFTER DELETE ON {TABLE} BEGIN "
    f"INSERT INTO {OLD}({OLD}, rowid, tokens) VALUES ('delete', OLD.original_id, OLD.tokens); END",
    f"CREATE TRIGGER {OLD}_update AFTER UPDATE ON {TABLE} BEGIN "
    f"INSERT INTO {OLD}({OLD}, rowid, tokens) VALUES ('delete', OLD.original_id, OLD.tokens); "
    f"INSERT INTO {OLD}(rowid, tokens) VALUES (NEW.original_id, NEW.tokens); END",
]

PG_OLD_INDEX = "transcripts_speech_tsv"
PG_INDEX = "transcripts_speech_tsv_gin"
POSTGRES_FORWARD = [
    f"DROP INDEX IF EXISTS {PG_OLD_INDEX}",
    # The long values (tokens, tsv) out of line, so the heap a match visits for its
    # recording id is a few dozen bytes a row, not kilobytes (set before the rewrite).
    f"ALTER TABLE {TABLE} SET (toast_tuple_target = 128)",
    f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, tokens)) STORED",
    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON {TABLE} USING gin (tsv)",
]
POSTGRES_BACKWARD = [
    f"ALTER TABLE {TABLE} RESET (toast_tuple_target)",
    f"DROP INDEX IF EXISTS {PG_INDEX}",
    f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS tsv",
    f"CREATE INDEX IF NOT EXISTS {PG_OLD_INDEX} ON {TABLE} "
    "USING gin (to_tsvector('simple'::regconfig, tokens))",
]


def forward(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}.get(vendor, []):
        schema_editor.execute(sql)


def backward(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}.get(vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0002_speech_search")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
