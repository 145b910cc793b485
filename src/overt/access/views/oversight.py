"""Break-glass, alerts, and the release of a post-incident procedure."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from overt.custody.services import Actor, Subject, record_now
from overt.evidence.models import Recording
from overt.web.client_address import client_of

from ..break_glass import acknowledge, break_glass
from ..forms import (
    BreakGlassForm,
    ReleaseForm,
)
from ..grants import GrantError, release_post_incident
from ..matrix import Action, Capability
from ..models import Alert, PostIncidentProcedure
from ..services import AccessDenied, allowed, require


def _deny(exc: AccessDenied) -> PermissionDenied:
    return PermissionDenied(str(exc))


def break_glass_target(request: HttpRequest, recording_id: int) -> Recording:
    """The recording to open; an id that names none is a logged 404, so trying ids one
    after another leaves a trace whether or not they exist."""
    recording = Recording.objects.only("id", "officer_id", "incident_id").filter(pk=recording_id)
    if found := recording.first():
        return found
    record_now(
        "access-refused",
        Actor("user", request.user.get_username()),
        Subject("", {"recording": recording_id}),
        client=client_of(request),
        details={"action": "break-glass", "reason": "no such recording"},
    )
    raise Http404("no such recording")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def break_glass_view(request: HttpRequest, recording_id: int) -> HttpResponse:
    try:
        require(request.user, Capability.BREAK_GLASS)
    except AccessDenied as exc:
        raise _deny(exc) from exc
    # The form is the same for every id: whether the recording exists, and its details,
    # stay hidden until the glass is broken (see break_glass_target).
    form = BreakGlassForm(request.POST if request.method == "POST" else None)
    error, status = "", 200
    if request.method == "POST" and form.is_valid():
        recording = break_glass_target(request, recording_id)
        try:
            break_glass(
                request.user,  # type: ignore[arg-type]  # login_required: a User
                recording,
                form.cleaned_data["reason"],
                client=client_of(request),
            )
        except AccessDenied as exc:  # logged by break_glass()
            if not allowed(request.user, Action.LIST, recording):
                raise Http404("no such recording") from exc
            raise _deny(exc) from exc
        except GrantError as exc:
            error, status = str(exc), 400
        else:
            return redirect("recording", recording_id=recording.pk)
    elif request.method == "POST":
        status = 400
    context = {"form": form, "recording_id": recording_id, "error": error}
    return render(request, "access/break_glass.html", context, status=status)


@login_required
@require_safe
def alerts_view(request: HttpRequest) -> HttpResponse:
    try:
        require(request.user, Capability.SEE_ALERTS)
    except AccessDenied as exc:
        raise _deny(exc) from exc
    alerts = Alert.objects.all()[:200]
    return render(request, "access/alerts.html", {"alerts": alerts, "nav": "alerts"})


@login_required
@require_POST
def alert_acknowledge_view(request: HttpRequest, alert_id: int) -> HttpResponse:
    try:
        require(request.user, Capability.SEE_ALERTS)
    except AccessDenied as exc:
        raise _deny(exc) from exc
    acknowledge(get_object_or_404(Alert, pk=alert_id, acknowledged_at__isnull=True), request.user)
    return redirect("access-alerts")


@login_required
@require_safe
def post_incident_list(request: HttpRequest) -> HttpResponse:
    """The procedures this user manages (the only ones they may release)."""
    managed = PostIncidentProcedure.objects.filter(manager=request.user)  # type: ignore[misc]  # login_required: a User
    rows = managed.select_related("incident")
    return render(request, "access/post_incident.html", {"procedures": rows, "form": ReleaseForm()})


@login_required
@require_POST
def post_incident_release(request: HttpRequest, procedure_id: int) -> HttpResponse:
    row = get_object_or_404(PostIncidentProcedure, pk=procedure_id)
    form = ReleaseForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        release_post_incident(row, request.user, note=note, client=client_of(request))
    except AccessDenied as exc:  # logged there; only its manager may know the procedure
        raise Http404("no such post-incident procedure") from exc
    except GrantError:
        pass  # released already: nothing to do
    return redirect(reverse("access-post-incident"))
