"""The admin's pages: users and their roles (add, change role, disable, reset TOTP,
unlock) and API tokens (create, shown once; revoke). Each calls the service the
`overt user` and `overt token` commands call, so the custody entries are the same."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from overt.custody.services import Actor
from overt.errors import Conflict

from ..accounts import add_user, disable_user, reset_totp
from ..auth import unlock
from ..grants import GrantError, create_token, revoke_token, set_role
from ..matrix import Capability
from ..models import ApiToken, Lockout, UserProfile
from ..people_forms import AddUserForm, RoleFields, TokenForm
from ..services import AccessDenied, require


def _require(request: HttpRequest, what: Capability) -> Actor:
    try:
        require(request.user, what)
    except AccessDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    return Actor("user", request.user.get_username())


def _user_rows() -> list[dict[str, Any]]:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    profiles = {p.user_id: p for p in UserProfile.objects.select_related("officer")}
    totp = set(TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))
    locked = set(
        Lockout.objects.filter(until__gt=timezone.now(), cleared_at__isnull=True)
        .exclude(username="")
        .values_list("username", flat=True)
    )
    rows = []
    for user in get_user_model().objects.order_by("username"):
        profile = profiles.get(user.pk)
        rows.append(
            {
                "user": user,
                "role": profile.role if profile else "",
                "officer": profile.officer if profile else None,
                "team": profile.team if profile else "",
                "totp": user.pk in totp,
                "locked": user.get_username() in locked,
            }
        )
    return rows


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def users_page(request: HttpRequest) -> HttpResponse:
    actor = _require(request, Capability.MANAGE_USERS)
    form = AddUserForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                add_user(
                    form.cleaned_data["username"],
                    role=form.cleaned_data["role"],
                    by=actor,
                    email=form.cleaned_data.get("email") or "",
                    password=form.cleaned_data.get("password") or None,
                    officer=form.officer_row(),
                    team=form.cleaned_data.get("team") or "",
                )
            except (GrantError, Conflict) as exc:  # nothing was written: one transaction
                form.add_error(None, str(exc))
            else:
                return redirect("access-users")
        status = 400
    context = {"form": form, "rows": _user_rows(), "role_form": RoleFields()}
    return render(request, "access/users.html", context, status=status)


ACTIONS = {"disable", "reset-totp", "unlock", "role"}


@login_required
@require_POST
def user_action(request: HttpRequest, user_id: int, action: str) -> HttpResponse:
    actor = _require(request, Capability.MANAGE_USERS)
    user = get_object_or_404(get_user_model(), pk=user_id)
    if action == "disable":
        disable_user(user, by=actor)
    elif action == "reset-totp":
        reset_totp(user, by=actor)
    elif action == "unlock":
        unlock(user.get_username(), by=actor)
    elif action == "role":
        form = RoleFields(request.POST)
        try:
            if form.is_valid():
                set_role(
                    user,
                    form.cleaned_data["role"],
                    by=actor,
                    officer=form.officer_row(),
                    team=form.cleaned_data.get("team") or "",
                )
        except GrantError as exc:
            form.add_error(None, str(exc))
        if not form.is_valid():
            context = {
                "form": AddUserForm(),
                "rows": _user_rows(),
                "role_form": form,
                "role_for": user,
            }
            return render(request, "access/users.html", context, status=400)
    else:
        raise PermissionDenied("unknown action")
    return redirect("access-users")


@never_cache  # the page that shows a new token must never be kept by a cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def tokens_page(request: HttpRequest) -> HttpResponse:
    actor = _require(request, Capability.MANAGE_TOKENS)
    form = TokenForm(request.POST if request.method == "POST" else None)
    created, text, status, error = None, "", 200, ""
    if request.method == "POST":
        if form.is_valid():
            user = get_object_or_404(get_user_model(), username=form.cleaned_data["user"])
            try:
                created, text = create_token(
                    user,
                    form.cleaned_data["name"],
                    form.cleaned_data["scopes"],
                    by=actor,
                    expires_at=form.expires_at(),
                )
            except GrantError as exc:
                error, status = str(exc), 400
            else:
                form = TokenForm()
        else:
            status = 400
    tokens = ApiToken.objects.select_related("user").order_by("-created_at")[:200]
    context = {
        "form": form,
        "tokens": tokens,
        "created": created,
        "text": text,
        "error": error,
        "now": timezone.now(),
    }
    return render(request, "access/tokens.html", context, status=status)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    actor = _require(request, Capability.MANAGE_TOKENS)
    row = get_object_or_404(ApiToken, pk=token_id)
    try:
        revoke_token(row, by=actor)
    except GrantError:
        pass  # revoked already: nothing to do
    return redirect("access-tokens")
