"""Each role's home page: the landing page after sign-in."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from overt.access.matrix import ROLE_DESCRIPTIONS, Role
from overt.access.services import role_of

from ..homes import home_for


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    kind, data = home_for(request.user)
    role = role_of(request.user)
    context = {
        "kind": kind,
        "data": data,
        "role": role.value if role else "",
        "role_description": ROLE_DESCRIPTIONS.get(role, "") if role else "",
        "is_prosecutor": role == Role.PROSECUTOR,
    }
    return render(request, f"portal/home_{kind}.html", context)
