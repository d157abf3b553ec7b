"""Month close: provisional (draft) invoices for every active tenant from UsageDay.

Idempotent: a re-run replaces the drafts of the month (keeping staff adjustment
lines) and never touches final documents. Usage is read from the public-schema
ledger only; tenant schemas are never opened.

Usage accounting: every usage line records the raw quantity of a (usage month,
meter) it accounts for (``covered_quantity``) and what final documents had already
billed for it (``billed_before``). Finalizing appends ``BilledUsage`` rows, so the
next close bills only the difference (late usage) — never lost, never twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from billing.models import (
    BilledUsage,
    CloseRun,
    Invoice,
    InvoiceLine,
    IssuerSettings,
    Plan,
    PriceVersion,
    UsageDay,
)
from billing.services import money, pricing
from billing.services.pricing import AppliedRate, BillingDataMissing
from tenants.accounts.audit import AuditContext, audit_record
from tenants.models import Customer

EMAILS = InvoiceLine.Meter.EMAILS
MEGABYTES = InvoiceLine.Meter.MEGABYTES
LATE_USAGE_LOOKBACK_MONTHS = 12
CLOSE_LOCK_BASE = 0x6B696C6C0000  # advisory lock namespace of month closes


@dataclass
class LineSpec:
    kind: str
    description: str
    quantity: Decimal = Decimal("1")
    unit: str = "式"
    amount_jpy: int = 0
    unit_price_usd: Decimal | None = None
    amount_usd: Decimal | None = None
    meter: str = ""
    usage_month: date | None = None
    covered_quantity: Decimal | None = None
    billed_before: Decimal | None = None
    tax_rate_percent: int = 10
    reason: str = ""
    added_by: str = ""


@dataclass
class Computation:
    """A computed invoice, not yet stored (also the running estimate)."""

    tenant: Customer
    period: date
    rate: AppliedRate | None
    lines: list[LineSpec]
    plan_code: str
    fx_rounding: str
    tax_rounding: str
    usage_usd: Decimal = Decimal("0")
    usage_jpy: int = 0
    groups: tuple[tuple[int, int, int], ...] = ()
    net_jpy: int = 0
    tax_jpy: int = 0
    total_jpy: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class CloseResult:
    period: date
    created: int = 0
    skipped_final: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def get_issuer() -> IssuerSettings:
    issuer = IssuerSettings.objects.order_by("pk").first()
    if issuer is None:
        raise BillingDataMissing("issuer settings are not entered")
    return issuer


def parse_period(text: str) -> date:
    year, month = text.split("-")
    return date(int(year), int(month), 1)


def totals(
    lines: list,
    rate: Decimal | None,
    *,
    fx_rounding: str,
    tax_rounding: str,
    usage_tax_rate: int,
) -> tuple[Decimal, int, money.TaxTotals]:
    """Sum exact USD → convert once → round once → add JPY lines → tax per group.

    Works on ``LineSpec`` and ``InvoiceLine`` alike.
    """
    usd_lines = [line for line in lines if line.amount_usd is not None]
    usage_usd = sum((Decimal(line.amount_usd) for line in usd_lines), Decimal("0"))
    if usd_lines and usage_usd != 0:
        if rate is None:
            raise BillingDataMissing("USD usage but no FX rate")
        usage_jpy = money.convert_usd(usage_usd, rate, fx_rounding)
    else:
        usage_jpy = 0
    pairs = [
        (line.tax_rate_percent, int(line.amount_jpy))
        for line in lines
        if line.amount_usd is None
    ]
    if usd_lines:
        pairs.append((usage_tax_rate, usage_jpy))
    return usage_usd, usage_jpy, money.tax_totals(pairs, tax_rounding)


def _fmt_int(value: Decimal | int) -> str:
    return f"{int(value):,}"


def _usage_lines_for_month(
    *,
    period: date,
    days: list[tuple[date, int, Decimal]],
    plan: Plan | None,
    tax_rate: int,
    versions: list[PriceVersion] | None = None,
) -> list[LineSpec]:
    """Lines of the service month: per price segment, per meter; included volume first."""
    end = pricing.month_end(period)
    segments = pricing.price_segments(period, end, versions)
    multi = len(segments) > 1
    included = plan.included_emails if plan else 0
    jpy_overage = plan is not None and plan.overage == Plan.Overage.JPY_PER_THOUSAND
    total_emails = sum(d[1] for d in days)
    lines: list[LineSpec] = []
    remaining_included = included
    for seg_start, seg_end, version in segments:
        emails = sum(d[1] for d in days if seg_start <= d[0] <= seg_end)
        mb = sum((d[2] for d in days if seg_start <= d[0] <= seg_end), Decimal("0"))
        suffix = f"（{seg_start:%-m/%-d}〜{seg_end:%-m/%-d}）" if multi else ""
        used_included = min(emails, remaining_included)
        remaining_included -= used_included
        billable = emails - used_included
        if not jpy_overage:
            email_usd, _mb_usd = money.usage_usd(
                billable, mb, version.email_usd, Decimal(0)
            )
            note = (
                f"（うち無料枠 {_fmt_int(used_included)} 通）" if used_included else ""
            )
            lines.append(
                LineSpec(
                    kind=InvoiceLine.Kind.USAGE,
                    description=f"ACS Email 送信{suffix}{note}",
                    quantity=Decimal(billable),
                    unit="通",
                    unit_price_usd=version.email_usd,
                    amount_usd=email_usd,
                    meter=EMAILS,
                    usage_month=period,
                    covered_quantity=Decimal(emails),
                    billed_before=Decimal(0),
                    tax_rate_percent=tax_rate,
                )
            )
        lines.append(
            LineSpec(
                kind=InvoiceLine.Kind.USAGE,
                description=f"ACS Email データ転送{suffix}",
                quantity=mb,
                unit="MB",
                unit_price_usd=version.megabyte_usd,
                amount_usd=mb * version.megabyte_usd,
                meter=MEGABYTES,
                usage_month=period,
                covered_quantity=mb,
                billed_before=Decimal(0),
                tax_rate_percent=tax_rate,
            )
        )
    if jpy_overage and plan is not None:
        excess = max(0, total_emails - included)
        lines.append(
            LineSpec(
                kind=InvoiceLine.Kind.OVERAGE,
                description=(
                    f"ACS Email 送信 {_fmt_int(total_emails)} 通"
                    f"（無料枠 {_fmt_int(included)} 通、超過 1,000 通ごと "
                    f"¥{_fmt_int(plan.overage_jpy_per_1000)}）"
                ),
                quantity=Decimal(excess),
                unit="通",
                amount_jpy=money.overage_jpy(excess, plan.overage_jpy_per_1000),
                meter=EMAILS,
                usage_month=period,
                covered_quantity=Decimal(total_emails),
                billed_before=Decimal(0),
                tax_rate_percent=tax_rate,
            )
        )
    return lines


def _delta_lines(
    *,
    month: date,
    usage: dict[str, Decimal],
    billed: dict[str, Decimal],
    tax_rate: int,
    label: str,
    versions: list[PriceVersion] | None = None,
) -> list[LineSpec]:
    """Late usage of ``month``: usage now minus what was billed, at that month's price."""
    version: PriceVersion = pricing.price_on(pricing.month_end(month), versions)
    out: list[LineSpec] = []
    for meter, price, unit, name in (
        (EMAILS, version.email_usd, "通", "送信"),
        (MEGABYTES, version.megabyte_usd, "MB", "データ転送"),
    ):
        delta = usage.get(meter, Decimal(0)) - billed.get(meter, Decimal(0))
        if delta == 0:
            continue
        out.append(
            LineSpec(
                kind=InvoiceLine.Kind.LATE_USAGE,
                description=f"{label} ACS Email {name}（{month:%Y年%-m月}分 追加計上）",
                quantity=delta,
                unit=unit,
                unit_price_usd=price,
                amount_usd=delta * price,
                meter=meter,
                usage_month=month,
                covered_quantity=delta,
                billed_before=billed.get(meter, Decimal(0)),
                tax_rate_percent=tax_rate,
                reason="late usage",
            )
        )
    return out


