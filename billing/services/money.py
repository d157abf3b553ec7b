"""Pure money arithmetic: integer yen, Decimal USD, explicit rounding.

Nothing here touches the database. Order of operations (reference §2.6, STYLE §2.11):
sum exact USD per invoice → convert once → round to yen once → add JPY lines (plan
fee, adjustments) → consumption tax once per tax-rate group, never per line.

Negative amounts (credit notes, negative late-usage deltas) are rounded on their
magnitude and the sign is put back, so a credit note mirrors its invoice to the yen.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

FLOOR = "floor"
CEIL = "ceil"
HALF_UP = "half_up"
ROUNDING_MODES = {FLOOR: ROUND_FLOOR, CEIL: ROUND_CEILING, HALF_UP: ROUND_HALF_UP}

YEN = Decimal("1")
USD_Q = Decimal("0.00000001")  # storage precision of USD amounts (8 dp)


def to_yen(amount: Decimal, mode: str) -> int:
    """Round a Decimal yen amount to whole yen with ``mode`` (on its magnitude)."""
    if mode not in ROUNDING_MODES:
        raise ValueError(f"unknown rounding mode {mode!r}")
    sign = -1 if amount < 0 else 1
    return sign * int(abs(amount).quantize(YEN, rounding=ROUNDING_MODES[mode]))


def convert_usd(usd_total: Decimal, rate: Decimal, mode: str) -> int:
    """Convert an exact USD subtotal to yen once and round once."""
    return to_yen(usd_total * rate, mode)


def tax_for_group(net_jpy: int, rate_percent: int, mode: str) -> int:
    """Consumption tax of one rate group (tax-exclusive total × rate), rounded once."""
    return to_yen(Decimal(net_jpy) * Decimal(rate_percent) / Decimal(100), mode)


@dataclass(frozen=True)
class TaxTotals:
    groups: tuple[tuple[int, int, int], ...]  # (rate_percent, net_jpy, tax_jpy)
    net_jpy: int
    tax_jpy: int
    total_jpy: int


def tax_totals(lines: Iterable[tuple[int, int]], mode: str) -> TaxTotals:
    """Group ``(rate_percent, amount_jpy)`` pairs by rate; tax once per group."""
    nets: dict[int, int] = {}
    for rate, amount in lines:
        nets[rate] = nets.get(rate, 0) + int(amount)
    groups = tuple(
        (rate, net, tax_for_group(net, rate, mode))
        for rate, net in sorted(nets.items(), reverse=True)
    )
    net = sum(g[1] for g in groups)
    tax = sum(g[2] for g in groups)
    return TaxTotals(groups=groups, net_jpy=net, tax_jpy=tax, total_jpy=net + tax)


def usage_usd(
    emails: int, megabytes: Decimal, email_price: Decimal, mb_price: Decimal
) -> tuple[Decimal, Decimal]:
    """Exact USD of the two ACS meters (no rounding; quantities × unit prices)."""
    return Decimal(emails) * email_price, Decimal(megabytes) * mb_price


def days_in_month(period: date) -> int:
    return calendar.monthrange(period.year, period.month)[1]


def prorate_fee(fee_jpy: int, days: int, month_days: int, mode: str) -> int:
    """Plan fee for ``days`` of a ``month_days`` month, rounded once with ``mode``."""
    if days >= month_days:
        return fee_jpy
    return to_yen(Decimal(fee_jpy) * Decimal(days) / Decimal(month_days), mode)


def overage_jpy(excess_emails: int, jpy_per_thousand: int) -> int:
    """JPY overage: every started block of 1,000 emails costs ``jpy_per_thousand``."""
    if excess_emails <= 0:
        return 0
    blocks = -(-excess_emails // 1000)
    return blocks * jpy_per_thousand


def average_rate(rates: Iterable[Decimal]) -> Decimal:
    """Arithmetic mean of rates, kept at 8 dp with half-up (documented on invoice)."""
    values = list(rates)
    if not values:
        raise ValueError("no rates to average")
    return (sum(values, Decimal(0)) / Decimal(len(values))).quantize(
        USD_Q, rounding=ROUND_HALF_UP
    )


def last_business_day(year: int, month: int) -> date:
    """Last JP business day of a month: weekends are off.

    Public holidays are not modelled (no holiday table); add one to skip them too.
    """
    day = date(year, month, calendar.monthrange(year, month)[1])
    while day.weekday() >= 5:
        day = date.fromordinal(day.toordinal() - 1)
    return day


def previous_month(period: date) -> date:
    return (
        date(period.year - 1, 12, 1)
        if period.month == 1
        else date(period.year, period.month - 1, 1)
    )


def next_month(period: date) -> date:
    return (
        date(period.year + 1, 1, 1)
        if period.month == 12
        else date(period.year, period.month + 1, 1)
    )
