"""Items 22 and 23 of issue 11: unhandled exceptions are logged with a request id that the
client also sees, and errors answer browsers with the site's own pages and API clients with
problem+json (RFC 9457)."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from django.test import Client

from overt.testing.access import make_user, sign_in

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # a browser's
PROBLEM = "application/problem+json"
SITE_PAGE = 'class="site-header"'  # the site's own base template, not Django's bare page


def _problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = json.loads(response.content)
    assert body["status"] == status and body["title"]
    assert body["request_id"] == response["X-Request-Id"]
    return body


def _page(response, status: int) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert SITE_PAGE in page
    assert response["X-Request-Id"] in page  # the reference a user can quote
    return page


# --- item 22: unhandled exceptions ------------------------------------------------------


@pytest.mark.urls("web_error_urls")
@pytest.mark.parametrize(("path", "accept"), [("/test-broken/", HTML), ("/api/test-broken/", HTML)])
def test_an_unhandled_exception_is_logged_with_the_id_the_client_sees(
    db: None, path: str, accept: str
) -> None:
    from web_error_urls import SECRET

    # What `overt serve` prints: the console handler that LOGGING gives overt's loggers.
    (console,) = logging.getLogger("overt").handlers
    printed = io.StringIO()
    previous = console.setStream(printed)
    try:
        response = Client(raise_request_exception=False).get(path, HTTP_ACCEPT=accept)
    finally:
        console.setStream(previous)
    rid = response["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    if path.startswith("/api/"):
        body = _problem(response, 500)
        assert SECRET not in json.dumps(body)  # the traceback stays in the log
    else:
        page = _page(response, 500)
        assert SECRET not in page and "Traceback" not in page
    err = printed.getvalue()
    logged = [line for line in err.splitlines() if rid in line]
    assert logged and "ERROR overt.errors" in logged[0] and path in logged[0]
    assert "Traceback" in err and f"RuntimeError: {SECRET}" in err


def test_every_response_carries_a_request_id(client: Client, db: None) -> None:
    first, second = client.get("/healthz"), client.get("/healthz")
    assert first["X-Request-Id"] != second["X-Request-Id"]


# --- item 23: the site's own pages for browsers, problem+json for API clients -----------


def test_not_found_is_a_site_page_for_a_browser(client: Client, db: None) -> None:
    page = _page(client.get("/no/such/page/", HTTP_ACCEPT=HTML), 404)
    assert "Not Found" in page


@pytest.mark.parametrize("accept", ["application/json", PROBLEM, "*/*", ""])
def test_not_found_is_problem_json_for_other_clients(
    client: Client, db: None, accept: str
) -> None:
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    _problem(client.get("/no/such/page/", **headers), 404)


def test_api_paths_always_answer_problem_json(client: Client, db: None) -> None:
    _problem(client.get("/api/no/such/thing/", HTTP_ACCEPT=HTML), 404)


def test_retention_page_refuses_a_browser_with_a_page(client: Client, db: None) -> None:
    sign_in(client, make_user("olive", "officer"))
    page = _page(client.get("/retention/", HTTP_ACCEPT=HTML), 403)
    assert "manage-retention" in page


def test_retention_json_refuses_an_api_client_with_problem_json(
    client: Client, db: None
) -> None:
    sign_in(client, make_user("olive", "officer"))
    body = _problem(client.get("/retention/upcoming.json", HTTP_ACCEPT="application/json"), 403)
    assert "manage-retention" in body["detail"]


def test_csrf_failure_is_a_site_page(db: None) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "a", "password": "b"}, HTTP_ACCEPT=HTML)
    assert "reload the page" in _page(response, 403)


def test_bad_host_is_a_site_page(client: Client, db: None) -> None:
    page = _page(client.get("/login/", HTTP_HOST="evil.example", HTTP_ACCEPT=HTML), 400)
    assert "Bad Request" in page


# --- found in a browser walk: DRF errors and bare 405s -----------------------------------


@pytest.mark.parametrize("accept", [HTML, "application/json"])
def test_a_drf_error_is_problem_json_with_its_request_id_even_for_a_browser(
    client: Client, db: None, accept: str
) -> None:
    # DRF's browsable API used to render its HTML page under the problem+json type for a
    # browser, and its error bodies named no request id.
    sign_in(client, make_user("olive", "officer"))
    body = _problem(client.get("/api/jobs/", headers={"accept": accept}), 403)
    assert "<html" not in json.dumps(body).lower()
    missing = client.get("/api/recordings/999999/", headers={"accept": accept})
    assert _problem(missing, 404)["detail"]


def test_a_form_only_address_opened_by_link_gets_the_site_page(client: Client, db: None) -> None:
    sign_in(client, make_user("erin", "evidence-manager"))
    response = client.get("/redaction/new", headers={"accept": HTML})
    page = _page(response, 405)
    assert "Method Not Allowed" in page and "POST" in response["Allow"]
    assert _problem(client.get("/redaction/new", headers={"accept": PROBLEM}), 405)
