"""A recording's access page: its access class, assignments and shares."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import dateformat, timezone
from django.views.decorators.http import require_http_methods

from overt.custody.services import Actor
from overt.evidence.models import Recording
from overt.web.client_address import client_of

from ..forms import (
    AccessClassForm,
    AssignForm,
    ClearAccessClassForm,
    ShareForm,
)
from ..grants import (
    GrantError,
    assign,
    clear_access_class,
    end_assignment,
    revoke_share,
    set_access_class,
    share,
)
from ..matrix import Capability
from ..models import AccessClass, Assignment, Share
from ..services import AccessDenied, require, visible_recordings


def _when(value) -> str:
    return dateformat.format(timezone.localtime(value), "j M Y, H:i T")


def _assignments(recording: Recording) -> QuerySet[Assignment]:
    """The current assignments that reach this recording: to it, or to its incident."""
    reach = Q(recording=recording)
    if recording.incident_id is not None:
        reach |= Q(incident_id=recording.incident_id)
    return Assignment.objects.filter(reach, ended_at__isnull=True)


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def recording_access_view(request: HttpRequest, recording_id: int) -> HttpResponse:
    """Who may see this recording: its access class, assignments and shares, and forms to
    change them. Every change goes through overt.access.grants (so into the custody log)
    and redirects back here; bad input re-renders the page with 400 and changes nothing."""
    try:
        require(request.user, Capability.MANAGE_ACCESS)
    except AccessDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    recording = get_object_or_404(
        visible_recordings(request.user, Recording.objects.select_related("officer", "incident")),
        pk=recording_id,
    )
    current = (
        AccessClass.objects.filter(recording=recording).prefetch_related("members__user").first()
    )
    members = list(current.members.all()) if current else []
    class_users = sorted(m.user.get_username() for m in members if m.user is not None)
    class_roles = sorted(m.role for m in members if m.role)
    initial = (
        {"level": current.level, "users": class_users, "roles": class_roles} if current else {}
    )
    forms: dict[str, Form] = {
        "classify": AccessClassForm(prefix="class", by=request.user, initial=initial),
        "declassify": ClearAccessClassForm(prefix="clear"),
        "assign": AssignForm(prefix="assign", recording=recording),
        "share": ShareForm(prefix="share"),
    }
    problem, status = "", 200
    if request.method == "POST":
        status = 400
        which = request.POST.get("form", "")
        by, client = Actor("user", request.user.get_username()), client_of(request)
        done = ""
        form: Form
        try:
            if which == "classify":
                form = forms[which] = AccessClassForm(request.POST, prefix="class", by=request.user)
                if form.is_valid():
                    data = form.cleaned_data
                    set_access_class(
                        recording,
                        data["level"],
                        by=by,
                        users=data["users"],
                        roles=data["roles"],
                        reason=data["reason"],
                        client=client,
                    )
                    if not visible_recordings(request.user).filter(pk=recording.pk).exists():
                        return redirect("library")  # as asked: this page is now closed to them
                    done = f"This recording is now {data['level']}."
            elif which == "declassify":
                form = forms[which] = ClearAccessClassForm(request.POST, prefix="clear")
                if form.is_valid():
                    if current is None:
                        problem = "This recording has no access class to clear."
                    else:
                        clear_access_class(
                            recording, by=by, reason=form.cleaned_data["reason"], client=client
                        )
                        done = "The access class is cleared."
            elif which == "assign":
                form = forms[which] = AssignForm(request.POST, prefix="assign", recording=recording)
                if form.is_valid():
                    data = form.cleaned_data
                    to_incident = data["target"] == "incident"
                    assign(
                        data["username"],
                        by=by,
                        recording=None if to_incident else recording,
                        incident=recording.incident if to_incident else None,
                        reason=data["reason"],
                        client=client,
                    )
                    done = f"{data['username'].get_username()} is assigned."
            elif which == "end-assignment":
                with transaction.atomic():
                    row = (
                        _assignments(recording)
                        .select_for_update()
                        # No number gives pk=None, which matches no row.
                        .filter(pk=_int(request.POST.get("assignment")))  # type: ignore[misc]
                        .first()
                    )
                    if row is None:
                        problem = "That assignment has ended already, or is not on this recording."
                    else:
                        end_assignment(row, by=by, client=client)
                        done = f"The assignment of {row.user.get_username()} has ended."
            elif which == "share":
                form = forms[which] = ShareForm(request.POST, prefix="share")
                if form.is_valid():
                    data = form.cleaned_data
                    share(
                        recording,
                        data["username"],
                        expires_at=data["expires_at"],
                        by=by,
                        reason=data["reason"],
                        client=client,
                    )
                    done = (
                        f"Shared with {data['username'].get_username()} until "
                        f"{_when(data['expires_at'])}."
                    )
            elif which == "revoke-share":
                with transaction.atomic():
                    share_id = _int(request.POST.get("share"))
                    shared = (
                        Share.active()
                        .select_for_update()
                        .filter(recording=recording, pk=share_id)  # type: ignore[misc]  # as above
                        .first()
                    )
                    if shared is None:
                        problem = "That share has ended already, or is not on this recording."
                    else:
                        revoke_share(shared, by=by, client=client)
                        done = f"The share with {shared.grantee.get_username()} is revoked."
            else:
                problem = "Choose what to change."
        except GrantError as exc:
            problem = str(exc)
        if done:
            messages.success(request, done)
            return redirect("recording-access", recording_id=recording.pk)
    errors = [
        (field.auto_id, error)
        for form in forms.values()
        if form.is_bound
        for field in form
        for error in field.errors
    ]
    context = {
        "recording": recording,
        "access_class": current,
        "class_users": class_users,
        "class_roles": class_roles,
        "assignments": _assignments(recording)
        .select_related("user", "incident")
        .order_by("created_at", "pk"),
        "shares": Share.active()
        .filter(recording=recording)
        .select_related("grantee")
        .order_by("expires_at", "pk"),
        "forms": forms,
        "errors": errors,
        "problem": problem,
        "nav": "library",
    }
    return render(request, "access/recording_access.html", context, status=status)
