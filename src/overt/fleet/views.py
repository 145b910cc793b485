"""The fleet pages: the list with health and filters (and its CSV), one camera's page
(assign, end, tag, profile), profiles, the unattributed worklist and the dock kiosk.
Every form posts to the page it came from, which calls the fleet services; a refusal is
shown on the page (a domain error's message), never a 500."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from overt import errors
from overt.access.matrix import Capability
from overt.access.services import capability
from overt.custody.services import Actor
from overt.evidence.models import Device, Officer
from overt.ingest.people import UNATTRIBUTED

from . import assignment, keys, profiles, services, unattributed
from .models import RESOLUTIONS, DeviceProfile, FleetDevice, ModelProfile


def _actor(request: HttpRequest, what: Capability = Capability.MANAGE_FLEET) -> Actor:
    if not capability(request.user, what):
        raise PermissionDenied(f"This page needs the {what.value} capability.")
    return Actor("user", request.user.get_username())


def _time(value: str, field: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise errors.Invalid(f"{field}: not a date and time", field=field) from None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _done(request: HttpRequest, action: str, run: object) -> None:
    """Run a form's service call; its refusal becomes a message on the page."""
    try:
        run()  # type: ignore[operator]
    except errors.DomainError as exc:
        messages.error(request, f"{action}: {exc}")
    else:
        messages.success(request, f"{action}: done.")


@login_required
@require_http_methods(["GET", "HEAD"])
def fleet_page(request: HttpRequest) -> HttpResponse:
    _actor(request)
    q = request.GET
    state = q.get("health", "")
    filters = services.Filters(
        health=state if state in ("ok", "attention", "lost") else "",
        model=q.get("model", ""),
        assigned=q.get("assigned", ""),
        lagging=q.get("lagging") == "1",
        q=q.get("q", ""),
    )
    all_rows = services.rows()
    shown = [r for r in all_rows if services._matches(r, filters)]
    counts = {
        s: sum(1 for r in all_rows if r.health.state == s) for s in ("ok", "attention", "lost")
    }
    return render(
        request,
        "fleet/fleet.html",
        {
            "nav": "fleet",
            "rows": shown,
            "filters": filters,
            "counts": counts,
            "total": len(all_rows),
            "lagging": sum(1 for r in all_rows if r.lagging),
            "models": sorted({r.model for r in all_rows if r.model}),
            "query": request.GET.urlencode(),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def device_page(request: HttpRequest, serial: str) -> HttpResponse:
    by = _actor(request)
    device = Device.objects.filter(serial=serial).first()
    if device is None:
        raise errors.NotFound(f"no device {serial!r}")
    if request.method == "POST":
        p = request.POST
        form = p.get("form")
        if form == "assign":
            _done(
                request,
                "Assign",
                lambda: assignment.assign(
                    serial,
                    p.get("officer", ""),
                    starts_at=_time(p.get("starts_at", ""), "starts_at"),
                    ends_at=_time(p.get("ends_at", ""), "ends_at"),
                    by=by,
                ),
            )
        elif form == "end":
            _done(request, "Check in", lambda: assignment.end_assignment(serial, by=by))
        elif form == "tag":
            _done(
                request, "Tag", lambda: assignment.set_device_tag(serial, p.get("tag", ""), by=by)
            )
        elif form == "profile":
            _done(
                request,
                "Profile",
                lambda: profiles.assign_profile_to_devices(
                    [serial], p.get("profile") or None, by=by
                ),
            )
        return redirect("fleet-device", serial=serial)
    row = next(r for r in services.rows(services.Filters(q=serial)) if r.serial == serial)
    return render(
        request,
        "fleet/device.html",
        {
            "nav": "fleet",
            "device": device,
            "row": row,
            "history": assignment.history(serial),
            "capture_keys": keys.history(device),
            "officers": Officer.objects.filter(active=True).exclude(number=UNATTRIBUTED),
            "profiles": DeviceProfile.objects.all(),
            "own_profile": FleetDevice.objects.filter(device=device)
            .values_list("profile__name", flat=True)
            .first(),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profiles_page(request: HttpRequest) -> HttpResponse:
    by = _actor(request)
    if request.method == "POST":
        p = request.POST
        if p.get("form") == "model":
            _done(
                request,
                "Model profile",
                lambda: profiles.assign_profile_to_model(
                    p.get("model", ""), p.get("profile") or None, by=by
                ),
            )
        else:
            values: dict[str, object] = {
                k: p.get(k) for k in profiles.SETTING_KEYS if k != "audio_in_buffer"
            }
            values["audio_in_buffer"] = p.get("audio_in_buffer") == "on"
            _done(
                request,
                "Save profile",
                lambda: profiles.save_profile(p.get("name", ""), values, by=by),
            )
        return redirect("fleet-profiles")
    return render(
        request,
        "fleet/profiles.html",
        {
            "nav": "fleet",
            "profiles": DeviceProfile.objects.all(),
            "model_profiles": ModelProfile.objects.select_related("profile"),
            "models": sorted(set(Device.objects.exclude(model="").values_list("model", flat=True))),
            "resolutions": RESOLUTIONS,
            "default_name": profiles.DEFAULT_NAME,
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def unattributed_page(request: HttpRequest) -> HttpResponse:
    by = _actor(request)
    if request.method == "POST":
        p = request.POST
        try:
            recording_id = int(p.get("recording", ""))
        except ValueError:
            raise errors.Invalid("which recording?", field="recording") from None
        _done(
            request,
            f"Recording {recording_id}",
            lambda: unattributed.attribute(recording_id, p.get("officer", ""), by=by),
        )
        return redirect("fleet-unattributed")
    return render(
        request,
        "fleet/unattributed.html",
        {
            "nav": "fleet-unattributed",
            "recordings": unattributed.worklist(),
            "officers": Officer.objects.filter(active=True).exclude(number=UNATTRIBUTED),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def kiosk_page(request: HttpRequest) -> HttpResponse:
    """A dock's kiosk: an officer scans their tag, then the camera's (check-out), or only
    the camera's (check-in). The reader types the ids and Enter submits."""
    by = _actor(request, Capability.USE_KIOSK)
    outcome, ok, status = "", False, 200
    if request.method == "POST":
        p = request.POST
        try:
            if p.get("form") == "checkin":
                row = assignment.check_in(p.get("camera_tag", ""), by=by)
                outcome = (
                    f"Camera {row.device.serial} checked in from officer {row.officer.number}."
                )
            else:
                row = assignment.check_out(p.get("officer_tag", ""), p.get("camera_tag", ""), by=by)
                outcome = (
                    f"Camera {row.device.serial} checked out to officer "
                    f"{row.officer.number} ({row.officer.name})."
                )
            ok = True
        except errors.DomainError as exc:
            outcome, status = str(exc), exc.status
    return render(
        request,
        "fleet/kiosk.html",
        {"nav": "fleet-kiosk", "outcome": outcome, "ok": ok},
        status=status,
    )
