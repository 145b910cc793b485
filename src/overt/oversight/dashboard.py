"""The figures the oversight dashboards draw. Each compliance run ends with a snapshot
(verdict counts by borough, team, month and status; the catalogue's totals), so a page
reads one row and draws; the review backlog and complaint figures, small tables, are
read live. The drill-down reads the stored verdicts themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse

from overt.evidence.models import Derivative, Original, Recording

from .models import Snapshot, Verdict
from .svg import Bar, bar_chart, percent

COUNTED = {"recorded": "recorded", "late": "late", "early-stop": "early_stop", "gaps": "gaps"}
COUNTED["no-footage"] = "no_footage"


def take_snapshot() -> Snapshot:
    """Count the stored verdicts and the catalogue once (after a compliance run), so each
    dashboard page reads one row; older snapshots are removed."""
    counts = [
        [r["borough"], r["team"], r["month"], r["status"], r["n"], r["muted"]]
        for r in Verdict.objects.values("borough", "team", "month", "status")
        .annotate(n=Count("id"), muted=Count("id", filter=Q(muted_audio=True)))
        .order_by()
    ]
    made = Snapshot.objects.create(
        computed_at=datetime.now(UTC), counts=counts, catalogue=catalogue_figures()
    )
    Snapshot.objects.exclude(pk=made.pk).delete()
    return made


def latest() -> Snapshot | None:
    return Snapshot.objects.order_by("-computed_at", "-id").first()


@dataclass(frozen=True)
class Filters:
    borough: str = ""
    month: str = ""

    def verdicts(self) -> QuerySet[Verdict]:
        query = Verdict.objects.all()
        if self.borough:
            query = query.filter(borough=self.borough)
        if self.month:
            query = query.filter(month=self.month)
        return query

    def drill(self, **more: str) -> str:
        params = {
            k: v for k, v in {"borough": self.borough, "month": self.month, **more}.items() if v
        }
        return reverse("oversight-attendances") + "?" + urlencode(params)


def grouped(filters: Filters, by: str, snapshot: Snapshot | None) -> list[dict[str, Any]]:
    """Status counts per borough, team or month, from the snapshot, within the filters."""
    position = {"borough": 0, "team": 1, "month": 2}[by]
    groups: dict[str, dict[str, Any]] = {}
    for row in snapshot.counts if snapshot else []:
        if (filters.borough and row[0] != filters.borough) or (
            filters.month and row[2] != filters.month
        ):
            continue
        group = groups.setdefault(
            row[position], {by: row[position], "total": 0, **dict.fromkeys(COUNTED.values(), 0)}
        )
        group["total"] += row[4]
        group[COUNTED[row[3]]] += row[4]
    out = []
    for name in sorted(groups):
        group = groups[name]
        group["compliance_rate"] = group["recorded"] / group["total"] if group["total"] else None
        out.append(group)
    return out


def charts(
    filters: Filters, by_borough: list[dict[str, Any]], by_month: list[dict[str, Any]]
) -> dict[str, str]:

    def rate_bars(rows: list[dict[str, Any]], by: str) -> list[Bar]:
        return [
            Bar(
                r[by],
                r["compliance_rate"] or 0.0,
                percent(r["compliance_rate"]),
                filters.drill(**{by: r[by]}),
            )
            for r in rows
        ]

    def count_bars(rows: list[dict[str, Any]], by: str, key: str, status: str) -> list[Bar]:
        return [
            Bar(r[by], r[key], str(r[key]), filters.drill(**{by: r[by], "status": status}))
            for r in rows
        ]

    return {
        "compliance_by_borough": bar_chart(
            "Recorded from the outset, by borough", rate_bars(by_borough, "borough"), maximum=1.0
        ),
        "compliance_by_month": bar_chart(
            "Recorded from the outset, by month", rate_bars(by_month, "month"), maximum=1.0
        ),
        "late_by_borough": bar_chart(
            "Late activations, by borough", count_bars(by_borough, "borough", "late", "late")
        ),
        "no_footage_by_borough": bar_chart(
            "Attendances with no footage, by borough",
            count_bars(by_borough, "borough", "no_footage", "no-footage"),
        ),
    }


def catalogue_figures() -> dict[str, Any]:
    recordings = Recording.objects.count()
    categorised = Recording.objects.filter(categories__isnull=False).values("pk").distinct().count()
    stored = (Original.objects.aggregate(n=Sum("size"))["n"] or 0) + (
        Derivative.objects.aggregate(n=Sum("size"))["n"] or 0
    )
    return {
        "recordings": recordings,
        "categorised": categorised,
        "categorisation_rate": categorised / recordings if recordings else None,
        "storage_bytes": stored,
    }


def retention_due(days: int = 30) -> int:
    """Recordings falling due for recycling or purge within `days` (the retention stage's
    own calculation)."""
    from overt.retention.services import upcoming

    return len(upcoming(datetime.now(UTC), days=days))


def months_available(snapshot: Snapshot | None) -> list[str]:
    return sorted({row[2] for row in snapshot.counts}, reverse=True) if snapshot else []


def boroughs_available(snapshot: Snapshot | None) -> list[str]:
    return sorted({row[0] for row in snapshot.counts}) if snapshot else []
