"""Billing data in the public schema.

``UsageDay`` is the interface between analytics and billing: ingestion maintains it,
billing reads only it (never tenant schemas).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.models import Customer


class UsageDay(models.Model):
    """Billable ACS Email usage of one tenant on one day (JST), per recipient.

    ACS bills every recipient of a message as one email and counts the message's
    size once per recipient (azure-facts §4). Rows are recomputed from the tenant's
    message records, so a re-run gives the same numbers (idempotent, reproducible).
    """

    tenant = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="usage_days"
    )
    day = models.DateField(_("day"))
    messages = models.BigIntegerField(default=0)
    billable_emails = models.BigIntegerField(_("billable emails"), default=0)
    # Megabytes per recipient, summed; exact decimal (never float).
    billable_megabytes = models.DecimalField(
        _("billable MB"), max_digits=20, decimal_places=6, default=Decimal("0")
    )
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tenant", "day"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day"], name="usage_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.day} {self.billable_emails}"
