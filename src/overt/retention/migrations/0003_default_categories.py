"""The two default categories, each under the default policy of the same name (0002), so
that a fresh instance can categorise footage "Evidential" or "Non-evidential" at once
(docs/retention.md).

Safe to run on an instance that already has its own set-up: a category that exists is
left exactly as it is (its policy, or its lack of one: linking it now could shorten the
retention of footage already filed under it), and a default policy the force has removed
or renamed is not brought back; its category is then not created either.
"""

from django.db import migrations
from django.utils import timezone

# Recorded as the link's assigned_by, so the reverse step removes only what this made.
ASSIGNED_BY = "overt: default set-up (migration retention 0003)"

DEFAULTS = {
    # category name: (policy name, category description)
    "Non-evidential": ("Non-evidential", "Footage of no evidential value."),
    "Evidential": ("Evidential", "Footage that is, or may be, evidence."),
}


def create(apps, schema_editor):
    Category = apps.get_model("evidence", "Category")
    CategoryPolicy = apps.get_model("retention", "CategoryPolicy")
    Policy = apps.get_model("retention", "RetentionPolicy")
    now = timezone.now()
    for name, (policy_name, description) in DEFAULTS.items():
        policy = Policy.objects.filter(name=policy_name).first()
        if policy is None or Category.objects.filter(name=name).exists():
            continue
        category = Category.objects.create(name=name, description=description)
        CategoryPolicy.objects.create(
            category=category, policy=policy, assigned_at=now, assigned_by=ASSIGNED_BY
        )


def remove(apps, schema_editor):
    Category = apps.get_model("evidence", "Category")
    CategoryPolicy = apps.get_model("retention", "CategoryPolicy")
    for name in DEFAULTS:
        links = CategoryPolicy.objects.filter(category__name=name, assigned_by=ASSIGNED_BY)
        if links.exists():
            links.delete()
            Category.objects.filter(name=name, recordings__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("retention", "0002_default_policies"), ("evidence", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
