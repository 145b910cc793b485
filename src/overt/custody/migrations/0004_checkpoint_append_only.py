"""Make stored checkpoints append-only too (see overt.custody.triggers).

A checkpoint is a signed statement the instance has already given out; rewriting one
would hide a log that no longer matches it.
"""

from django.db import migrations

from overt.custody.triggers import CHECKPOINTS, create_triggers, drop_triggers


def create(apps, schema_editor):
    create_triggers(schema_editor, CHECKPOINTS)


def drop(apps, schema_editor):
    drop_triggers(schema_editor, CHECKPOINTS)


class Migration(migrations.Migration):
    dependencies = [("custody", "0003_checkpoint_verifyrun")]
    operations = [migrations.RunPython(create, drop)]
