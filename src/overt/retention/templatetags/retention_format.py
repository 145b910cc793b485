"""Formatting filters for the retention page."""

from __future__ import annotations

from datetime import datetime

from django import template

from overt.retention.common import iso

register = template.Library()


@register.filter
def utc_iso(value: datetime | None) -> str:
    """A time as overt writes it in JSON (UTC, trailing Z); empty for none."""
    return iso(value) or ""
