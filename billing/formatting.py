"""Display formatting of money, rates and dates (pure; no rounding of money).

Shared by the PDF renderer and the templates (``billing_format`` filters) so
a yen amount looks the same everywhere. These only *format* already computed
values: Decimals are printed exactly, never re-rounded below their digits.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal


def format_jpy(amount: int) -> str:
    """``38030`` → ``"¥38,030"``; negatives as ``"-¥1,000"``."""
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,}"


def format_decimal(value: Decimal, min_places: int = 0) -> str:
    """Exact decimal with thousands separators and no trailing zeros.

    Keeps at least ``min_places`` decimals (USD amounts show cents) but never
    drops significant digits: ``30.288`` stays ``30.288``.
    """
    normal = value.normalize()
    exponent = normal.as_tuple().exponent
    if isinstance(exponent, int) and -exponent < min_places:
        normal = value.quantize(Decimal(1).scaleb(-min_places))
    return format(normal, ",f")


def format_usd(value: Decimal) -> str:
    """``Decimal("30.288")`` → ``"$30.288"``; ``30`` → ``"$30.00"``."""
    sign = "-" if value < 0 else ""
    return f"{sign}${format_decimal(abs(value), 2)}"


def format_rate(rate: Decimal) -> str:
    """Tax rate fraction → percent: ``Decimal("0.10")`` → ``"10%"``."""
    return f"{format_decimal(rate * 100)}%"


def format_date_ja(value: date) -> str:
    """``date(2025, 4, 1)`` → ``"2025年4月1日"`` (Gregorian, as 電帳法 asks)."""
    return f"{value.year}年{value.month}月{value.day}日"