def _plan_lines(
    tenant: Customer,
    period: date,
    start_date: date,
    issuer: IssuerSettings,
    prefetched: pricing.Prefetched | None = None,
) -> tuple[list[LineSpec], Plan | None]:
    """Plan fee lines, prorated by day (fee × days / days of the month).

    A prorated fee is rounded once per segment with the issuer's JPY rounding mode
    (the conversion mode). The plan of the month's last billed day sets the
    included volume and the overage rule.
    """
    segments = pricing.plan_segments(tenant, period, start_date, prefetched)
    month_days = money.days_in_month(period)
    lines = []
    for plan, days in segments:
        fee = money.prorate_fee(
            plan.monthly_fee_jpy, days, month_days, issuer.fx_rounding
        )
        prorated = days < month_days
        label = plan.name_ja or plan.name
        desc = f"マネージドサービス {label} 月額"
        if prorated:
            desc += f"（日割 {days}/{month_days} 日）"
        lines.append(
            LineSpec(
                kind=InvoiceLine.Kind.PLAN,
                description=desc,
                quantity=Decimal(days) / Decimal(month_days)
                if prorated
                else Decimal(1),
                unit="月",
                amount_jpy=fee,
                tax_rate_percent=issuer.tax_rate_percent,
            )
        )
    return lines, (segments[-1][0] if segments else None)


