"""Sign-in pages (password, TOTP, TOTP enrolment), break-glass, alerts, post-incident, and
a recording's access page (access class, assignments, shares)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from overt.custody.services import Actor, Subject, record_now
from overt.evidence.models import Recording
from overt.web.client_address import client_of

from . import oidc
from .accounts import confirm_totp, totp_to_enrol
from .auth import (
    complete_login,
    first_factor_passed,
    pending_user,
    record_failure,
    refusal,
)
from .forms import (
    AccessClassForm,
    AssignForm,
    BreakGlassForm,
    ClearAccessClassForm,
    LoginForm,
    ReleaseForm,
    ShareForm,
    TokenForm,
)
from .grants import (
    GrantError,
    acknowledge,
    assign,
    break_glass,
    clear_access_class,
    end_assignment,
    release_post_incident,
    revoke_share,
    set_access_class,
    share,
)
from .matrix import Action, Capability
from .models import AccessClass, Alert, Assignment, PostIncidentProcedure, Share
from .services import AccessDenied, allowed, require, visible_recordings

SETUP_KEY = "overt.totp_setup_device"
BAD_LOGIN = "Your username and password did not match. Please try again."


def safe_next(request: HttpRequest, candidate: str | None) -> str:
    """`candidate` if it stays on this site, else the library: no open redirects."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return "/"


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method != "POST" and request.user.is_authenticated:
        return redirect(next_url)
    form = LoginForm(request.POST if request.method == "POST" else None)
    error, status = "", 200
    if request.GET.get("sso") == "failed":
        error = "Single sign-on did not sign you in. " + request.session.pop(
            "overt.sso_message", ""
        )
    elif request.GET.get("sso") == "locked":
        error = "This account is locked after repeated failed sign-ins."
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        refused = refusal(username, client_of(request).address)
        if refused is not None:
            reason = "rate-limited" if refused.status == 429 else "locked"
            record_failure(request, username, reason)
            error, status = refused.message, refused.status
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None:
                lockout = record_failure(request, username, "bad-credentials")
                error = BAD_LOGIN
                if lockout is not None:
                    error += " Too many failures: sign-in is now locked for a while."
            else:
                return redirect(first_factor_passed(request, user, "password", next_url))
    elif request.method == "POST":
        error, status = "Enter your username and password.", 400
    context = {"form": form, "next": next_url, "error": error, "sso": oidc.enabled()}
    return render(request, "access/login.html", context, status=status)


def _second_factor_refused(request: HttpRequest, user) -> HttpResponse | None:  # type: ignore[no-untyped-def]
    refused = refusal(user.get_username(), client_of(request).address)
    if refused is None:
        return None
    record_failure(request, user.get_username(), "locked", "totp")
    request.session.flush()
    return render(
        request,
        "access/login.html",
        {"form": LoginForm(), "next": "/", "error": refused.message, "sso": oidc.enabled()},
        status=refused.status,
    )


@csrf_protect
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def totp_view(request: HttpRequest) -> HttpResponse:
    from django_otp import match_token

    user, pending = pending_user(request)
    if user is None:
        return redirect("login")
    form = TokenForm(request.POST if request.method == "POST" else None)
    error, status = "", 200
    if request.method == "POST":
        stopped = _second_factor_refused(request, user)
        if stopped is not None:
            return stopped
        device = match_token(user, form.data.get("token", "").strip()) if form.is_valid() else None
        if device is not None:
            complete_login(request, user, pending["method"], second_factor="totp", device=device)
            return redirect(safe_next(request, pending.get("next")))
        record_failure(request, user.get_username(), "bad-totp", pending["method"])
        error, status = "That code is not right (or was used already). Try the next one.", 400
    return render(request, "access/totp.html", {"form": form, "error": error}, status=status)


@csrf_protect
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def totp_setup_view(request: HttpRequest) -> HttpResponse:
    import segno
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user, pending = pending_user(request)
    if user is None:
        return redirect("login")
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect("login-totp")  # enrolled already: never show a secret again
    device = totp_to_enrol(user, request.session.get(SETUP_KEY))
    request.session[SETUP_KEY] = device.pk
    form = TokenForm(request.POST if request.method == "POST" else None)
    error, status = "", 200
    if request.method == "POST":
        stopped = _second_factor_refused(request, user)
        if stopped is not None:
            return stopped
        if form.is_valid() and device.verify_token(form.cleaned_data["token"].strip()):
            confirm_totp(user, device, client=client_of(request))
            request.session.pop(SETUP_KEY, None)
            complete_login(request, user, pending["method"], second_factor="totp", device=device)
            return redirect(safe_next(request, pending.get("next")))
        record_failure(request, user.get_username(), "bad-totp", pending["method"])
        error, status = "That code is not right. Check the time on your phone and try again.", 400
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    context = {
        "form": form,
        "error": error,
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "uri": device.config_url,
        "qr": segno.make(device.config_url, error="m").svg_data_uri(scale=4),
    }
    return render(request, "access/totp_setup.html", context, status=status)


# --- break glass, alerts, post-incident release ----------------------------------------


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
                request.user, recording, form.cleaned_data["reason"], client=client_of(request)
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
    rows = PostIncidentProcedure.objects.filter(manager=request.user).select_related("incident")
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


# --- one recording's access: its access class, assignments and shares ------------------


def _when(value) -> str:  # type: ignore[no-untyped-def]
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
        raise _deny(exc) from exc
    recording = get_object_or_404(
        visible_recordings(request.user, Recording.objects.select_related("officer", "incident")),
        pk=recording_id,
    )
    current = (
        AccessClass.objects.filter(recording=recording).prefetch_related("members__user").first()
    )
    members = list(current.members.all()) if current else []
    class_users = sorted(m.user.get_username() for m in members if m.user_id)
    class_roles = sorted(m.role for m in members if m.role)
    initial = (
        {"level": current.level, "users": ", ".join(class_users), "roles": class_roles}
        if current
        else {}
    )
    forms = {
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
                        .filter(pk=_int(request.POST.get("assignment")))
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
                    row = (
                        Share.active()
                        .select_for_update()
                        .filter(recording=recording, pk=_int(request.POST.get("share")))
                        .first()
                    )
                    if row is None:
                        problem = "That share has ended already, or is not on this recording."
                    else:
                        revoke_share(row, by=by, client=client)
                        done = f"The share with {row.grantee.get_username()} is revoked."
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
