"""A reviewer's saved library searches."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from overt.evidence.catalogue import (
    text_problem,
)

from ..models import SavedSearch

MAX_SAVED_SEARCHES = 50


# --- saved searches -----------------------------------------------------------------------


def saved_searches(request: HttpRequest) -> dict[str, Any]:
    query = request.GET.copy()
    query.pop("page", None)
    return {
        # Only the library page (login_required) asks, so request.user is a User.
        "saved_searches": list(
            SavedSearch.objects.filter(owner=request.user)[:MAX_SAVED_SEARCHES]  # type: ignore[misc]
        ),
        "current_query": query.urlencode(),
    }


@login_required
@require_POST
def save_search(request: HttpRequest) -> HttpResponse:
    """Keep the library's current query under a name (the same name replaces it)."""
    name = request.POST.get("name", "").strip()[:100]
    query = QueryDict(request.POST.get("query", "")[:2000]).copy()
    query.pop("page", None)
    if (problem := text_problem(name)) is not None:  # PostgreSQL refuses NUL in text
        return HttpResponse(f"The name {problem}.", status=400, content_type="text/plain")
    if not name:
        return redirect(f"{reverse('library')}?{query.urlencode()}")
    if SavedSearch.objects.filter(owner=request.user).count() >= MAX_SAVED_SEARCHES:  # type: ignore[misc]  # login_required: a User
        return HttpResponse(
            f"You have {MAX_SAVED_SEARCHES} saved searches; delete one first.", status=400
        )
    try:
        with transaction.atomic():
            SavedSearch.objects.update_or_create(
                owner=request.user,  # type: ignore[misc]  # login_required: a User
                name=name,
                defaults={"query": query.urlencode()},
            )
    except IntegrityError:  # a concurrent save of the same name won
        pass
    return redirect(f"{reverse('library')}?{query.urlencode()}")


@login_required
@require_POST
def delete_search(request: HttpRequest, search_id: int) -> HttpResponse:
    get_object_or_404(SavedSearch, pk=search_id, owner=request.user).delete()
    return redirect("library")
