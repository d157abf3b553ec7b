"""Precomputed per-tenant health for the staff overview (``TenantSummary``).

``summary_refresh`` opens the tenant's schema once, reads its mail-operations and
analytics tables with a handful of aggregate queries, then upserts the public row.
The overview page reads only ``TenantSummary``; it never opens tenant schemas.

The console is where the apps meet, so this module reads ``mailops`` and
``billing`` models (read-only) even though they otherwise depend on ``tenants``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncMinute
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.models import Alert, Customer, TenantSummary

JST = ZoneInfo("Asia/Tokyo")
EXPIRY_WINDOWS = (60, 30, 7)
# Recipients that were not delivered (same set as mailops.analytics.bounces).
FAILED_STATUSES = frozenset(
    s.lower()
    for s in ("Bounced", "Failed", "Suppressed", "Quarantined", "FilteredSpam")
)
# Fallback list prices when billing has no price book / FX / issuer yet (USD).
FALLBACK_EMAIL_USD = Decimal("0.00025")
FALLBACK_MEGABYTE_USD = Decimal("0.00012")
FALLBACK_JPY_PER_USD_DEFAULT = "150"


@dataclass(frozen=True)
class TenantFigures:
    """What one pass over a tenant schema yields (everything but public data)."""

    domains_total: int = 0
    domains_verified: int = 0
    domains_dns_broken: int = 0
    credentials_active: int = 0
    credentials_expiring_60: int = 0
    credentials_expiring_30: int = 0
    credentials_expiring_7: int = 0
    credentials_expired: int = 0
    volume_24h: int = 0
    volume_7d: int = 0
    failed_7d: int = 0
    peak_per_hour: int = 0
    peak_per_minute: int = 0
    quota_tier: str = ""
    quota_per_minute: int | None = None
    quota_per_hour: int | None = None
    provisioning_state: str = ""


def read_tenant_figures(now: dt.datetime) -> TenantFigures:
    """Read the current schema's figures (call inside ``schema_context``)."""
    from mailops.models import (
        AcsFootprint,
        CredentialSecret,
        DeliveryAggregate,
        MessageRecord,
        SendingDomain,
        SmtpCredential,
    )

    domains = SendingDomain.objects.exclude(
        state=SendingDomain.State.DELETING
    ).aggregate(
        total=Count("pk"),
        verified=Count("id", filter=Q(state=SendingDomain.State.VERIFIED)),
        broken=Count("id", filter=Q(dns_ok=False)),
    )
    # One row per live credential: the expiry of its newest non-revoked secret.
    live = CredentialSecret.objects.exclude(
        state=CredentialSecret.State.REVOKED
    ).filter(credential__state=SmtpCredential.State.ACTIVE)
    latest = dict(
        live.values("credential_id")
        .annotate(expires=Max("expires_at"))
        .values_list("credential_id", "expires")
    )
    counts = dict.fromkeys(EXPIRY_WINDOWS, 0)
    expired = 0
    for expires in latest.values():
        if expires <= now:
            expired += 1
            continue
        for days in EXPIRY_WINDOWS:
            if expires <= now + dt.timedelta(days=days):
                counts[days] += 1

    # Hour buckets: the current hour and the 167 (or 23) before it.
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    week_start = this_hour - dt.timedelta(hours=7 * 24 - 1)
    day_start = this_hour - dt.timedelta(hours=23)
    hours = (
        DeliveryAggregate.objects.filter(
            period=DeliveryAggregate.Period.HOUR, bucket__gte=week_start
        )
        .values("bucket", "status")
        .annotate(n=Sum("count"))
    )
    volume_7d = volume_24h = failed_7d = 0
    per_hour: dict[dt.datetime, int] = {}
    for row in hours:
        bucket, n = row["bucket"], int(row["n"] or 0)
        volume_7d += n
        per_hour[bucket] = per_hour.get(bucket, 0) + n
        if bucket >= day_start:
            volume_24h += n
        if (row["status"] or "").lower() in FAILED_STATUSES:
            failed_7d += n
    peak_minute = (
        MessageRecord.objects.filter(sent_at__gte=now - dt.timedelta(days=7))
        .annotate(minute=TruncMinute("sent_at"))
        .values("minute")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .values_list("n", flat=True)
        .first()
    )
    footprint = AcsFootprint.objects.order_by("pk").first()
    return TenantFigures(
        domains_total=domains["total"],
        domains_verified=domains["verified"],
        domains_dns_broken=domains["broken"],
        credentials_active=len(latest),
        credentials_expiring_60=counts[60],
        credentials_expiring_30=counts[30],
        credentials_expiring_7=counts[7],
        credentials_expired=expired,
        volume_24h=volume_24h,
        volume_7d=volume_7d,
        failed_7d=failed_7d,
        peak_per_hour=max(per_hour.values(), default=0),
        peak_per_minute=int(peak_minute or 0),
        quota_tier=footprint.quota_tier if footprint else "",
        quota_per_minute=footprint.quota_per_minute if footprint else None,
        quota_per_hour=footprint.quota_per_hour if footprint else None,
        provisioning_state=footprint.state if footprint else "",
    )


