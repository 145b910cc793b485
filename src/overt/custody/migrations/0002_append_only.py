"""Make the custody log append-only in the database itself (see overt.custody.triggers)."""

from django.db import migrations

from overt.custody.triggers import create_triggers, drop_triggers


def create(apps, schema_editor):
    create_triggers(schema_editor)


def drop(apps, schema_editor):
    drop_triggers(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("custody", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