def compute_invoice(
    *,
    tenant: Customer,
    period: date,
    issuer: IssuerSettings,
    days: list[tuple[date, int, Decimal]] | None = None,
    billed: dict[tuple[date, str], Decimal] | None = None,
    prior_usage: dict[tuple[date, str], Decimal] | None = None,
    until: date | None = None,
    prefetched: pricing.Prefetched | None = None,
) -> Computation:
    """Compute one tenant's invoice for ``period`` (no writes).

    ``days``/``billed``/``prior_usage`` may be passed pre-fetched (bulk close); by
    default they are read for this tenant. ``until`` limits usage (running estimate).
    """
    contract = pricing.default_contract(tenant)
    tax_rate = issuer.tax_rate_percent
    if days is None:
        days = _days_for([tenant.pk], period, until).get(tenant.pk, [])
    if billed is None:
        billed = _billed_for([tenant.pk], period).get(tenant.pk, {})
    if prior_usage is None:
        prior_usage = _prior_usage_for([tenant.pk], period, {tenant.pk: billed}).get(
            tenant.pk, {}
        )
    start = contract.start_date
    if start > pricing.month_end(period):
        raise BillingDataMissing("contract starts after this month")
    versions = prefetched.versions if prefetched else None
    lines, plan = _plan_lines(tenant, period, start, issuer, prefetched)
    billed_this = {m: q for (month, m), q in billed.items() if month == period}
    # Nothing billed yet (or fully un-billed by a correction): the month's own lines.
    if not any(billed_this.values()):
        lines += _usage_lines_for_month(
            period=period, days=days, plan=plan, tax_rate=tax_rate, versions=versions
        )
    else:
        usage_this = {
            EMAILS: Decimal(sum(d[1] for d in days)),
            MEGABYTES: sum((d[2] for d in days), Decimal(0)),
        }
        lines += _delta_lines(
            month=period,
            usage=usage_this,
            billed=billed_this,
            tax_rate=tax_rate,
            label="",
            versions=versions,
        )
    months = sorted({month for (month, _m) in billed if month < period})
    for month in months:
        lines += _delta_lines(
            month=month,
            usage={m: q for (mo, m), q in prior_usage.items() if mo == month},
            billed={m: q for (mo, m), q in billed.items() if mo == month},
            tax_rate=tax_rate,
            label="",
            versions=versions,
        )
    has_usd = any(line.amount_usd is not None for line in lines)
    rate = None
    if has_usd:
        try:
            rate = _rate_cached(contract, period, prefetched)
        except BillingDataMissing:
            if any(line.amount_usd for line in lines):
                raise
    comp = Computation(
        tenant=tenant,
        period=period,
        rate=rate,
        lines=lines,
        plan_code=plan.code if plan else "",
        fx_rounding=issuer.fx_rounding,
        tax_rounding=issuer.tax_rounding,
    )
    refresh_totals(comp, issuer)
    return comp


