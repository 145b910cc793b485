"""The camera agent's own API (issue 13; docs/camera.md): enrolment, segment manifests and
the peer keys, as JSON, with problem+json for every refusal. Enrolment needs no
credential (the one-time code is it); the rest take the device token
(`Authorization: Bearer <token>`) that enrolment gave, as tus does."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.views import APIView

from overt.errors import DomainError, Invalid, TooLarge
from overt.web.client_address import client_of
from overt.web.problems import domain_problem_fields, problem
from overt.web.unavailable import DETAIL as DATABASE_DOWN
from overt.web.unavailable import RETRY_AFTER_S, database_unavailable

from . import enrolment, manifests
from .errors import NotSignedIn
from .tokens import Principal, device_for_authorization

log = logging.getLogger(__name__)
View = Callable[..., HttpResponseBase]


def _device_api(*methods: str, token: bool = True) -> Callable[[View], View]:
    """Method check, device token (unless `token` is False) and problem+json answers."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            rid = {"request_id": getattr(request, "request_id", "")}  # the site's middleware
            if request.method not in methods:
                response = problem(405, "Method Not Allowed", f"use {' or '.join(methods)}", **rid)
                response["Allow"] = ", ".join(methods)
                return response
            try:
                if token:
                    kwargs["principal"] = _principal(request)
                return view(request, *args, **kwargs)
            except DomainError as exc:
                return _problem(exc, rid)
            except Exception as exc:
                if database_unavailable(exc):  # restarting or overloaded: come back, not a 500
                    log.warning(
                        "device API %s %s: database unavailable (%s)",
                        request.method,
                        request.path,
                        rid,
                    )
                    answer = problem(503, "Service Unavailable", DATABASE_DOWN, **rid)
                    answer["Retry-After"] = str(RETRY_AFTER_S)
                    return answer
                log.exception("device API %s %s failed (%s)", request.method, request.path, rid)
                return problem(500, "Internal Server Error", "the server failed; retry", **rid)

        return wrapper

    return decorate


def _problem(exc: DomainError, rid: dict[str, str]) -> HttpResponse:
    fields = {**domain_problem_fields(exc), **rid}
    status, title = fields.pop("status"), fields.pop("title")
    response = problem(status, title, fields.pop("detail", ""), **fields)
    if isinstance(exc, NotSignedIn):
        response["WWW-Authenticate"] = 'Bearer realm="overt"'
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _principal(request: HttpRequest) -> Principal:
    return device_for_authorization(request.headers.get("Authorization", ""))


def _json_body(request: HttpRequest, limit: int) -> Any:
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError as exc:
        raise Invalid("Content-Length is not a number") from exc
    if length > limit:
        raise TooLarge(f"the body is over {limit} bytes")
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise TooLarge(f"the body is over {limit} bytes")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Invalid(f"the body is not JSON: {exc}") from exc


def _fields(**fields: Any) -> dict[str, Any]:
    return fields


def _text(help_text: str = "", **options: Any) -> serializers.CharField:
    return serializers.CharField(help_text=help_text, **options)


PROBLEMS = {status: OpenApiResponse(description="Problem details (RFC 9457).") for status in
            (400, 401, 403, 404, 405, 410, 413, 429, 503)}  # fmt: skip
