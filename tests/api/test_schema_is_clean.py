"""The OpenAPI schema generates with no drf-spectacular warning or error, and validates
against the OpenAPI 3 specification: what `overt`'s `manage.py spectacular --validate
--fail-on-warn` would say, in-process. A warning means part of the schema is wrong (two
components of one name, a view it cannot read, ...), so none may come back."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS


def test_the_schema_has_no_warning_or_error_and_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    GENERATOR_STATS.reset()  # only this generation's warnings count
    out = tmp_path / "schema.yaml"
    try:
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    except Exception as exc:
        pytest.fail(f"{type(exc).__name__}: {exc}\n{capsys.readouterr().err}")
    assert not GENERATOR_STATS, capsys.readouterr().err
    schema = yaml.safe_load(out.read_text("utf-8"))
    components = schema["components"]["schemas"]
    # The two officers: the recordings API's, and a deployment's (issue 14's contract).
    assert set(components["Officer"]["properties"]) == {"number", "name", "team"}
    assert set(components["DeploymentOfficer"]["properties"]) == {
        "number",
        "arrived_at",
        "departed_at",
    }
    assert "/api/cases/{id}/documents/" in schema["paths"]
