"""Demo case and shares (issue 17): a case built from two incidents by the evidence
officer, the demo prosecutor put on it, and an outside share to a defence solicitor whose
link and code are printed once, so the whole journey can be tried in a browser."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from overt.cases.models import Case
from overt.evidence.models import Recording

REFERENCE = "01MP0123426"


def seed_cases(progress: Callable[[str], None]) -> None:
    from overt.cases import items, services, sharing

    users = get_user_model().objects
    officer = users.filter(username="evidence").first()
    if officer is None or Case.objects.filter(reference=REFERENCE).exists():
        return
    case = services.create_case(
        officer, REFERENCE, "Armed deployment and domestic, Pimlico", disclosure_officer="evidence"
    )
    chosen: list[Recording] = []
    with_incident = Recording.objects.exclude(incident=None).order_by("trigger_on_at")
    incidents = list(dict.fromkeys(with_incident.values_list("incident", flat=True)))[:2]
    for incident in incidents:
        chosen += list(with_incident.filter(incident=incident)[:2])
    items.add_recordings(officer, case, [r.pk for r in chosen])
    if users.filter(username="cps.shah").exists():
        services.add_member(
            officer, case, "cps.shah", "prosecutor", expires_at=timezone.now() + timedelta(days=30)
        )
    made = sharing.create_share(
        officer,
        case=case.pk,
        recipient_name="Alex Carter",
        recipient_organisation="Carter & Co Solicitors (defence)",
        recipient_email="alex.carter@defence.example",
        expires_at=timezone.now() + timedelta(days=14),
        allow_download=True,
    )
    progress(f"case {REFERENCE}: {len(chosen)} recordings from two incidents, shared with cps.shah")
    progress(f"outside share to the defence: {made.url}  code {made.code} (shown only now)")
