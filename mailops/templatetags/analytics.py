"""Filters of the delivery analytics pages (numbers, rates, status lookups)."""

from __future__ import annotations

from typing import Any

from django import template

from mailops.analytics.selectors import Counts
from mailops.models import RecipientDomainClass

register = template.Library()
_CLASS_LABELS = dict(RecipientDomainClass.choices)


@register.filter
def num(value: int | None) -> str:
    """12345 → "12,345" (the same in Japanese); None → "—"."""
    return "—" if value is None else f"{int(value):,}"


@register.filter
def pct(value: float | None) -> str:
    """Percent with one decimal; None (no traffic) → "—"."""
    return "—" if value is None else f"{value:.1f}%"


@register.filter
def get(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key, key)


@register.filter
def count(counts: Counts, status: str) -> int:
    return counts.get(status)


@register.filter
def rate(counts: Counts, status: str) -> float | None:
    return counts.rate(status)


@register.filter
def domain_class(value: str) -> str:
    return str(_CLASS_LABELS.get(value, value or "—"))


@register.filter
def status_class(status: str) -> str:
    """CSS class of a status badge: delivered, in progress, or a problem."""
    from mailops.analytics.selectors import FAILED, canonical_status

    canonical = canonical_status(status)
    if canonical == "Delivered":
        return "state-ok"
    return "state-bad" if canonical in FAILED else "state-wait"
