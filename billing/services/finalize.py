"""Finalizing: gapless numbering, freezing, the issued PDF, billed-usage records."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from billing.models import (
    BilledUsage,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    IssuerSettings,
)
from billing.services import documents
from billing.services.close import totals
from tenants.accounts.audit import AuditContext, audit_record
from tenants.models import Customer


class InvoiceStateError(Exception):
    """The operation does not fit the invoice's state (final, stale, …)."""


def next_number(*, issuer: IssuerSettings, year: int, series: str) -> str:
    """Take the next number of a series. Call inside the finalize transaction.

    The counter row is locked FOR UPDATE, so concurrent finalizations queue here;
    a rollback returns the number, so the sequence has no gaps.
    """
    InvoiceCounter.objects.get_or_create(issuer=issuer, year=year, series=series)
    counter = InvoiceCounter.objects.select_for_update().get(
        issuer=issuer, year=year, series=series
    )
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{series}-{year}-{counter.last:06d}"


def _check_usage_fresh(invoice: Invoice, lines: list[InvoiceLine]) -> None:
    """Refuse a draft computed against billed usage that has changed since."""
    groups: dict[tuple[date, str], Decimal] = {}
    for line in lines:
        if line.covered_quantity is None or line.usage_month is None:
            continue
        groups.setdefault(
            (line.usage_month, line.meter), line.billed_before or Decimal(0)
        )
    for (month, meter), before in groups.items():
        now = BilledUsage.objects.filter(
            tenant_id=invoice.tenant_id, usage_month=month, meter=meter
        ).aggregate(q=Sum("quantity"))["q"] or Decimal(0)
        if now != before:
            raise InvoiceStateError(
                f"usage of {month:%Y-%m} was billed meanwhile; re-run the close"
            )


def invoice_recompute(
    invoice: Invoice, lines: list[InvoiceLine] | None = None
) -> Invoice:
    """Recompute the stored totals of a draft from its lines."""
    if lines is None:
        lines = list(invoice.lines.all())
    usage_usd, usage_jpy, tt = totals(
        lines,
        invoice.fx_rate,
        fx_rounding=invoice.fx_rounding,
        tax_rounding=invoice.tax_rounding,
        usage_tax_rate=invoice.issuer.tax_rate_percent,
    )
    invoice.usage_usd, invoice.usage_jpy = usage_usd, usage_jpy
    invoice.net_jpy, invoice.tax_jpy, invoice.total_jpy = (
        tt.net_jpy,
        tt.tax_jpy,
        tt.total_jpy,
    )
    return invoice


def invoice_finalize(
    *, invoice_id: int, ctx: AuditContext, issue_date: date | None = None
) -> Invoice:
    """Number, freeze and render a draft; record the usage it bills. One transaction."""
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("issuer", "tenant", "original")
            .get(pk=invoice_id)
        )
        if invoice.is_final:
            raise InvoiceStateError("invoice is already final")
        # One finalization per tenant at a time: usage accounting stays consistent.
        Customer.objects.select_for_update().filter(pk=invoice.tenant_id).first()
        lines = list(invoice.lines.all())
        _check_usage_fresh(invoice, lines)
        invoice_recompute(invoice, lines)
        issuer = invoice.issuer
        issued = issue_date or documents.jst_today()
        series = (
            issuer.credit_prefix
            if invoice.kind == Invoice.Kind.CREDIT_NOTE
            else issuer.invoice_prefix
        )
        invoice.number = next_number(issuer=issuer, year=issued.year, series=series)
        invoice.issue_date = issued
        invoice.due_date = issued + timedelta(days=issuer.payment_terms_days)
        pdf = documents.render(invoice, lines)
        invoice.pdf = pdf
        invoice.pdf_sha256 = documents.sha256(pdf)
        invoice.status = Invoice.Status.FINAL
        invoice.finalized_at = timezone.now()
        invoice.finalized_by = ctx.actor_email
        invoice.save()
        covered: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
        for line in lines:
            if line.covered_quantity is not None and line.usage_month is not None:
                covered[(line.usage_month, line.meter)] += line.covered_quantity
        BilledUsage.objects.bulk_create(
            [
                BilledUsage(
                    tenant_id=invoice.tenant_id,
                    usage_month=month,
                    meter=meter,
                    quantity=qty,
                    invoice=invoice,
                )
                for (month, meter), qty in covered.items()
            ]
        )
        audit_record(
            ctx=ctx,
            action="billing.invoice_finalize",
            target=invoice,
            after={
                "number": invoice.number,
                "kind": invoice.kind,
                "total_jpy": invoice.total_jpy,
                "pdf_sha256": invoice.pdf_sha256,
                "tenant": invoice.tenant.schema_name,
            },
        )
        transaction.on_commit(lambda: _queue_notice(invoice.pk))
    return invoice


def _queue_notice(invoice_id: int) -> None:
    from billing.tasks import invoice_notify_task

    invoice_notify_task.delay(invoice_id)
