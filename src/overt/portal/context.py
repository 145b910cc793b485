"""The template context every page gets: the navigation bar for the signed-in user."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from overt.access.services import role_of

from . import badges, navigation


def _links(request: HttpRequest) -> list[navigation.ShownLink]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    role = role_of(user)
    wanted = {link.badge for link in navigation.visible(navigation.collect(), role) if link.badge}
    return navigation.shown_links(role, request.path, badges.counts(user, wanted))


def portal(request: HttpRequest) -> dict[str, Any]:
    # Lazy: a page that never renders the bar (a JSON view, a redirect) costs nothing.
    return {"nav_links": SimpleLazyObject(lambda: _links(request))}