def _rate_cached(
    contract: pricing.Contract, period: date, prefetched: pricing.Prefetched | None
) -> AppliedRate:
    if prefetched is None:
        return pricing.applied_rate(contract, period)
    key = (
        period,
        contract.fx_policy,
        contract.fx_rate_type,
        contract.fixed_rate,
        contract.start_date if contract.fixed_rate is not None else None,
    )
    if key not in prefetched.rates:
        prefetched.rates[key] = pricing.applied_rate(contract, period)
    return prefetched.rates[key]


def refresh_totals(comp: Computation, issuer: IssuerSettings) -> None:
    usage_usd, usage_jpy, tt = totals(
        comp.lines,
        comp.rate.rate if comp.rate else None,
        fx_rounding=comp.fx_rounding,
        tax_rounding=comp.tax_rounding,
        usage_tax_rate=issuer.tax_rate_percent,
    )
    comp.usage_usd, comp.usage_jpy = usage_usd, usage_jpy
    comp.groups, comp.net_jpy, comp.tax_jpy, comp.total_jpy = (
        tt.groups,
        tt.net_jpy,
        tt.tax_jpy,
        tt.total_jpy,
    )


# --- bulk reads -------------------------------------------------------------


def _days_for(
    tenant_ids: list[int], period: date, until: date | None = None
) -> dict[int, list[tuple[date, int, Decimal]]]:
    end = pricing.month_end(period)
    if until is not None:
        end = min(end, until)
    out: dict[int, list[tuple[date, int, Decimal]]] = defaultdict(list)
    rows = UsageDay.objects.filter(
        tenant_id__in=tenant_ids, day__gte=period, day__lte=end
    ).values_list("tenant_id", "day", "billable_emails", "billable_megabytes")
    for tenant_id, day, emails, mb in rows.iterator(chunk_size=5000):
        out[tenant_id].append((day, emails, mb))
    return out


def _billed_for(
    tenant_ids: list[int], period: date
) -> dict[int, dict[tuple[date, str], Decimal]]:
    """Σ billed quantity per (usage month, meter), months within the lookback."""
    first = period
    for _ in range(LATE_USAGE_LOOKBACK_MONTHS):
        first = money.previous_month(first)
    out: dict[int, dict[tuple[date, str], Decimal]] = defaultdict(dict)
    rows = (
        BilledUsage.objects.filter(
            tenant_id__in=tenant_ids, usage_month__gte=first, usage_month__lte=period
        )
        .values("tenant_id", "usage_month", "meter")
        .annotate(q=Sum("quantity"))
    )
    for row in rows:
        out[row["tenant_id"]][(row["usage_month"], row["meter"])] = row["q"]
    return out


def _prior_usage_for(
    tenant_ids: list[int],
    period: date,
    billed: dict[int, dict[tuple[date, str], Decimal]],
) -> dict[int, dict[tuple[date, str], Decimal]]:
    months = {m for b in billed.values() for (m, _meter) in b if m < period}
    out: dict[int, dict[tuple[date, str], Decimal]] = defaultdict(dict)
    if not months:
        return out
    rows = (
        UsageDay.objects.filter(
            tenant_id__in=[t for t, b in billed.items() if b],
            day__gte=min(months),
            day__lt=period,
        )
        .annotate(month=TruncMonth("day"))
        .values("tenant_id", "month")
        .annotate(e=Sum("billable_emails"), mb=Sum("billable_megabytes"))
    )
    for row in rows:
        month = row["month"]
        if isinstance(month, timezone.datetime):
            month = month.date()
        out[row["tenant_id"]][(month, EMAILS)] = Decimal(row["e"] or 0)
        out[row["tenant_id"]][(month, MEGABYTES)] = row["mb"] or Decimal(0)
    return out


# --- writes -----------------------------------------------------------------


