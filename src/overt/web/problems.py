"""Errors as RFC 9457 problem details: a status and a JSON body that says what was wrong."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler

from overt.errors import DomainError, problem_body

PROBLEM_TYPE = "application/problem+json"


def problem_fields(status: int, title: str, detail: str = "", **extra: Any) -> dict[str, Any]:
    """The problem body: one builder for the Django views, the API and the raw ASGI
    handlers (overt.uploads.asgi_http), so an error reads the same whichever answered."""
    body = {"type": "about:blank", "title": title, "status": status, **extra}
    if detail:
        body["detail"] = detail
    return body


def domain_problem_fields(exc: DomainError) -> dict[str, Any]:
    """A domain error's problem body (overt.errors.problem_body), in problem_fields' shape."""
    body = problem_body(exc)
    status, title, detail = body.pop("status"), body.pop("title"), body.pop("detail")
    return problem_fields(status, title, detail, **body)


def problem(status: int, title: str, detail: str = "", **extra: Any) -> JsonResponse:
    body = problem_fields(status, title, detail, **extra)
    return JsonResponse(body, status=status, content_type=PROBLEM_TYPE)


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    from overt.evidence.store import InsufficientSpace

    if isinstance(exc, InsufficientSpace):  # disk pressure: refuse, never delete evidence
        return insufficient_space_response(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    detail = data.get("detail") if isinstance(data, dict) else None
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": response.status_text,
        "status": response.status_code,
    }
    if detail is not None:
        body["detail"] = str(detail)
    else:
        body["detail"] = "invalid request"
        body["errors"] = data
    response.data = body
    response.content_type = PROBLEM_TYPE
    return response


def insufficient_space_body(exc: Exception) -> dict[str, Any]:
    """507 Insufficient Storage: ingest refused for space; nothing was stored."""
    return {
        "type": "about:blank",
        "title": "Insufficient Storage",
        "status": 507,
        "detail": f"{exc}; nothing was stored. Evidence is never deleted to make room: "
        "add space to the evidence store.",
    }


def insufficient_space_response(exc: Exception) -> Response:
    return Response(insufficient_space_body(exc), status=507, content_type=PROBLEM_TYPE)


def insufficient_space_problem(exc: Exception) -> JsonResponse:
    """The same 507 for plain Django views."""
    body = insufficient_space_body(exc)
    return problem(507, body["title"], body["detail"])


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, the body of every error (for the API schema)."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(required=False)
    # A declared field: DRF's metaclass takes it off the class, so .errors stays DRF's own.
    errors = serializers.JSONField(required=False)  # type: ignore[assignment]


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "request_id": {"type": "string", "description": "Quote it when reporting an error."},
    },
    "required": ["type", "title", "status"],
    "additionalProperties": True,
}


def document_problems(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing hook: every 4xx/5xx answer of the API is
    problem+json (see problem_exception_handler), so the schema says so."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                if str(status)[:1] in {"4", "5"} and isinstance(response, dict):
                    ref = {"$ref": "#/components/schemas/Problem"}
                    response["content"] = {PROBLEM_TYPE: {"schema": ref}}
    return result
