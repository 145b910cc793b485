# Capture signatures (issue 13): what a camera's signed manifests prove of each clip and
# recording, the device's own recording id that joins its segments, its clock offset, a
# real (fractional) pre-event length, and device revocation.
#
# On SQLite, adding these columns remakes evidence_recording (a new table, copied, the
# old dropped, the new renamed), which the free-text triggers of 0003 would break (the
# marker triggers name evidence_recording, and SQLite refuses the rename while they point
# at a missing table). So the triggers are dropped first and made again afterwards; the
# FTS table itself keeps its rows (keyed by recording id, which the copy keeps).

import importlib

from django.db import migrations, models

_FTS = importlib.import_module("overt.evidence.migrations.0003_clip_still_text_search")
_TRIGGER_SQL = [sql for sql in _FTS.SQLITE_FORWARD if sql.startswith("CREATE TRIGGER")]
_DROP_SQL = [sql for sql in _FTS.SQLITE_BACKWARD if sql.startswith("DROP TRIGGER")]


def _drop_triggers(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        for sql in _DROP_SQL:
            schema_editor.execute(sql)


def _make_triggers(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        for sql in _DROP_SQL:
            schema_editor.execute(sql)
        for sql in _TRIGGER_SQL:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0003_clip_still_text_search"),
    ]

    operations = [
        migrations.RunPython(_drop_triggers, _make_triggers, elidable=False),
        migrations.AddField(
            model_name="device",
            name="revoked_at",
            field=models.DateTimeField(
                blank=True,
                help_text="Revoked: may not enrol, upload or sign from then on.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="original",
            name="capture_manifest_sha256",
            field=models.CharField(
                blank=True,
                db_index=True,
                default="",
                help_text="Its signed manifest.",
                max_length=64,
            ),
        ),
        migrations.AddField(
            model_name="original",
            name="capture_problems",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="original",
            name="capture_signature",
            field=models.CharField(
                choices=[
                    ("verified", "verified: signed at the lens, complete"),
                    ("unsigned", "unsigned: no signed manifest"),
                    ("broken", "broken: a signature, key or hash does not hold"),
                    ("gap", "gap: a segment or recording is missing"),
                ],
                default="unsigned",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="recording",
            name="capture_problems",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="recording",
            name="capture_recording_id",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="recording",
            name="capture_signature",
            field=models.CharField(
                choices=[
                    ("verified", "verified: signed at the lens, complete"),
                    ("unsigned", "unsigned: no signed manifest"),
                    ("broken", "broken: a signature, key or hash does not hold"),
                    ("gap", "gap: a segment or recording is missing"),
                ],
                default="unsigned",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="recording",
            name="clock_offset_s",
            field=models.FloatField(
                blank=True,
                help_text="Device clock minus server clock (s), as last reported.",
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="recording",
            name="pre_event_seconds",
            field=models.FloatField(default=0),
        ),
        migrations.AddConstraint(
            model_name="recording",
            constraint=models.UniqueConstraint(
                condition=models.Q(("capture_recording_id", ""), _negated=True),
                fields=("device", "capture_recording_id"),
                name="one_recording_per_capture_id",
            ),
        ),
        migrations.RunPython(_make_triggers, _drop_triggers, elidable=False),
    ]