def store_computation(
    comp: Computation,
    issuer: IssuerSettings,
    *,
    kind: str = Invoice.Kind.INVOICE,
    original: Invoice | None = None,
    reason: str = "",
    carried: list[InvoiceLine] | None = None,
) -> Invoice:
    """Write a draft invoice and its lines (caller holds the transaction)."""
    invoice, specs = build_invoice(
        comp, issuer, kind=kind, original=original, reason=reason, carried=carried
    )
    invoice.save()
    InvoiceLine.objects.bulk_create(
        [_line_from_spec(invoice, i, spec) for i, spec in enumerate(specs)]
    )
    return invoice


def build_invoice(
    comp: Computation,
    issuer: IssuerSettings,
    *,
    kind: str = Invoice.Kind.INVOICE,
    original: Invoice | None = None,
    reason: str = "",
    carried: list[InvoiceLine] | None = None,
) -> tuple[Invoice, list[LineSpec]]:
    """The unsaved draft and its line specs (staff adjustment lines carried over)."""
    rate = comp.rate
    invoice = Invoice(
        issuer=issuer,
        tenant=comp.tenant,
        period=comp.period,
        kind=kind,
        original=original,
        reason=reason,
        customer_name=comp.tenant.name,
        plan_code=comp.plan_code,
        fx_rate=rate.rate if rate else None,
        fx_rate_type=rate.rate_type if rate else "",
        fx_rate_date=rate.rate_date if rate else None,
        fx_source=rate.source if rate else "",
        fx_rounding=comp.fx_rounding,
        tax_rounding=comp.tax_rounding,
    )
    specs = list(comp.lines)
    for line in carried or []:
        specs.append(
            LineSpec(
                kind=line.kind,
                description=line.description,
                quantity=line.quantity,
                unit=line.unit,
                amount_jpy=line.amount_jpy,
                tax_rate_percent=line.tax_rate_percent,
                reason=line.reason,
                added_by=line.added_by,
            )
        )
    usage_usd, usage_jpy, tt = totals(
        specs,
        rate.rate if rate else None,
        fx_rounding=comp.fx_rounding,
        tax_rounding=comp.tax_rounding,
        usage_tax_rate=issuer.tax_rate_percent,
    )
    invoice.usage_usd, invoice.usage_jpy = usage_usd, usage_jpy
    invoice.net_jpy, invoice.tax_jpy, invoice.total_jpy = (
        tt.net_jpy,
        tt.tax_jpy,
        tt.total_jpy,
    )
    return invoice, specs


def _line_from_spec(invoice: Invoice, position: int, spec: LineSpec) -> InvoiceLine:
    return InvoiceLine(
        invoice=invoice,
        position=position,
        kind=spec.kind,
        description=spec.description[:300],
        meter=spec.meter,
        usage_month=spec.usage_month,
        quantity=spec.quantity.quantize(Decimal("0.000001")),
        unit=spec.unit,
        unit_price_usd=spec.unit_price_usd,
        amount_usd=spec.amount_usd,
        covered_quantity=spec.covered_quantity,
        billed_before=spec.billed_before,
        amount_jpy=spec.amount_jpy,
        tax_rate_percent=spec.tax_rate_percent,
        reason=spec.reason,
        added_by=spec.added_by,
    )


def active_tenants():
    return Customer.objects.filter(status=Customer.Status.ACTIVE).exclude(
        schema_name__in=["public", "tenant_template"]
    )


