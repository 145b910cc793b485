"""Issue 12, item 2: a service raises a domain error (overt.errors) and one mapping makes
it problem+json, the site's error page, or a CLI message and exit status, the same
everywhere."""

from __future__ import annotations

import json

import pytest
from django.test import Client

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PROBLEM = "application/problem+json"

EXPECTED = {  # kind -> (status, title)
    "not-found": (404, "Not Found"),
    "invalid": (400, "Bad Request"),
    "held": (409, "Conflict"),
    "denied": (403, "Forbidden"),
    "gone": (410, "Gone"),
}


def _body(response) -> dict:  # type: ignore[no-untyped-def]
    assert response["Content-Type"] == PROBLEM
    body = json.loads(response.content)
    assert body["request_id"] == response["X-Request-Id"]
    return body


@pytest.mark.urls("domain_error_urls")
@pytest.mark.parametrize("prefix", ["/test-domain/", "/api/test-domain/"])
@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_a_domain_error_reads_the_same_from_a_django_view_and_a_drf_view(
    db: None, prefix: str, kind: str
) -> None:
    from domain_error_urls import RAISED

    status, title = EXPECTED[kind]
    response = Client().get(f"{prefix}{kind}/", HTTP_ACCEPT="application/json")
    assert response.status_code == status
    body = _body(response)
    assert body["type"] == "about:blank"
    assert (body["status"], body["title"], body["detail"]) == (status, title, str(RAISED[kind]))
    if kind == "invalid":  # the field at fault, in DRF's shape for field errors
        assert body["errors"] == {"in_s": ["the in-point is after the out-point"]}
    if kind == "gone":
        assert body["upload"] == "u1"


@pytest.mark.urls("domain_error_urls")
def test_a_browser_gets_the_sites_page_with_the_message(db: None) -> None:
    response = Client().get("/test-domain/held/", HTTP_ACCEPT=HTML)
    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert 'class="site-header"' in page and "Conflict" in page
    assert "recording 7 is under a legal hold" in page
    assert response["X-Request-Id"] in page


@pytest.mark.urls("domain_error_urls")
def test_an_api_path_answers_problem_json_even_to_a_browser(db: None) -> None:
    response = Client().get("/api/test-domain/not-found/", HTTP_ACCEPT=HTML)
    assert response.status_code == 404 and _body(response)["detail"] == "no recording 41"


def test_the_cli_prints_a_domain_error_and_exits_with_its_status() -> None:
    import click
    from click.testing import CliRunner

    from overt import errors
    from overt.cli.main import OvertGroup

    @click.group(cls=OvertGroup)
    def top() -> None:
        pass

    @top.command("fail")
    @click.argument("kind")
    def fail(kind: str) -> None:
        raise {"nf": errors.NotFound("no officer 99"), "conflict": errors.Conflict("held")}[kind]

    missing = CliRunner().invoke(top, ["fail", "nf"])
    assert missing.exit_code == 2 and "Error: no officer 99" in missing.output
    refused = CliRunner().invoke(top, ["fail", "conflict"])
    assert refused.exit_code == 1 and "Error: held" in refused.output
    assert "Traceback" not in missing.output + refused.output
