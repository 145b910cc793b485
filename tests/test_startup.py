"""A serving process settles before its first request: the objects it loaded at start
are out of the cyclic collector's reach (overt.project.startup)."""

from __future__ import annotations

import gc
import importlib
import sys

import pytest


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_settle_freezes_what_was_loaded(unfrozen) -> None:
    from overt.project.startup import settle

    assert gc.get_freeze_count() == 0
    settle()
    assert gc.get_freeze_count() > 10_000  # Django, overt's modules, the URL map


@pytest.mark.parametrize("module", ["overt.project.asgi", "overt.project.wsgi"])
def test_each_server_entry_point_settles(unfrozen, module: str) -> None:
    sys.modules.pop(module, None)
    importlib.import_module(module)
    assert gc.get_freeze_count() > 10_000
