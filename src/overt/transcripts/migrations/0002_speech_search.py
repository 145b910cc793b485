# Full-text search over the current transcript of each original (transcripts_speechindex,
# whose `tokens` are already normalised by overt.transcripts.words, so both engines see
# the same words):
# - SQLite: an FTS5 table with the index as external content, kept in step by triggers;
# - PostgreSQL: a GIN index on to_tsvector('simple', tokens) (no stemming, no stop words:
#   the same matching as FTS5's unicode61 over pre-normalised tokens).

from django.db import migrations

FTS = "transcripts_speech_fts"
TABLE = "transcripts_speechindex"

SQLITE_FORWARD = [
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(tokens, content='{TABLE}', "
    "content_rowid='original_id', tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER {FTS}_insert AFTER INSERT ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}(rowid, tokens) VALUES (NEW.original_id, NEW.tokens); END",
    f"CREATE TRIGGER {FTS}_delete AFTER DELETE ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, tokens) VALUES ('delete', OLD.original_id, OLD.tokens); END",
    f"CREATE TRIGGER {FTS}_update AFTER UPDATE ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, tokens) VALUES ('delete', OLD.original_id, OLD.tokens); "
    f"INSERT INTO {FTS}(rowid, tokens) VALUES (NEW.original_id, NEW.tokens); END",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {FTS}_insert",
    f"DROP TRIGGER IF EXISTS {FTS}_delete",
    f"DROP TRIGGER IF EXISTS {FTS}_update",
    f"DROP TABLE IF EXISTS {FTS}",
]
PG_INDEX = "transcripts_speech_tsv"


def forward(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for sql in SQLITE_FORWARD:
            schema_editor.execute(sql)
    elif vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON {TABLE} "
            "USING gin (to_tsvector('simple'::regconfig, tokens))"
        )


def backward(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for sql in SQLITE_BACKWARD:
            schema_editor.execute(sql)
    elif vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
