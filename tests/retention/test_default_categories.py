"""A fresh instance has the two default categories under their policies (migration
retention 0003), and the data step never clobbers a force's own set-up. The database
tests run on both engines (the scaled run builds its PostgreSQL test database by the same
migrations)."""

from __future__ import annotations

import importlib
import json
import os
import time
from pathlib import Path
from types import ModuleType

import pytest
from django.apps import apps as live_apps

from overt.custody.services import Actor
from overt.evidence.models import Category
from overt.retention import services
from overt.retention.models import CategoryPolicy, RetentionPolicy
from overt.retention.rules import Period


def _step() -> ModuleType:
    """The data migration's module (its name starts with a digit)."""
    return importlib.import_module("overt.retention.migrations.0003_default_categories")


@pytest.fixture
def fresh(db: None) -> None:
    """The database as migrating made it. A transactional test that ran earlier in this
    process (in the parallel runs, any file's) empties every table, the migrations' rows
    too; then the two data steps are run again, as migrating a fresh database runs them."""
    if not RetentionPolicy.objects.exists():
        policies = importlib.import_module("overt.retention.migrations.0002_default_policies")
        policies.create(live_apps, None)
        _step().create(live_apps, None)


def _links() -> dict[str, str]:
    return dict(CategoryPolicy.objects.values_list("category__name", "policy__name"))


def test_categorize_works_on_a_fresh_instance_without_set_up(overt_cli, tmp_path: Path) -> None:
    cli = overt_cli
    assert cli("officer", "add", "MP100", "--name", "PC Test", "--team", "TSG").returncode == 0
    assert cli("device", "add", "CAM-1", "--model", "Axis W120").returncode == 0
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"fresh instance" * 100)
    old = time.time() - 60 * 86400
    os.utime(clip, (old, old))
    out = cli("ingest", str(clip), "--officer", "MP100", "--device", "CAM-1", "--json")
    assert out.returncode == 0, out.stderr
    rec_id = str(json.loads(out.stdout)[0]["recording_id"])

    done = cli("recording", "categorize", rec_id, "Non-evidential")
    assert done.returncode == 0, done.stderr
    assert "categories Non-evidential" in done.stdout
    (row,) = json.loads(cli("recording", "list", "--json").stdout)
    assert row["categories"] == ["Non-evidential"]
    assert row["at_expiry"] == "delete" and "31 days" in row["retention"]

    listed = json.loads(cli("retention", "policy", "list", "--json").stdout)
    by_policy = {p["name"]: p["categories"] for p in listed["policies"]}
    assert by_policy == {"Evidential": ["Evidential"], "Non-evidential": ["Non-evidential"]}
    assert listed["categories_without_policy"] == []


@pytest.mark.scaled
@pytest.mark.django_db
@pytest.mark.usefixtures("fresh")
def test_fresh_database_has_both_categories_under_their_policies() -> None:
    assert _links() == {"Evidential": "Evidential", "Non-evidential": "Non-evidential"}
    assert services.categories_without_policy() == []


@pytest.mark.scaled
@pytest.mark.django_db
@pytest.mark.usefixtures("fresh")
def test_running_the_step_again_keeps_a_forces_own_edits() -> None:
    actor = Actor("user", "information-manager")
    services.set_policy(
        "Short", period=Period(days=10), starts_from="recorded", at_expiry="delete", actor=actor
    )
    services.assign_policy("Evidential", "Short", actor=actor)
    Category.objects.filter(name="Non-evidential").delete()
    RetentionPolicy.objects.filter(name="Non-evidential").update(name="Routine")
    before_categories = sorted(Category.objects.values_list("name", flat=True))

    _step().create(live_apps, None)
    _step().create(live_apps, None)

    assert _links() == {"Evidential": "Short"}
    assert sorted(Category.objects.values_list("name", flat=True)) == before_categories


@pytest.mark.scaled
@pytest.mark.django_db
@pytest.mark.usefixtures("fresh")
def test_an_existing_category_without_a_policy_is_left_without_one() -> None:
    """Linking it now could shorten the retention of footage already filed under it."""
    CategoryPolicy.objects.filter(category__name="Non-evidential").delete()
    _step().create(live_apps, None)
    assert "Non-evidential" not in _links()
    assert services.categories_without_policy() == ["Non-evidential"]


@pytest.mark.scaled
@pytest.mark.django_db
@pytest.mark.usefixtures("fresh")
def test_the_reverse_step_removes_only_what_it_made() -> None:
    actor = Actor("user", "information-manager")
    services.assign_policy("Evidential", "Non-evidential", actor=actor)  # the force's own edit
    _step().remove(live_apps, None)
    assert _links() == {"Evidential": "Non-evidential"}
    assert not Category.objects.filter(name="Non-evidential").exists()
    _step().create(live_apps, None)
    assert _links() == {"Evidential": "Non-evidential", "Non-evidential": "Non-evidential"}
