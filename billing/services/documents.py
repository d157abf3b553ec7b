"""Map billing models to ``billing.documents.InvoiceDocument`` (what PDFs print)."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from billing.documents import (
    FxDocument,
    InvoiceDocument,
    InvoiceLineDocument,
    Party,
    TaxGroup,
)
from billing.models import Invoice, InvoiceLine
from billing.services import money


def _rate_fraction(percent: int) -> Decimal:
    return (Decimal(percent) / Decimal(100)).quantize(Decimal("0.01"))


def jst_today() -> date:
    return timezone.localdate()


def to_document(
    invoice: Invoice, lines: list[InvoiceLine] | None = None
) -> InvoiceDocument:
    """The document of ``invoice`` as stored (drafts get today's date, no number)."""
    if lines is None:
        lines = list(invoice.lines.all())
    issuer = invoice.issuer
    tenant = invoice.tenant
    issue = invoice.issue_date or jst_today()
    due = invoice.due_date or issue + timedelta(days=issuer.payment_terms_days)
    pairs = [
        (line.tax_rate_percent, line.amount_jpy) for line in lines if not line.is_usd
    ]
    if any(line.is_usd for line in lines):
        pairs.append((issuer.tax_rate_percent, invoice.usage_jpy))
    groups = money.tax_totals(pairs, invoice.tax_rounding).groups
    tax_groups = tuple(
        TaxGroup(rate=_rate_fraction(rate), net_jpy=net, tax_jpy=tax)
        for rate, net, tax in groups
    )
    fx = None
    if invoice.fx_rate is not None and any(line.is_usd for line in lines):
        fx = FxDocument(
            rate=invoice.fx_rate,
            rate_type=invoice.fx_rate_type,
            rate_date=invoice.fx_rate_date,
            source=invoice.fx_source,
        )
    original_number = invoice.original.number if invoice.original_id else ""
    return InvoiceDocument(
        kind=invoice.kind,
        number=invoice.number or "",
        issue_date=issue,
        due_date=due,
        period_start=invoice.period,
        period_end=money.next_month(invoice.period) - timedelta(days=1),
        issuer=Party(
            name=issuer.name,
            address=issuer.address,
            registration_number=issuer.registration_number,
            bank_account=issuer.bank_account,
            contact=issuer.contact,
        ),
        customer=Party(
            name=invoice.customer_name,
            address="",
            corporate_number=tenant.corporate_number,
        ),
        lines=tuple(
            InvoiceLineDocument(
                description=line.description,
                quantity=line.quantity,
                unit=line.unit,
                unit_price_usd=line.unit_price_usd,
                amount_usd=line.amount_usd,
                amount_jpy=0 if line.is_usd else line.amount_jpy,
                tax_rate=_rate_fraction(line.tax_rate_percent),
                note=line.reason if line.kind == InvoiceLine.Kind.ADJUSTMENT else "",
            )
            for line in lines
        ),
        fx=fx,
        usage_usd_total=invoice.usage_usd,
        usage_jpy=invoice.usage_jpy,
        tax_groups=tax_groups,
        total_jpy=invoice.total_jpy,
        original_number=original_number,
        reason=invoice.reason,
        payment_terms=(
            f"お支払期限 {due:%Y年%-m月%-d日}までに下記振込先へお振込みください。"
            if invoice.kind != Invoice.Kind.CREDIT_NOTE
            else ""
        ),
    )


def render(invoice: Invoice, lines: list[InvoiceLine] | None = None) -> bytes:
    from billing.pdf import render_invoice_pdf

    return render_invoice_pdf(to_document(invoice, lines))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def attach_preview_pdfs(invoices: list[Invoice]) -> None:
    """Render a preview PDF for each draft (replaced by the issued PDF at finalize)."""
    by_invoice: dict[int, list[InvoiceLine]] = {}
    for line in InvoiceLine.objects.filter(invoice__in=invoices).order_by(
        "invoice_id", "position"
    ):
        by_invoice.setdefault(line.invoice_id, []).append(line)
    for invoice in invoices:
        data = render(invoice, by_invoice.get(invoice.pk, []))
        Invoice.objects.filter(pk=invoice.pk, status=Invoice.Status.DRAFT).update(
            pdf=data, pdf_sha256=sha256(data)
        )


def finalized_queryset(month: date):
    """Final documents issued in ``month`` (issue date = 取引日 in the exports)."""
    return (
        Invoice.objects.filter(
            status=Invoice.Status.FINAL,
            issue_date__gte=month,
            issue_date__lt=money.next_month(month),
        )
        .select_related("issuer", "tenant", "original")
        .prefetch_related("lines")
        .order_by("issue_date", "number")
    )


def finalized_documents(month: date) -> list[InvoiceDocument]:
    """Documents for ``manage.py export_invoices`` and the staff export."""
    return [
        to_document(inv, list(inv.lines.all())) for inv in finalized_queryset(month)
    ]
