"""The library's bulk bar: select recordings, then open a case with them, add them to a
case, categorise or hold them in one step; each recording still gets its own entry."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
from cases_support import scene
from django.apps import apps as live_apps
from django.test import Client

from overt.cases.models import Case
from overt.custody.models import CustodyEntry
from overt.evidence.models import Category
from overt.retention.models import Hold
from overt.testing.access import sign_in


@pytest.fixture
def world(db, clips: dict[str, Path], tmp_path: Path):  # type: ignore[no-untyped-def]
    # "Evidential" and its policy come from data migrations (retention 0002, 0003). A
    # transactional test that ran earlier in this process (in the parallel runs, any
    # file's) empties every table, those rows too: run the two data steps again, as
    # tests/retention/test_default_categories.py's `fresh` does. (CI: 400, unknown category.)
    if not Category.objects.filter(name="Evidential").exists():
        for step in ("0002_default_policies", "0003_default_categories"):
            importlib.import_module(f"overt.retention.migrations.{step}").create(live_apps, None)
    return scene(clips, tmp_path)


def _shas(world) -> set[str]:  # type: ignore[no-untyped-def]
    return {r.originals.get().sha256 for r in world.recordings}


def test_the_library_offers_selection_and_the_bulk_bar(world) -> None:
    client = sign_in(Client(), world.manager)
    html = client.get("/").content.decode()
    for rec in world.recordings:
        assert f'name="recording" value="{rec.pk}" form="bulk-form"' in html
    assert 'id="bulk-form"' in html and 'value="new-case"' in html


def test_open_a_case_with_the_selection_in_one_step(world) -> None:
    client = sign_in(Client(), world.manager)
    ids = [r.pk for r in world.recordings]
    response = client.post(
        "/library/bulk",
        {"op": "new-case", "reference": "URN-BULK", "title": "From the library", "recording": ids},
    )
    assert response.status_code == 302
    case = Case.objects.get(reference="URN-BULK")
    assert sorted(case.items.values_list("recording_id", flat=True)) == sorted(ids)
    added = CustodyEntry.objects.filter(action="case-change", object_sha256__in=_shas(world))
    assert added.count() == 3  # one each


def test_categorise_and_hold_in_one_step_each_with_its_own_entry(world) -> None:
    client = sign_in(Client(), world.manager)
    ids = [r.pk for r in world.recordings]
    done = client.post(
        "/library/bulk",
        {"op": "categorise", "category": "Evidential", "recording": ids, "next": "/"},
    )
    assert done.status_code == 302
    for rec in world.recordings:
        assert [c.name for c in rec.categories.all()] == ["Evidential"]
    changed = CustodyEntry.objects.filter(action="category-change", object_sha256__in=_shas(world))
    assert {e.object_sha256 for e in changed} == _shas(world)
    held = client.post(
        "/library/bulk",
        {
            "op": "hold",
            "reason": "complaint expected",
            "recording": ids,
            "next": "https://evil.example/",
        },
    )
    assert held.status_code == 302 and held["Location"] == "/"  # no open redirect
    assert Hold.objects.filter(kind="legal", released_at__isnull=True).count() == 3
    entries = [json.loads(e.entry) for e in CustodyEntry.objects.filter(action="hold-set")]
    assert len(entries) == 3


def test_a_refusal_changes_nothing(world) -> None:
    investigator = sign_in(Client(), world.investigator)  # may see none of them
    ids = [r.pk for r in world.recordings]
    response = investigator.post("/library/bulk", {"op": "hold", "reason": "x", "recording": ids})
    assert response.status_code == 404
    assert not Hold.objects.exists()
    none = sign_in(Client(), world.manager).post("/library/bulk", {"op": "hold", "reason": "x"})
    assert none.status_code == 400
