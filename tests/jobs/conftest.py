"""Fixtures for the job tests."""

from __future__ import annotations

import pytest

from overt.conf import get_settings


@pytest.fixture
def clean_queue() -> None:
    """An empty RQ queue on the scaled engines, so no earlier test's message runs here."""
    if get_settings().jobs_engine == "redis":
        import django_rq

        django_rq.get_connection("default").flushdb()
