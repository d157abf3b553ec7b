"""The "invoice issued" mail to the tenant's billing contact, owners and billing users."""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.models import Invoice, InvoiceNotice
from portal.emails import make_message
from portal.mail_backend import OPERATION_ID_HEADER
from tenants.accounts.roles import Role
from tenants.hosts import tenant_origin


def recipients(invoice: Invoice) -> list[str]:
    from tenants.accounts.models import User

    tenant = invoice.tenant
    found: list[str] = []
    if tenant.billing_contact_email:
        found.append(tenant.billing_contact_email)
    with schema_context(tenant.schema_name):
        found += list(
            User.objects.filter(
                is_active=True, role__in=[Role.OWNER, Role.BILLING]
            ).values_list("email", flat=True)
        )
    return sorted({address.lower() for address in found})


def invoice_notify(*, invoice_id: int) -> InvoiceNotice | None:
    """Send once: the notice row is the claim (unique per invoice)."""
    invoice = Invoice.objects.select_related("tenant").get(pk=invoice_id)
    if not invoice.is_final:
        return None
    to = recipients(invoice)
    try:
        with transaction.atomic():
            notice = InvoiceNotice.objects.create(
                invoice=invoice, recipients=",".join(to)
            )
    except IntegrityError:
        return None  # already claimed by an earlier run
    if not to:
        return notice
    url = tenant_origin(invoice.tenant) + reverse(
        "billing_invoice", kwargs={"pk": invoice.pk}, urlconf="portal.urls"
    )
    message = make_message(
        "invoice-issued",
        to,
        {
            "customer": invoice.customer_name,
            "number": invoice.number,
            "period": f"{invoice.period:%Y-%m}",
            "total": invoice.total_jpy,
            "due": f"{invoice.due_date:%Y-%m-%d}" if invoice.due_date else "",
            "url": url,
        },
    )
    message.attach(f"{invoice.number}.pdf", bytes(invoice.pdf), "application/pdf")
    message.extra_headers[OPERATION_ID_HEADER] = str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"invoice-issued:{invoice.pk}")
    )
    message.send()
    InvoiceNotice.objects.filter(pk=notice.pk).update(sent_at=timezone.now())
    return notice