def close_month(
    *,
    period: date,
    ctx: AuditContext,
    run: CloseRun | None = None,
    tenant_ids: list[int] | None = None,
    render_pdfs: bool = False,
    chunk: int = 200,
) -> CloseResult:
    """Create or replace the draft invoices of ``period`` for every active tenant."""
    issuer = get_issuer()
    tenants = active_tenants().order_by("pk")
    if tenant_ids is not None:
        tenants = tenants.filter(pk__in=tenant_ids)
    tenants = list(tenants)
    contracts = {
        c.tenant_id: c
        for c in pricing.Contract.objects.filter(tenant__in=[t.pk for t in tenants])
    }
    result = CloseResult(period=period)
    if run is not None:
        CloseRun.objects.filter(pk=run.pk).update(
            state=CloseRun.State.RUNNING, total=len(tenants), done=0
        )
    for offset in range(0, len(tenants), chunk):
        batch = tenants[offset : offset + chunk]
        ids = [t.pk for t in batch]
        prefetched = pricing.Prefetched.load(ids)
        days = _days_for(ids, period)
        billed = _billed_for(ids, period)
        prior = _prior_usage_for(ids, period, billed)
        with transaction.atomic():
            # One close of a month at a time (a second run waits, then replaces).
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s)",
                    [CLOSE_LOCK_BASE + period.year * 12 + period.month],
                )
            drafts = {
                inv.tenant_id: inv
                for inv in Invoice.objects.select_for_update().filter(
                    tenant_id__in=ids,
                    period=period,
                    kind=Invoice.Kind.INVOICE,
                    status=Invoice.Status.DRAFT,
                )
            }
            # Read after locking: a draft finalized meanwhile is final now.
            final_ids = set(
                Invoice.objects.filter(
                    tenant_id__in=ids,
                    period=period,
                    kind=Invoice.Kind.INVOICE,
                    status=Invoice.Status.FINAL,
                ).values_list("tenant_id", flat=True)
            )
            owner = {inv.pk: tenant_id for tenant_id, inv in drafts.items()}
            carried: dict[int, list[InvoiceLine]] = defaultdict(list)
            for line in InvoiceLine.objects.filter(
                invoice_id__in=list(owner), kind=InvoiceLine.Kind.ADJUSTMENT
            ):
                carried[owner[line.invoice_id]].append(line)
            if drafts:
                Invoice.objects.filter(pk__in=[d.pk for d in drafts.values()]).delete()
            built: list[tuple[Invoice, list[LineSpec]]] = []
            for tenant in batch:
                if tenant.pk in final_ids:
                    result.skipped_final += 1
                    continue
                tenant._billing_contract_cache = contracts.get(
                    tenant.pk
                ) or pricing.default_contract(tenant, stored=False)
                try:
                    comp = compute_invoice(
                        tenant=tenant,
                        period=period,
                        issuer=issuer,
                        days=days.get(tenant.pk, []),
                        billed=billed.get(tenant.pk, {}),
                        prior_usage=prior.get(tenant.pk, {}),
                        prefetched=prefetched,
                    )
                except BillingDataMissing as exc:
                    result.errors[tenant.schema_name] = str(exc)
                    continue
                built.append(
                    build_invoice(comp, issuer, carried=carried.get(tenant.pk))
                )
            # Two statements per chunk: the drafts (ids come back), then all lines.
            stored = Invoice.objects.bulk_create([inv for inv, _specs in built])
            InvoiceLine.objects.bulk_create(
                [
                    _line_from_spec(inv, i, spec)
                    for inv, specs in built
                    for i, spec in enumerate(specs)
                ],
                batch_size=2000,
            )
            result.created += len(stored)
            if render_pdfs and stored:
                from billing.services.documents import attach_preview_pdfs

                attach_preview_pdfs(stored)
        if run is not None:
            CloseRun.objects.filter(pk=run.pk).update(done=offset + len(batch))
    with transaction.atomic():
        audit_record(
            ctx=ctx,
            action="billing.close_month",
            target_type="billing.closerun",
            target_id=str(run.pk) if run else "",
            target_label=f"{period:%Y-%m}",
            after={
                "created": result.created,
                "skipped_final": result.skipped_final,
                "errors": result.errors,
            },
        )
        if run is not None:
            CloseRun.objects.filter(pk=run.pk).update(
                state=CloseRun.State.FAILED
                if result.errors and not result.created
                else CloseRun.State.DONE,
                done=len(tenants),
                error="\n".join(f"{k}: {v}" for k, v in result.errors.items()),
                finished_at=timezone.now(),
            )
    return result


def usage_closing_date(period: date, issuer: IssuerSettings) -> date:
    """The day of the following month when the month's usage counts as final."""
    nxt = money.next_month(period)
    return nxt + timedelta(days=issuer.usage_closing_day - 1)
