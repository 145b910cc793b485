"""The two default policies. Categories are the force's own: assign them to a policy with
`overt retention policy assign CATEGORY POLICY` (docs/retention.md)."""

from django.db import migrations

DEFAULTS = [
    {
        "name": "Non-evidential",
        "description": "Footage of no evidential value: deleted after 31 days (Met policy).",
        "days": 31,
        "starts_from": "recorded",
        "at_expiry": "delete",
    },
    {
        "name": "Evidential",
        "description": "Evidential footage: reviewed after 6 years at the least (MoPI).",
        "years": 6,
        "starts_from": "recorded",
        "at_expiry": "review",
    },
]


def create(apps, schema_editor):
    Policy = apps.get_model("retention", "RetentionPolicy")
    for values in DEFAULTS:
        name = values["name"]
        Policy.objects.get_or_create(
            name=name, defaults={k: v for k, v in values.items() if k != "name"}
        )


def remove(apps, schema_editor):
    Policy = apps.get_model("retention", "RetentionPolicy")
    Policy.objects.filter(name__in=[d["name"] for d in DEFAULTS], links__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("retention", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
