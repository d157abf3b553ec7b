"""Staff adjustment lines on drafts (extra work, discounts as negative lines)."""

from __future__ import annotations

from django.db import transaction

from billing.models import Invoice, InvoiceLine
from billing.services.finalize import InvoiceStateError, invoice_recompute
from tenants.accounts.audit import AuditContext, audit_record


def _draft_for_update(invoice_id: int) -> Invoice:
    invoice = (
        Invoice.objects.select_for_update().select_related("issuer").get(pk=invoice_id)
    )
    if invoice.is_final:
        raise InvoiceStateError("a final invoice cannot be changed")
    return invoice


def line_add(
    *,
    invoice_id: int,
    description: str,
    amount_jpy: int,
    reason: str,
    ctx: AuditContext,
    tax_rate_percent: int | None = None,
) -> InvoiceLine:
    if not reason.strip():
        raise InvoiceStateError("an adjustment needs a reason")
    with transaction.atomic():
        invoice = _draft_for_update(invoice_id)
        position = (
            invoice.lines.order_by("-position")
            .values_list("position", flat=True)
            .first()
            or 0
        ) + 1
        line = InvoiceLine.objects.create(
            invoice=invoice,
            position=position,
            kind=InvoiceLine.Kind.ADJUSTMENT,
            description=description,
            quantity=1,
            unit="式",
            amount_jpy=int(amount_jpy),
            tax_rate_percent=(
                invoice.issuer.tax_rate_percent
                if tax_rate_percent is None
                else tax_rate_percent
            ),
            reason=reason,
            added_by=ctx.actor_email,
        )
        invoice_recompute(invoice).save()
        audit_record(
            ctx=ctx,
            action="billing.line_add",
            target=invoice,
            after={
                "description": description,
                "amount_jpy": int(amount_jpy),
                "reason": reason,
            },
        )
    return line


def line_remove(*, line_id: int, reason: str, ctx: AuditContext) -> Invoice:
    with transaction.atomic():
        line = InvoiceLine.objects.get(pk=line_id)
        invoice = _draft_for_update(line.invoice_id)
        if line.kind != InvoiceLine.Kind.ADJUSTMENT:
            raise InvoiceStateError("only adjustment lines can be removed")
        before = {
            "description": line.description,
            "amount_jpy": line.amount_jpy,
            "reason": line.reason,
        }
        line.delete()
        invoice_recompute(invoice).save()
        audit_record(
            ctx=ctx,
            action="billing.line_remove",
            target=invoice,
            before=before,
            after={"reason": reason},
        )
    return invoice
