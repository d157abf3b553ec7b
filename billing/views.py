"""Customer billing pages (tenant host): invoices, PDFs, running estimate.

Invoices live in the public schema, so every query is filtered by the tenant of the
host; another tenant's invoice is a 404. Only final documents are shown.
"""

from __future__ import annotations

from django.db import connection
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from billing.models import Invoice
from billing.services import close
from billing.services.documents import jst_today
from billing.services.pricing import BillingDataMissing
from portal.access import require_capability
from portal.http import PortalRequest


def _invoices():
    return Invoice.objects.filter(
        tenant_id=connection.tenant.pk, status=Invoice.Status.FINAL
    )


@require_capability("billing.view")
def invoice_list(request: PortalRequest) -> HttpResponse:
    estimate = None
    estimate_error = ""
    today = jst_today()
    try:
        issuer = close.get_issuer()
        estimate = close.compute_invoice(
            tenant=connection.tenant,
            period=today.replace(day=1),
            issuer=issuer,
            until=today,
        )
    except BillingDataMissing as exc:
        estimate_error = str(exc)
    return render(
        request,
        "billing/customer_invoice_list.html",
        {
            "invoices": _invoices().order_by("-issue_date", "-id"),
            "estimate": estimate,
            "estimate_error": estimate_error,
            "today": today,
        },
    )


@require_capability("billing.view")
def invoice_detail(request: PortalRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(_invoices(), pk=pk)
    return render(
        request,
        "billing/customer_invoice_detail.html",
        {"invoice": invoice, "lines": invoice.lines.all()},
    )


@require_capability("billing.view")
def invoice_pdf(request: PortalRequest, pk: int) -> HttpResponse:
    """The PDF as issued, byte for byte."""
    invoice = get_object_or_404(_invoices(), pk=pk)
    response = HttpResponse(bytes(invoice.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    response["X-Content-SHA256"] = invoice.pdf_sha256
    return response
