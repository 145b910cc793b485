# Clip and still derivative kinds (many per original), and an index for the library's
# free-text search over titles, notes and marker text:
# - SQLite: an FTS5 trigram table, one row per recording (rowid = recording id), kept
#   in step by triggers on recordings and markers, so any writer (ORM, bulk_create, raw
#   SQL) keeps it current;
# - PostgreSQL: pg_trgm GIN indexes on UPPER(title), UPPER(notes) and UPPER(marker text),
#   the expressions Django's icontains compiles to.

from django.db import migrations, models

FTS = "evidence_recording_text"

# The searchable text of recording `{rid}`: title, notes, then each marker's text.
_BODY = (
    "SELECT r.id, r.title || char(10) || r.notes || coalesce(char(10) || "
    "(SELECT group_concat(m.text, char(10)) FROM evidence_marker m WHERE m.recording_id = r.id), '') "
    "FROM evidence_recording r WHERE r.id = {rid}"
)


def _refresh(rid: str) -> str:
    return (
        f"DELETE FROM {FTS} WHERE rowid = {rid}; "
        f"INSERT INTO {FTS}(rowid, body) {_BODY.format(rid=rid)};"
    )


SQLITE_FORWARD = [
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(body, tokenize='trigram')",
    f"INSERT INTO {FTS}(rowid, body) " + _BODY.replace(" WHERE r.id = {rid}", ""),
    f"CREATE TRIGGER {FTS}_recording_insert AFTER INSERT ON evidence_recording BEGIN "
    f"INSERT INTO {FTS}(rowid, body) VALUES (NEW.id, NEW.title || char(10) || NEW.notes); END",
    f"CREATE TRIGGER {FTS}_recording_update AFTER UPDATE OF title, notes ON evidence_recording "
    f"BEGIN {_refresh('NEW.id')} END",
    f"CREATE TRIGGER {FTS}_recording_delete AFTER DELETE ON evidence_recording BEGIN "
    f"DELETE FROM {FTS} WHERE rowid = OLD.id; END",
    f"CREATE TRIGGER {FTS}_marker_insert AFTER INSERT ON evidence_marker BEGIN "
    f"{_refresh('NEW.recording_id')} END",
    f"CREATE TRIGGER {FTS}_marker_update AFTER UPDATE OF text, recording_id ON evidence_marker "
    f"BEGIN {_refresh('OLD.recording_id')} {_refresh('NEW.recording_id')} END",
    f"CREATE TRIGGER {FTS}_marker_delete AFTER DELETE ON evidence_marker BEGIN "
    f"{_refresh('OLD.recording_id')} END",
]
SQLITE_BACKWARD = [
    *(
        f"DROP TRIGGER IF EXISTS {FTS}_{name}"
        for name in (
            "recording_insert",
            "recording_update",
            "recording_delete",
            "marker_insert",
            "marker_update",
            "marker_delete",
        )
    ),
    f"DROP TABLE IF EXISTS {FTS}",
]

POSTGRES_INDEXES = {  # name: (table, expression)
    "evidence_recording_title_trgm": ("evidence_recording", "UPPER(title::text)"),
    "evidence_recording_notes_trgm": ("evidence_recording", "UPPER(notes::text)"),
    "evidence_marker_text_trgm": ("evidence_marker", "UPPER(text::text)"),
}


def forward(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for sql in SQLITE_FORWARD:
            schema_editor.execute(sql)
    elif vendor == "postgresql":
        from django.db import transaction

        with schema_editor.connection.cursor() as cursor:
            try:
                with transaction.atomic(using=schema_editor.connection.alias):
                    cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            except Exception:  # no privilege: plain scans, still correct
                return
            for name, (table, expression) in POSTGRES_INDEXES.items():
                cursor.execute(
                    f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
                    f"USING gin (({expression}) gin_trgm_ops)"
                )


def backward(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for sql in SQLITE_BACKWARD:
            schema_editor.execute(sql)
    elif vendor == "postgresql":
        for name in POSTGRES_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0002_redacted_derivative"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="derivative",
            name="one_derivative_per_kind",
        ),
        migrations.AlterField(
            model_name="derivative",
            name="kind",
            field=models.CharField(
                choices=[
                    ("proxy", "browser proxy (H.264/AAC fMP4)"),
                    ("poster", "poster frame"),
                    ("sprite", "scrub sprite sheet"),
                    ("waveform", "waveform peaks"),
                    ("redacted", "redacted copy (H.264/AAC MP4, C2PA-signed)"),
                    ("clip", "frame-accurate clip (MP4)"),
                    ("still", "still frame (PNG)"),
                ],
                max_length=16,
            ),
        ),
        migrations.AddConstraint(
            model_name="derivative",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind__in", ["redacted", "clip", "still"]), _negated=True),
                fields=("original", "kind"),
                name="one_derivative_per_kind",
            ),
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
