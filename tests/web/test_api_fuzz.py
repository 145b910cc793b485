"""The API probed with schemathesis, as issue 11 asks: every operation of the OpenAPI schema
(/api/schema/), as an evidence manager and as an officer, with generated valid and invalid
input, in-process against the WSGI app.

It must never answer 5xx, and its answers must match the schema's bodies and content
types. A fixed seed and a bounded number of examples per operation keep it repeatable and
short; half of the examples aim at objects that exist, so the handlers behind the 404s are
reached too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import hypothesis
import pytest
import schemathesis
from access_support import incident, people, recording
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from overt.access.grants import TOKEN_SCOPES, create_token
from overt.custody.services import Actor
from overt.evidence.models import Marker
from overt.testing.access import make_user

SEED = 20261120
# Examples per operation, role and mode; OVERT_TEST_FUZZ_SCALE=10 probes deeper by hand.
SCALE = int(os.environ.get("OVERT_TEST_FUZZ_SCALE", "1"))
EXAMPLES = {GenerationMode.POSITIVE: 12 * SCALE, GenerationMode.NEGATIVE: 6 * SCALE}
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def _scene() -> dict[str, int]:
    """Objects for the path ids to find: recordings in an incident, a marker, an original."""
    officers = people()
    inc = incident("INC-FUZZ-1")
    first = recording(officers["MP1"], "fuzz one", incident=inc)
    recording(officers["MP2"], "fuzz two", incident=inc)
    marker = Marker.objects.create(
        recording=first, at=first.trigger_on_at + timedelta(seconds=1), text="fuzz"
    )
    return {
        "/api/recordings/": first.pk,
        "/api/custody/reports/": first.pk,
        "/api/markers/": marker.pk,
        "/api/originals/": first.originals.get().pk,
        "/api/incidents/": inc.pk,
    }


def _existing(path: str, scene: dict[str, int]) -> dict[str, int]:
    names = re.findall(r"\{(\w+)\}", path)
    for prefix, pk in scene.items():
        if path.startswith(prefix) and names:
            return {names[0]: pk}
    return {}


def _probe(
    operation: Any, mode: GenerationMode, existing: dict[str, int], auth: dict[str, str]
) -> str:
    """Run one operation in one generation mode; the failure found, or ''."""
    strategy = operation.as_strategy(generation_mode=mode)
    if existing:
        strategy = st.one_of(
            strategy, operation.as_strategy(generation_mode=mode, path_parameters=existing)
        )
    # Invalid input may be refused any way a 4xx allows; it must never be a 5xx.
    checks = CHECKS if mode is GenerationMode.POSITIVE else [not_a_server_error]

    @hypothesis.seed(SEED)
    @hypothesis.settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=strategy)
    def probe(case: schemathesis.Case) -> None:
        response = case.call(headers=auth)
        case.validate_response(response, checks=checks, headers=auth)

    try:
        probe()
    except (Exception, BaseExceptionGroup) as exc:  # report every operation's, then fail
        return f"{operation.label} [{mode.value}]: {exc}"
    return ""


@pytest.fixture
def test_connection_kept() -> Iterator[None]:
    """Each in-process WSGI request ends in close_old_connections, which closes a
    connection inside the test's transaction: PostgreSQL's is then gone for the rest of
    the test (SQLite's in-memory one ignores the close). Django's test client unhooks it
    the same way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.parametrize(
    ("role", "officer"), [("evidence-manager", None), ("officer", "MP1")], ids=["manager", "officer"]
)
def test_api_schema_fuzz(
    db: None, test_connection_kept: None, role: str, officer: str | None
) -> None:
    from overt.project.wsgi import application

    scene = _scene()
    user = make_user(f"fuzz-{role}", role, officer=officer)
    _, token = create_token(user, "fuzz", TOKEN_SCOPES, by=Actor("user", "test"))
    auth = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    failures = [
        _probe(result.ok(), mode, _existing(result.ok().path, scene), auth)
        for result in schema.get_all_operations()
        for mode in EXAMPLES
    ]
    assert not any(failures), "\n\n".join(f for f in failures if f)
