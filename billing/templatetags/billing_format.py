"""Template filters: ``{{ amount|yen }}`` → ¥38,030, ``{{ usd|usd }}`` → $30.288,
``{{ value|exact }}`` → 2,400 (exact Decimal, thousands separators)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from billing.formatting import format_decimal, format_jpy, format_usd

register = template.Library()


@register.filter
def yen(value: int | None) -> str:
    return "" if value is None else format_jpy(int(value))


@register.filter
def usd(value: Decimal | None) -> str:
    return "" if value is None else format_usd(Decimal(value))


@register.filter
def exact(value: Decimal | int | None) -> str:
    return "" if value is None else format_decimal(Decimal(value))
