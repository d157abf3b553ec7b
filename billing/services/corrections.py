"""Corrections: credit notes (適格返還請求書) and corrected invoices.

The original is never edited. A credit note mirrors it with negative amounts, has
its own number (credit series) and references it; its usage lines record negative
billed quantities. A corrected invoice is a new draft for the same month that
references the original; it is finalized like any invoice.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from billing.models import BilledUsage, Invoice, InvoiceLine
from billing.services import close
from billing.services.finalize import (
    InvoiceStateError,
    invoice_finalize,
    invoice_recompute,
)
from tenants.accounts.audit import AuditContext, audit_record


def _credited(original: Invoice) -> bool:
    return Invoice.objects.filter(
        original=original, kind=Invoice.Kind.CREDIT_NOTE
    ).exists()


def credit_note_issue(
    *, original_id: int, reason: str, ctx: AuditContext, reverse_usage: bool = False
) -> Invoice:
    """Issue (finalize) a credit note that reverses ``original`` in full.

    A stand-alone credit note (refund, goodwill) is monetary only: the usage stays
    billed, so the next close does not bill it again. In a correction
    (``reverse_usage=True``) the note also un-bills the usage, which the corrected
    invoice then bills as it should have been.
    """
    if not reason.strip():
        raise InvoiceStateError("a credit note needs a reason")
    with transaction.atomic():
        original = Invoice.objects.select_for_update().get(pk=original_id)
        if not original.is_final or original.kind == Invoice.Kind.CREDIT_NOTE:
            raise InvoiceStateError("only a final invoice can be credited")
        if _credited(original):
            raise InvoiceStateError("this invoice has already been credited")
        note = Invoice.objects.create(
            issuer=original.issuer,
            tenant=original.tenant,
            period=original.period,
            kind=Invoice.Kind.CREDIT_NOTE,
            original=original,
            reason=reason,
            customer_name=original.customer_name,
            plan_code=original.plan_code,
            fx_rate=original.fx_rate,
            fx_rate_type=original.fx_rate_type,
            fx_rate_date=original.fx_rate_date,
            fx_source=original.fx_source,
            fx_rounding=original.fx_rounding,
            tax_rounding=original.tax_rounding,
        )
        lines = []
        for line in original.lines.all():
            billed_before = None
            covered = line.covered_quantity if reverse_usage else None
            if covered is not None:
                billed_before = BilledUsage.objects.filter(
                    tenant_id=original.tenant_id,
                    usage_month=line.usage_month,
                    meter=line.meter,
                ).aggregate(q=Sum("quantity"))["q"] or Decimal(0)
            lines.append(
                InvoiceLine(
                    invoice=note,
                    position=line.position,
                    kind=line.kind,
                    description=line.description,
                    meter=line.meter,
                    quantity=-line.quantity,
                    unit=line.unit,
                    unit_price_usd=line.unit_price_usd,
                    amount_usd=None if line.amount_usd is None else -line.amount_usd,
                    # Only a correction un-bills usage (see the docstring).
                    usage_month=line.usage_month if covered is not None else None,
                    covered_quantity=None if covered is None else -covered,
                    billed_before=billed_before,
                    amount_jpy=-line.amount_jpy,
                    tax_rate_percent=line.tax_rate_percent,
                    reason=line.reason,
                )
            )
        InvoiceLine.objects.bulk_create(lines)
        invoice_recompute(note, lines).save()
        audit_record(
            ctx=ctx,
            action="billing.credit_note_create",
            target=note,
            after={
                "original": original.number,
                "reason": reason,
                "reverse_usage": reverse_usage,
            },
        )
        return invoice_finalize(invoice_id=note.pk, ctx=ctx)


def corrected_invoice_create(
    *, original_id: int, reason: str, ctx: AuditContext
) -> Invoice:
    """Credit the original in full and open a corrected draft for the same month.

    The draft is recomputed from the current ledger and prices; the original's
    adjustment lines are carried over for staff to review before finalizing.
    """
    with transaction.atomic():
        original = Invoice.objects.get(pk=original_id)
        if original.kind == Invoice.Kind.CREDIT_NOTE:
            raise InvoiceStateError("a credit note cannot be corrected")
        if not _credited(original):
            credit_note_issue(
                original_id=original_id, reason=reason, ctx=ctx, reverse_usage=True
            )
        issuer = close.get_issuer()
        comp = close.compute_invoice(
            tenant=original.tenant, period=original.period, issuer=issuer
        )
        carried = list(original.lines.filter(kind=InvoiceLine.Kind.ADJUSTMENT))
        draft = close.store_computation(
            comp,
            issuer,
            kind=Invoice.Kind.CORRECTED,
            original=original,
            reason=reason,
            carried=carried,
        )
        audit_record(
            ctx=ctx,
            action="billing.corrected_invoice_create",
            target=draft,
            after={"original": original.number, "reason": reason},
        )
    return draft
