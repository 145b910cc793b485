"""The log head may only grow (see overt.custody.triggers), and an index that finds an
object's latest entry quickly, for the per-object chain written into entries (v2)."""

from django.db import migrations, models

from overt.custody.triggers import create_head_triggers, drop_head_triggers


def create(apps, schema_editor):
    create_head_triggers(schema_editor)


def drop(apps, schema_editor):
    drop_head_triggers(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("custody", "0004_checkpoint_append_only")]
    operations = [
        migrations.AddIndex(
            model_name="custodyentry",
            index=models.Index(fields=["object_sha256", "index"], name="custody_object_chain"),
        ),
        migrations.RunPython(create, drop),
    ]
