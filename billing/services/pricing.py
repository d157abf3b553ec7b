"""Effective-dated prices, FX rate policies and plan segments (reads only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from billing.models import (
    Contract,
    FxRate,
    Plan,
    PlanAssignment,
    PriceVersion,
    RateType,
)
from billing.services import money
from tenants.models import Customer

RATE_TYPE_LABELS = {
    RateType.TTM: "TTM",
    RateType.TTS: "TTS",
    RateType.TTB: "TTB",
    RateType.MICROSOFT_MONTHLY: "Microsoft monthly",
    RateType.FIXED: "fixed",
}


class BillingDataMissing(Exception):
    """A price, FX rate or plan needed for the computation is not entered."""


@dataclass(frozen=True)
class AppliedRate:
    rate: Decimal
    rate_type: str
    rate_date: date
    source: str


def month_end(period: date) -> date:
    return money.next_month(period) - timedelta(days=1)


@dataclass
class Prefetched:
    """Rows a bulk close reads once instead of once per tenant."""

    versions: list[PriceVersion]
    plans: dict[str, Plan]
    assignments: dict[int, list[PlanAssignment]]
    rates: dict[tuple, AppliedRate] = field(default_factory=dict)

    @classmethod
    def load(cls, tenant_ids: list[int]) -> Prefetched:
        assignments: dict[int, list[PlanAssignment]] = {}
        for a in (
            PlanAssignment.objects.filter(tenant_id__in=tenant_ids)
            .select_related("plan")
            .order_by("effective_from")
        ):
            assignments.setdefault(a.tenant_id, []).append(a)
        return cls(
            versions=list(PriceVersion.objects.order_by("effective_from")),
            plans={p.code: p for p in Plan.objects.all()},
            assignments=assignments,
        )


def price_segments(
    start: date, end: date, versions: list[PriceVersion] | None = None
) -> list[tuple[date, date, PriceVersion]]:
    """Consecutive (first, last, version) ranges covering ``start``..``end``."""
    if versions is None:
        versions = list(
            PriceVersion.objects.filter(effective_from__lte=end).order_by(
                "effective_from"
            )
        )
    else:
        versions = [v for v in versions if v.effective_from <= end]
    segments: list[tuple[date, date, PriceVersion]] = []
    for i, version in enumerate(versions):
        seg_start = max(start, version.effective_from)
        nxt = versions[i + 1].effective_from if i + 1 < len(versions) else None
        seg_end = end if nxt is None else min(end, nxt - timedelta(days=1))
        if seg_start <= seg_end:
            segments.append((seg_start, seg_end, version))
    if not segments or segments[0][0] != start:
        raise BillingDataMissing(f"no ACS price effective on {start}")
    return segments


def price_on(day: date, versions: list[PriceVersion] | None = None) -> PriceVersion:
    return price_segments(day, day, versions)[0][2]


def default_contract(tenant: Customer, *, stored: bool = True) -> Contract:
    """The stored contract, or the default terms (unsaved) when none was entered.

    ``stored=False`` skips the lookup (the caller already knows there is none).
    """
    contract = getattr(tenant, "_billing_contract_cache", None)
    if contract is not None:
        return contract
    contract = Contract.objects.filter(tenant=tenant).first() if stored else None
    if contract is None:
        contract = Contract(
            tenant=tenant,
            start_date=date(2000, 1, 1),
            fx_policy=Contract.FxPolicy.PREV_MONTH_END,
            fx_rate_type=RateType.TTM,
        )
    return contract


def applied_rate(contract: Contract, period: date) -> AppliedRate:
    """The FX rate the contract's policy gives for the service month ``period``."""
    label = RATE_TYPE_LABELS.get(contract.fx_rate_type, contract.fx_rate_type)
    if contract.fx_policy == Contract.FxPolicy.FIXED:
        if contract.fixed_rate is None:
            raise BillingDataMissing("fixed-rate contract without a rate")
        return AppliedRate(
            contract.fixed_rate, "fixed", contract.start_date, "contract"
        )
    if contract.fx_policy == Contract.FxPolicy.MONTH_AVERAGE:
        rates = list(
            FxRate.objects.filter(
                rate_type=contract.fx_rate_type,
                date__gte=period,
                date__lte=month_end(period),
            ).order_by("date")
        )
        if not rates:
            raise BillingDataMissing(f"no {label} rates in {period:%Y-%m}")
        sources = sorted({r.source for r in rates})
        return AppliedRate(
            money.average_rate(r.rate for r in rates),
            f"{label} month average ({len(rates)} days)",
            rates[-1].date,
            ", ".join(sources),
        )
    prev = money.previous_month(period)
    target = money.last_business_day(prev.year, prev.month)
    rate = (
        FxRate.objects.filter(rate_type=contract.fx_rate_type, date__lte=target)
        .order_by("-date", "-created_at")
        .first()
    )
    if rate is None:
        raise BillingDataMissing(f"no {label} rate on or before {target}")
    return AppliedRate(rate.rate, label, rate.date, rate.source)


def plan_by_code(code: str, plans: dict[str, Plan] | None = None) -> Plan:
    if plans is not None:
        plan = plans.get(code)
    else:
        plan = Plan.objects.filter(code=code).first()
    if plan is None:
        raise BillingDataMissing(f"no plan {code!r}")
    return plan


def plan_segments(
    tenant: Customer,
    period: date,
    start_date: date | None = None,
    prefetched: Prefetched | None = None,
) -> list[tuple[Plan, int]]:
    """(plan, billed days) for the month, in order.

    A change to a plan whose ``change_mode`` is ``next_month`` applies from the first
    of the following month; a ``prorate`` change applies from its day. Days before the
    contract start are not billed.
    """
    end = month_end(period)
    assignments = list(
        PlanAssignment.objects.filter(tenant=tenant, effective_from__lte=end)
        .select_related("plan")
        .order_by("effective_from")
    )
    if not assignments:
        timeline: list[tuple[date, Plan]] = [
            (date(2000, 1, 1), plan_by_code(tenant.plan))
        ]
    else:
        timeline = []
        for a in assignments:
            effective = a.effective_from
            if (
                a.plan.change_mode == Plan.ChangeMode.NEXT_MONTH
                and effective.day != 1
                and timeline
            ):
                effective = money.next_month(effective.replace(day=1))
            timeline.append((effective, a.plan))
        timeline.sort(key=lambda item: item[0])
    segments: list[tuple[Plan, int]] = []
    day = period
    while day <= end:
        current = None
        for effective, plan in timeline:
            if effective <= day:
                current = plan
        billable = current is not None and (start_date is None or day >= start_date)
        if billable:
            if segments and segments[-1][0].pk == current.pk:
                segments[-1] = (current, segments[-1][1] + 1)
            else:
                segments.append((current, 1))
        day += timedelta(days=1)
    return segments
