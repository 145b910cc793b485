"""/recordings/<id>/release: download an original or export the exhibit package, after
giving a reason. One form serves both, so the reason is asked for exactly once."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from overt.access.services import Action, actions_allowed, justification_categories
from overt.review.forms import JustificationForm
from overt.web.client_address import client_of

from . import services
from .web import attachment


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def release_page(request: HttpRequest, recording_id: int) -> HttpResponseBase:
    client = client_of(request)
    try:
        recording = services.visible_recording(request.user, recording_id)
    except services.NotVisible as exc:
        raise Http404(str(exc)) from exc
    may = actions_allowed(request.user, recording)
    may_download, may_export = Action.DOWNLOAD in may, Action.EXPORT in may
    if not (may_download or may_export):
        try:  # through the access service, so that the refusal is logged like any other
            services.require(request.user, Action.DOWNLOAD, recording, client)
        except services.Refused as exc:
            raise PermissionDenied(str(exc)) from exc
    form = JustificationForm(request.POST or None)
    form.fields[
        "text"
    ].help_text = "Say why this footage is leaving overt; this goes into the custody log."
    status = 200
    problem = ""
    if request.method == "POST":
        if form.is_valid():
            reason = form.cleaned_data
            try:
                if "export" in request.POST:
                    release = services.export_package(
                        request.user, recording.pk, client=client, **reason
                    )
                else:
                    original = _int(request.POST.get("original"))
                    if original is None or not recording.originals.filter(pk=original).exists():
                        raise services.BadReason("choose which original to download")
                    release = services.download_original(
                        request.user, original, client=client, **reason
                    )
            except services.ReleaseError as exc:
                status, problem = exc.status, str(exc)
            else:
                return attachment(request, release)
        else:
            status = 400
    context = {
        "recording": recording,
        "originals": list(recording.originals.order_by("started_at", "pk")),
        "form": form,
        "reasons": justification_categories(),
        "may_download": may_download,
        "may_export": may_export,
        "problem": problem,
        "nav": "library",
    }
    return render(request, "disclosure/release.html", context, status=status)


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None
