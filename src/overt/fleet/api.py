"""The fleet API. Cameras (device token) report status and fetch their config at each
offload, exactly as the shared camera protocol says (docs/fleet.md); people and
integrations with manage-fleet (session or API token) list, register and assign cameras,
save profiles and attribute footage. Everything goes through the fleet services."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from overt import errors
from overt.access.matrix import Capability
from overt.access.services import capability
from overt.custody.services import Actor
from overt.web.problems import ProblemSerializer

from . import assignment, profiles, registration, reports, services, unattributed
from .device_auth import DeviceTokenAuthentication, DeviceUser, IsDevice

PROBLEM = OpenApiResponse(ProblemSerializer, description="Problem details (RFC 9457).")
ERRORS = {400: PROBLEM, 401: PROBLEM, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM}


def _rfc3339(value: Any) -> str:
    return str(value.isoformat()).replace("+00:00", "Z")


def _body(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise errors.Invalid("the body must be a JSON object")
    return dict(request.data)


class _DeviceView(APIView):
    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDevice]

    def serial(self, request: Request) -> str:
        user = request.user
        assert isinstance(user, DeviceUser)  # IsDevice let it through
        return user.serial


class DeviceStatus(_DeviceView):
    @extend_schema(tags=["fleet"], request=dict, responses={200: dict, **ERRORS})
    def post(self, request: Request) -> Response:
        """A camera's status at offload (battery, storage, backlog, clock, config applied).

        Unknown keys are refused (400). The server computes the camera's health."""
        at = services.report_status(self.serial(request), reports.parse_status(request.data))
        return Response({"server_time": _rfc3339(at)})


class DeviceConfig(_DeviceView):
    @extend_schema(tags=["fleet"], responses={200: dict, **ERRORS})
    def get(self, request: Request) -> Response:
        """The settings this camera should run: its profile, version and values."""
        response = Response(services.config_for(self.serial(request)).as_json())
        response["Cache-Control"] = "no-store"
        return response


class _ManagerView(APIView):
    def actor(self, request: Request) -> Actor:
        if not capability(request.user, Capability.MANAGE_FLEET):
            raise errors.Refused("managing the fleet needs the manage-fleet capability")
        return Actor("user", request.user.get_username())


class NewCameraSerializer(serializers.Serializer[Any]):
    serial = serializers.CharField(max_length=64)
    model = serializers.CharField(max_length=100)
    firmware = serializers.CharField(max_length=64, required=False, default="")
    token = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Also issue a device token (shown once) for a camera without enrolment.",
    )
    enrol = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Also issue a one-time enrolment code (the camera enrols with its own key).",
    )


class Devices(_ManagerView):
    @extend_schema(tags=["fleet"], responses={200: dict, **ERRORS})
    def get(self, request: Request) -> Response:
        """Every camera with its health; filters: health, model, assigned, lagging, q."""
        self.actor(request)
        rows = services.rows(_filters(request))
        return Response({"count": len(rows), "devices": [services.as_dict(r) for r in rows]})

    @extend_schema(tags=["fleet"], request=NewCameraSerializer, responses={201: dict, **ERRORS})
    def post(self, request: Request) -> Response:
        """Register a camera (a custody entry); with `token`, issue its device token."""
        by = self.actor(request)
        data = NewCameraSerializer(data=_body(request))
        data.is_valid(raise_exception=True)
        v = data.validated_data
        made = registration.add_device(
            v["serial"],
            v["model"],
            firmware=v["firmware"],
            with_token=v["token"],
            enrol=v["enrol"],
            by=by,
        )
        return Response(made, status=201)


def _filters(request: Request) -> services.Filters:
    q = request.query_params
    state = q.get("health", "")
    if state and state not in ("ok", "attention", "lost"):
        raise errors.Invalid("health must be ok, attention or lost", field="health")
    return services.Filters(
        health=state,
        model=q.get("model", ""),
        assigned=q.get("assigned", ""),
        lagging=q.get("lagging") == "1",
        q=q.get("q", ""),
    )


class DevicesCsv(_ManagerView):
    @extend_schema(tags=["fleet"], responses={(200, "text/csv"): str, **ERRORS})
    def get(self, request: Request) -> HttpResponse:
        """The filtered fleet list as CSV."""
        self.actor(request)
        response = HttpResponse(
            services.to_csv(services.rows(_filters(request))),
            content_type="text/csv; charset=utf-8",
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="fleet-{stamp}.csv"'
        return response


class Assign(_ManagerView):
    @extend_schema(tags=["fleet"], request=dict, responses={201: dict, **ERRORS})
    def post(self, request: Request, serial: str) -> Response:
        """Assign camera `serial` to `officer` from `starts_at` (default now) to `ends_at`."""
        by = self.actor(request)
        body = _body(request)
        start = (
            reports.parse_time(body["starts_at"], "starts_at") if body.get("starts_at") else None
        )
        end = reports.parse_time(body["ends_at"], "ends_at") if body.get("ends_at") else None
        if not isinstance(body.get("officer"), str):
            raise errors.Invalid("name the officer by number", field="officer")
        row = assignment.assign(serial, body["officer"], starts_at=start, ends_at=end, by=by)
        return Response(_assignment(row), status=201)


class CheckIn(_ManagerView):
    @extend_schema(tags=["fleet"], request=None, responses={200: dict, **ERRORS})
    def post(self, request: Request, serial: str) -> Response:
        """End camera `serial`'s open assignment now."""
        return Response(_assignment(assignment.end_assignment(serial, by=self.actor(request))))


def _assignment(row: Any) -> dict[str, Any]:
    return {
        "device": row.device.serial,
        "officer": row.officer.number,
        "starts_at": _rfc3339(row.starts_at),
        "ends_at": _rfc3339(row.ends_at) if row.ends_at else None,
    }


class Profiles(_ManagerView):
    @extend_schema(tags=["fleet"], request=dict, responses={200: dict, **ERRORS})
    def post(self, request: Request) -> Response:
        """Create or change a profile: `name` and any of its settings; it takes a new version."""
        by = self.actor(request)
        body = _body(request)
        name = body.pop("name", "")
        profile = profiles.save_profile(str(name), body, by=by)
        return Response(profiles.config_of(profile).as_json())


class Attribute(_ManagerView):
    @extend_schema(tags=["fleet"], request=dict, responses={200: dict, **ERRORS})
    def post(self, request: Request, recording_id: int) -> Response:
        """Name the officer (`officer`) who wore the camera for an unattributed recording."""
        by = self.actor(request)
        number = _body(request).get("officer")
        if not isinstance(number, str):
            raise errors.Invalid("name the officer by number", field="officer")
        recording = unattributed.attribute(recording_id, number, by=by)
        return Response({"recording": recording.pk, "officer": number})