EnrolBody = inline_serializer("DeviceEnrolment", _fields(
    serial=_text("The device's serial, as added with `overt device add`.", max_length=64),
    code=_text("The one-time code of `overt device enrol SERIAL`.", max_length=64),
    public_key=_text("Base64 of the device's raw 32-byte Ed25519 public key.", max_length=100),
    agent_version=_text("The agent's version.", max_length=64, required=False),
))  # fmt: skip
Enrolled = inline_serializer("DeviceEnrolled", _fields(
    serial=_text(), device_token=_text("The device's upload token (shown once)."),
    tus_url=_text(), server_time=serializers.DateTimeField(), key_id=_text(),
    encryption_key=inline_serializer("ServerEncryptionKey", _fields(
        scheme=_text(), key_id=_text(), public_key=_text("Base64 of the raw X25519 key."),
    )),
))  # fmt: skip
ManifestBody = inline_serializer("CaptureManifestUpload", _fields(
    manifest=_text("Base64 of the manifest's exact JSON bytes."),
    signature=_text("Base64 of the Ed25519 signature over those bytes."),
))  # fmt: skip
ManifestReceived = inline_serializer("CaptureManifestReceived", _fields(
    manifest_sha256=_text(), status=_text(),
))  # fmt: skip
ManifestStatus = inline_serializer("CaptureManifestStatus", _fields(
    manifest_sha256=_text(),
    stored=serializers.BooleanField(help_text="Whether the segment it describes is stored."),
    sha256=_text("The stored original's SHA-256.", allow_null=True),
    recording=serializers.IntegerField(allow_null=True),
    capture_signature=_text("verified, unsigned, broken or gap.", allow_null=True),
))  # fmt: skip
PeerKeys = inline_serializer(
    "DevicePeerKey", _fields(serial=_text(), key_id=_text(), public_key=_text()), many=True
)
Peers = inline_serializer("DevicePeers", _fields(peers=PeerKeys))


# The device token scheme (`Authorization: Bearer`), as the fleet's device endpoints name
# it; a security requirement object (drf-spectacular's hint says str, it takes these).
DEVICE_TOKEN: Any = [{"deviceToken": []}]


class _CameraView(APIView):
    """The camera protocol answers exactly as docs/camera.md says (its own method check,
    device token, JSON reading and problem+json, in `_device_api`), so DRF's request
    handling is not used: `dispatch` hands the plain Django request to the handler. The
    class exists so that drf-spectacular describes the endpoint in /api/schema/."""

    methods: tuple[str, ...] = ()
    token = True

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        def handle(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            handler = getattr(self, (request.method or "").lower())
            answer: HttpResponseBase = handler(request, *args, **kwargs)
            return answer

        return _device_api(*self.methods, token=self.token)(handle)(request, *args, **kwargs)


class Enrol(_CameraView):
    methods, token = ("POST",), False

    @extend_schema(
        tags=["camera"], auth=[], request=EnrolBody, responses={201: Enrolled, **PROBLEMS}
    )
    def post(self, request: HttpRequest) -> HttpResponseBase:
        """Exchange a one-time enrolment code and the device's public key for its token."""
        body = _json_body(request, 16 * 1024)
        enrolled = enrolment.enrol(body, client_of(request))
        return JsonResponse(enrolled.to_json(), status=201)


class ManifestCreate(_CameraView):
    methods = ("POST",)

    @extend_schema(
        tags=["camera"], auth=DEVICE_TOKEN, request=ManifestBody,
        responses={200: ManifestReceived, 201: ManifestReceived, **PROBLEMS},
    )  # fmt: skip
    def post(self, request: HttpRequest, principal: Principal) -> HttpResponseBase:
        """A segment's signed manifest, kept as received (before its segment's upload)."""
        body = _json_body(request, manifests.MAX_BODY_BYTES)
        received = manifests.receive(principal, body, client_of(request))
        return JsonResponse(received.to_json(), status=201 if received.created else 200)


class ManifestDetail(_CameraView):
    methods = ("GET",)

    @extend_schema(tags=["camera"], auth=DEVICE_TOKEN, responses={200: ManifestStatus, **PROBLEMS})
    def get(self, request: HttpRequest, sha256: str, principal: Principal) -> HttpResponseBase:
        """Whether the segment a manifest describes is stored, with which hash."""
        return JsonResponse(manifests.status(principal, sha256))


class DevicePeers(_CameraView):
    methods = ("GET",)

    @extend_schema(tags=["camera"], auth=DEVICE_TOKEN, responses={200: Peers, **PROBLEMS})
    def get(self, request: HttpRequest, principal: Principal) -> HttpResponseBase:
        """The current public keys of the force's other devices, for peer start."""
        assert principal.token is not None
        with transaction.atomic():
            found = enrolment.peers_for(principal.token.device)
        return JsonResponse({"peers": found})
