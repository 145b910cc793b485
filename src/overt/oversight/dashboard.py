"""The figures the oversight dashboards draw, read from the stored verdicts and the
catalogue: a few aggregate queries, so a page costs milliseconds once compliance ran."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse

from overt.evidence.models import Derivative, Original, Recording

from . import complaints, supervision
from .models import Verdict
from .svg import Bar, bar_chart, percent

STATUS_COUNTS = {
    "total": Count("id"),
    "recorded": Count("id", filter=Q(status="recorded")),
    "late": Count("id", filter=Q(status="late")),
    "early_stop": Count("id", filter=Q(status="early-stop")),
    "gaps": Count("id", filter=Q(status="gaps")),
    "no_footage": Count("id", filter=Q(status="no-footage")),
}


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


def grouped(filters: Filters, by: str) -> list[dict[str, Any]]:
    rows = filters.verdicts().values(by).annotate(**STATUS_COUNTS).order_by(by)
    out = []
    for row in rows:
        total = row["total"]
        row["compliance_rate"] = row["recorded"] / total if total else None
        out.append(row)
    return out


def charts(filters: Filters) -> dict[str, str]:
    by_borough = grouped(filters, "borough")
    by_month = grouped(filters, "month")

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
        "review_backlog": supervision.backlog(),
        "complaints": complaints.figures(),
    }


def retention_due(days: int = 30) -> int:
    """Recordings falling due for recycling or purge within `days` (the retention stage's
    own calculation)."""
    from overt.retention.services import upcoming

    return len(upcoming(datetime.now(UTC), days=days))


def months_available() -> list[str]:
    return list(Verdict.objects.values_list("month", flat=True).distinct().order_by("-month"))


def boroughs_available() -> list[str]:
    return list(Verdict.objects.values_list("borough", flat=True).distinct().order_by("borough"))


def computed_at() -> datetime | None:
    latest = Verdict.objects.order_by("-computed_at").values_list("computed_at", flat=True).first()
    return latest
