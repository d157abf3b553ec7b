"""Formatting for money and dates the way Japanese business documents show them."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


def format_yen(amount: int) -> str:
    """Integer yen as ``¥38,030`` (``-¥1,000`` for negatives). Refuses fractions."""
    if isinstance(amount, Decimal):
        if amount != amount.to_integral_value():
            raise ValueError("yen amounts are whole numbers")
        amount = int(amount)
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError("yen amounts are integers")
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,}"


@register.filter
def yen(amount: int | None) -> str:
    if amount is None or amount == "":
        return ""
    return format_yen(amount)


@register.filter
def summary(data: dict[str, object] | None) -> str:
    """A before/after dict as ``key: value`` pairs for the audit table."""
    if not data:
        return ""
    return ", ".join(f"{key}: {value}" for key, value in data.items())
