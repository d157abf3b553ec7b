"""Staff-entered billing data: prices, FX rates, issuer settings, contracts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from billing.models import (
    Contract,
    FxRate,
    IssuerSettings,
    Plan,
    PlanAssignment,
    PriceVersion,
)
from billing.services.tnumber import TNumberCheck, validate_tnumber
from tenants.accounts.audit import AuditContext, audit_record
from tenants.models import Customer


def price_version_create(
    *,
    effective_from: date,
    email_usd: Decimal,
    megabyte_usd: Decimal,
    note: str,
    ctx: AuditContext,
) -> PriceVersion:
    with transaction.atomic():
        version = PriceVersion.objects.create(
            effective_from=effective_from,
            email_usd=email_usd,
            megabyte_usd=megabyte_usd,
            note=note,
            entered_by=ctx.actor_email,
        )
        audit_record(
            ctx=ctx,
            action="billing.price_create",
            target=version,
            after={
                "effective_from": str(effective_from),
                "email_usd": str(email_usd),
                "megabyte_usd": str(megabyte_usd),
            },
        )
    return version


def fx_rate_create(
    *, day: date, rate: Decimal, rate_type: str, source: str, ctx: AuditContext
) -> FxRate:
    with transaction.atomic():
        fx = FxRate.objects.create(
            date=day,
            rate=rate,
            rate_type=rate_type,
            source=source,
            entered_by=ctx.actor_email,
        )
        audit_record(
            ctx=ctx,
            action="billing.fx_rate_create",
            target=fx,
            after={
                "date": str(day),
                "rate": str(rate),
                "type": rate_type,
                "source": source,
            },
        )
    return fx


def issuer_save(
    *, data: dict[str, Any], ctx: AuditContext
) -> tuple[IssuerSettings, TNumberCheck]:
    """Create or update the issuer. A bad T-number format raises ValidationError."""
    check = validate_tnumber(data["registration_number"])
    data = {**data, "registration_number": check.normalized}
    with transaction.atomic():
        issuer = IssuerSettings.objects.select_for_update().order_by("pk").first()
        before = {}
        if issuer is None:
            issuer = IssuerSettings(**data)
        else:
            before = {k: str(getattr(issuer, k)) for k in data}
            for key, value in data.items():
                setattr(issuer, key, value)
        issuer.save()
        audit_record(
            ctx=ctx,
            action="billing.issuer_save",
            target=issuer,
            before=before,
            after={k: str(v) for k, v in data.items()},
        )
    return issuer, check


def contract_save(
    *,
    tenant: Customer,
    data: dict[str, Any],
    plan_id: int | None,
    plan_from: date | None,
    ctx: AuditContext,
) -> Contract:
    with transaction.atomic():
        contract, _created = Contract.objects.update_or_create(
            tenant=tenant, defaults=data
        )
        if plan_id and plan_from:
            PlanAssignment.objects.update_or_create(
                tenant=tenant, effective_from=plan_from, defaults={"plan_id": plan_id}
            )
        audit_record(
            ctx=ctx,
            action="billing.contract_save",
            target=contract,
            after={
                **{k: str(v) for k, v in data.items()},
                "plan_id": plan_id,
                "plan_from": str(plan_from),
            },
        )
    return contract


def plan_save(*, data: dict[str, Any], ctx: AuditContext) -> Plan:
    """Create or update a plan by code. Final invoices keep the fee they were issued with;
    to change a fee from a date, create a new plan and assign it from that date."""
    with transaction.atomic():
        plan, created = Plan.objects.update_or_create(
            code=data["code"], defaults={k: v for k, v in data.items() if k != "code"}
        )
        audit_record(
            ctx=ctx,
            action="billing.plan_create" if created else "billing.plan_update",
            target=plan,
            after={k: str(v) for k, v in data.items()},
        )
    return plan