def bounce_rate(failed: int, total: int) -> Decimal | None:
    """Percent not delivered, 2 dp half-up; None without volume."""
    if total <= 0:
        return None
    return (Decimal(failed) * 100 / Decimal(total)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def _month_usage(
    tenant: Customer, first: dt.date, today: dt.date
) -> tuple[int, Decimal]:
    from billing.models import UsageDay

    row = UsageDay.objects.filter(
        tenant=tenant, day__gte=first, day__lte=today
    ).aggregate(emails=Sum("billable_emails"), mb=Sum("billable_megabytes"))
    return int(row["emails"] or 0), Decimal(row["mb"] or 0)


def _days_in_month(first: dt.date) -> int:
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return (nxt - first).days


def projected_charge(tenant: Customer, now: dt.datetime) -> tuple[int, str]:
    """This JST month's projected charge in integer yen, and its basis.

    Month-to-date ``UsageDay`` totals are extrapolated linearly to the whole month
    (× days in month / days elapsed), then priced by ``month_charge``.
    """
    return month_charge(tenant, now, projected=True)


def month_charge(
    tenant: Customer, now: dt.datetime, *, projected: bool
) -> tuple[int, str]:
    """This JST month's charge in integer yen and its basis: projected to the
    month's end, or accrued so far (``projected=False``: the invoice total if the
    month closed with today's usage).

    With billing's price book, issuer and FX rate in place, billing's own
    ``compute_invoice`` prices the usage (plan fee, included volume, FX policy,
    consumption tax). Otherwise a clearly labelled fallback: usage only,
    $0.00025/email + $0.00012/MB at ``SUPPORT_FALLBACK_JPY_PER_USD`` (default
    150), floored to the yen, no plan fee or tax.
    """
    today = now.astimezone(JST).date()
    first = today.replace(day=1)
    emails, megabytes = _month_usage(tenant, first, today)
    month_days = _days_in_month(first)
    elapsed = today.day
    factor = Decimal(month_days) / Decimal(elapsed) if projected else Decimal(1)
    proj_emails = int(
        (Decimal(emails) * factor).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    )
    proj_mb = (megabytes * factor).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    try:
        from billing.services.close import compute_invoice, get_issuer
        from billing.services.pricing import BillingDataMissing
    except ImportError:  # billing not built yet in this checkout
        pass
    else:
        try:
            comp = compute_invoice(
                tenant=tenant,
                period=first,
                issuer=get_issuer(),
                # All usage on today's date: one price segment (today's).
                days=[(today, proj_emails, proj_mb)],
            )
        except BillingDataMissing:
            pass
        else:
            return comp.total_jpy, TenantSummary.ChargeBasis.PRICE_BOOK
    rate = Decimal(
        str(
            getattr(
                settings, "SUPPORT_FALLBACK_JPY_PER_USD", FALLBACK_JPY_PER_USD_DEFAULT
            )
        )
    )
    usd = Decimal(proj_emails) * FALLBACK_EMAIL_USD + proj_mb * FALLBACK_MEGABYTE_USD
    yen = int((usd * rate).quantize(Decimal("1"), rounding=ROUND_FLOOR))
    return yen, TenantSummary.ChargeBasis.FALLBACK


def open_alert_count(tenant_id: int) -> int:
    return (
        Alert.objects.filter(tenant_id=tenant_id)
        .exclude(state=Alert.State.RESOLVED)
        .count()
    )


def summary_refresh(
    tenant: Customer, *, now: dt.datetime | None = None
) -> TenantSummary:
    """Rebuild ``tenant``'s summary row from its schema and the public ledgers.

    Opens the tenant schema exactly once. Returns the upserted row. Raises nothing
    for missing billing data (the charge falls back, see ``projected_charge``).
    """
    now = now or timezone.now()
    with schema_context(tenant.schema_name):
        figures = read_tenant_figures(now)
    charge, basis = projected_charge(tenant, now)
    values: dict[str, Any] = dict(figures.__dict__)
    values.update(
        bounce_rate=bounce_rate(figures.failed_7d, figures.volume_7d),
        open_alerts=open_alert_count(tenant.pk),
        projected_charge_jpy=charge,
        charge_basis=basis,
        refreshed_at=now,
    )
    values.update(guardrail_summary_values(tenant.pk))
    summary, _created = TenantSummary.objects.update_or_create(
        tenant=tenant, defaults=values
    )
    return summary


def summary_alerts_refresh(tenant_id: int) -> None:
    """Refresh only the open-alert count (called whenever an alert changes)."""
    count = open_alert_count(tenant_id)
    TenantSummary.objects.update_or_create(
        tenant_id=tenant_id, defaults={"open_alerts": count}
    )


def guardrail_summary_values(tenant_id: int) -> dict[str, Any]:
    """The overview's cap columns from the tenant's ``Guardrail`` (one query)."""
    from tenants.models import Guardrail

    guardrail = Guardrail.objects.filter(tenant_id=tenant_id).first()
    if guardrail is None:
        return {"cap_percent": None, "cap_enforced": False}
    return {
        "cap_percent": guardrail.percent,
        "cap_enforced": guardrail.state == Guardrail.State.ENFORCED,
    }
