"""Proof that the scaled run really runs on the scale-out engines."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from overt.conf import get_settings
from overt.evidence.store import get_store

pytestmark = pytest.mark.scaled


def test_engines_match_the_run(db) -> None:
    settings = get_settings()
    if os.environ.get("OVERT_TEST_ENGINES") == "scaled":
        assert connection.vendor == "postgresql"
        assert settings.jobs_engine == "redis"
        assert get_store().url.startswith("s3://")
    else:
        assert connection.vendor == "sqlite"
        assert settings.jobs_engine == "database"
        assert get_store().url.startswith("file://")
