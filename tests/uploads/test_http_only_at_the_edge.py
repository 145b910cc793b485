"""Issue 12, item 2: the uploads stage speaks HTTP only at its edge. Its services and
domain modules raise domain errors (overt.errors, overt.uploads.errors); only the modules
named in EDGE below may raise or import HTTPProblem, build HTTP responses or problem
bodies. This reads every other module's source (AST) and fails on any of these."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import overt.uploads
from overt.errors import DomainError
from overt.uploads import errors as upload_errors
from overt.uploads.asgi_http import STATUS_TITLES, HTTPProblem, as_problem, problem_body

UPLOADS = Path(overt.uploads.__file__).parent

# The HTTP edge of the uploads stage, and only it.
EDGE = {
    "asgi.py",  # the ASGI router in front of Django
    "asgi_http.py",  # HTTPProblem, requests and responses of the raw ASGI handlers
    "asgi_body.py",  # request bodies of the raw ASGI handlers, and their slots
    "tus.py",  # the tus protocol handler
    "tus_auth.py",  # who is uploading to tus (Bearer token or session)
    "tus_body.py",  # a tus request's body, and the answer a request ends with
    "swift_put.py",  # the streaming Swift object PUT
    "swift_views.py",  # the other Swift calls (Django views)
    "views.py",  # the browser upload page
    "sources.py",  # the upload page's step that registers a phone or CCTV source
    "device_views.py",  # the device-token pages (made, shown once, revoked)
    "enrol_page.py",  # the camera enrolment page for administrators
    "capture_views.py",  # the camera agent's JSON API (enrolment, manifests, peers)
    "urls.py",
}
# Names that build an HTTP answer: Django's and DRF's responses, overt's problem helpers.
RESPONSE_NAMES = {
    "HTTPProblem",
    "HttpResponse",
    "HttpResponseBase",
    "JsonResponse",
    "StreamingHttpResponse",
    "FileResponse",
    "Response",
    "problem",
    "problem_fields",
    "problem_body",
    "respond",
    "respond_problem",
}
HTTP_MODULES = (
    "asgi_http",
    "django.http.response",
    "rest_framework.response",
    "overt.web.problems",
)


def domain_modules() -> list[Path]:
    return [
        p for p in sorted(UPLOADS.rglob("*.py")) if p.relative_to(UPLOADS).as_posix() not in EDGE
    ]


def http_in(source: str) -> list[tuple[int, str]]:
    """(line, what) for each import or use of HTTP shaping in a module's source."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.endswith(HTTP_MODULES) or module.split(".")[-1] == "asgi_http":
                found.append((node.lineno, f"from {'.' * node.level}{module} import"))
            for alias in node.names:
                if alias.name in RESPONSE_NAMES and module in ("django.http", "rest_framework"):
                    found.append((node.lineno, f"import of {alias.name}"))
                elif alias.name in ("HTTPProblem", "asgi_http"):
                    found.append((node.lineno, f"import of {alias.name}"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.endswith(HTTP_MODULES):
                    found.append((node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.Name) and node.id in ("HTTPProblem",):
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute) and node.attr == "HTTPProblem":
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in RESPONSE_NAMES - {"problem", "respond", "Response"}:
                found.append((node.lineno, f"{name}(...)"))
    return found


def test_the_edge_list_names_real_modules_and_the_scan_reads_the_domain() -> None:
    present = {p.relative_to(UPLOADS).as_posix() for p in UPLOADS.rglob("*.py")}
    assert EDGE <= present, f"edge modules that no longer exist: {sorted(EDGE - present)}"
    names = {p.relative_to(UPLOADS).as_posix() for p in domain_modules()}
    for module in ("services.py", "completion.py", "sweep.py", "tusmeta.py", "storage.py"):
        assert module in names
    assert {"axis/objects.py", "axis/handoff.py", "axis/protocol.py", "swift_read.py"} <= names


def test_the_scan_finds_http_in_a_domain_module() -> None:
    """The checker itself: each way a domain module could answer HTTP is caught."""
    samples = [
        "from ..asgi_http import HTTPProblem\nraise HTTPProblem(400, 'x')\n",
        "from . import asgi_http\nraise asgi_http.HTTPProblem(400, 'x')\n",
        "from django.http import JsonResponse\n",
        "from overt.web.problems import problem\n",
        "import rest_framework.response\n",
    ]
    for source in samples:
        assert http_in(source), source
    assert http_in("from overt.errors import Invalid\nraise Invalid('x')\n") == []


@pytest.mark.parametrize(
    "module", domain_modules(), ids=lambda p: p.relative_to(UPLOADS).as_posix()
)
def test_domain_modules_of_uploads_speak_no_http(module: Path) -> None:
    found = http_in(module.read_text("utf-8"))
    where = module.relative_to(UPLOADS).as_posix()
    assert found == [], (
        f"{where} shapes HTTP itself {found}: raise a domain error (overt.errors or "
        "overt.uploads.errors) and let the edge answer it"
    )


def _uploads_error_classes() -> list[type[DomainError]]:
    return [
        cls
        for cls in vars(upload_errors).values()
        if isinstance(cls, type) and issubclass(cls, DomainError)
    ]


@pytest.mark.parametrize("cls", _uploads_error_classes(), ids=lambda c: c.__name__)
def test_every_uploads_error_reads_as_its_http_status(cls: type[DomainError]) -> None:
    """Each class's title is the reason phrase the edges always sent for its status."""
    assert cls.title == STATUS_TITLES[cls.status]


def test_a_domain_error_answers_as_the_problem_the_edge_raised_before() -> None:
    """What a client reads is unchanged: the same status, headers and body as the
    HTTPProblem that the service used to raise itself."""
    before = HTTPProblem(
        423,
        "another request took this upload first",
        headers=[("Retry-After", "10")],
    )
    after = as_problem(
        upload_errors.UploadLocked("another request took this upload first", retry_after=10)
    )
    assert (after.status, after.title, after.headers) == (
        before.status,
        before.title,
        before.headers,
    )
    assert json.loads(problem_body(after.status, after.title, after.detail, **after.extra)) == (
        json.loads(problem_body(before.status, before.title, before.detail, **before.extra))
    )
    failed = as_problem(
        upload_errors.CompletionFailed("kept; send HEAD", retry_after=10, upload="ab12")
    )
    assert json.loads(problem_body(failed.status, failed.title, failed.detail, **failed.extra)) == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "kept; send HEAD",
        "upload": "ab12",
    }
