"""Reads for billing pages: the Electronic Bookkeeping Act search of issued documents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from billing.models import Invoice


@dataclass(frozen=True)
class IssuedSearch:
    issued_from: date | None = None
    issued_to: date | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    customer: str = ""


def issued_documents(search: IssuedSearch) -> QuerySet[Invoice]:
    """Final documents by issue date, tax-inclusive amount and customer (ranges combine)."""
    qs = Invoice.objects.filter(status=Invoice.Status.FINAL).select_related("tenant")
    if search.issued_from:
        qs = qs.filter(issue_date__gte=search.issued_from)
    if search.issued_to:
        qs = qs.filter(issue_date__lte=search.issued_to)
    if search.amount_min is not None:
        qs = qs.filter(total_jpy__gte=search.amount_min)
    if search.amount_max is not None:
        qs = qs.filter(total_jpy__lte=search.amount_max)
    if search.customer:
        qs = qs.filter(customer_name__icontains=search.customer)
    return qs.order_by("-issue_date", "-number")
