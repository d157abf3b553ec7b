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


ROUNDING_CHOICES = [
    ("floor", _("Round down (切り捨て)")),
    ("ceil", _("Round up (切り上げ)")),
    ("half_up", _("Round half up (四捨五入)")),
]


class RateType(models.TextChoices):
    TTM = "TTM", "TTM"
    TTS = "TTS", "TTS"
    TTB = "TTB", "TTB"
    MICROSOFT_MONTHLY = "MICROSOFT_MONTHLY", _("Microsoft monthly")
    FIXED = "FIXED", _("Contract-fixed")


class PriceVersion(models.Model):
    """ACS Email unit prices in USD, effective from a date until the next version."""

    effective_from = models.DateField(_("effective from"), unique=True)
    email_usd = models.DecimalField(_("USD per email"), max_digits=20, decimal_places=8)
    megabyte_usd = models.DecimalField(_("USD per MB"), max_digits=20, decimal_places=8)
    note = models.CharField(_("note"), max_length=200, blank=True)
    entered_by = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"{self.effective_from} {self.email_usd}/{self.megabyte_usd}"


class FxRate(models.Model):
    """A USD→JPY rate published for one day (JPY per 1 USD)."""

    date = models.DateField(_("date"))
    rate = models.DecimalField(_("JPY per USD"), max_digits=20, decimal_places=8)
    rate_type = models.CharField(
        _("rate type"), max_length=20, choices=RateType.choices
    )
    source = models.CharField(_("source"), max_length=100)
    entered_by = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "rate_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["date", "rate_type", "source"], name="fx_rate_unique"
            ),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="fx_rate_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.rate_type} {self.rate} ({self.source})"


class Plan(models.Model):
    class ChangeMode(models.TextChoices):
        PRORATE = "prorate", _("Prorated by day")
        NEXT_MONTH = "next_month", _("From the next month")

    class Overage(models.TextChoices):
        USD_LIST = "usd_list", _("Excess at the USD price book")
        JPY_PER_THOUSAND = "jpy_per_1000", _("Excess at a JPY price per 1,000")

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_ja = models.CharField(_("name (Japanese)"), max_length=100, blank=True)
    monthly_fee_jpy = models.BigIntegerField(_("monthly fee (JPY)"))
    included_emails = models.BigIntegerField(_("included emails"), default=0)
    overage = models.CharField(
        _("overage"), max_length=16, choices=Overage.choices, default=Overage.USD_LIST
    )
    overage_jpy_per_1000 = models.BigIntegerField(
        _("overage JPY per 1,000 emails"), default=0
    )
    change_mode = models.CharField(
        _("plan changes"),
        max_length=16,
        choices=ChangeMode.choices,
        default=ChangeMode.PRORATE,
    )

    class Meta:
        ordering = ["monthly_fee_jpy"]

    def __str__(self) -> str:
        return self.name


class IssuerSettings(models.Model):
    """The MSP as invoice issuer. One row is used (the first)."""

    name = models.CharField(_("name"), max_length=200)
    registration_number = models.CharField(_("registration number"), max_length=14)
    address = models.TextField(_("address"), blank=True)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    bank_account = models.TextField(_("bank account (振込先)"), blank=True)
    payment_terms_days = models.PositiveIntegerField(
        _("payment terms (days)"), default=30
    )
    fx_rounding = models.CharField(
        _("JPY conversion rounding"),
        max_length=8,
        choices=ROUNDING_CHOICES,
        default="floor",
    )
    tax_rounding = models.CharField(
        _("consumption tax rounding"),
        max_length=8,
        choices=ROUNDING_CHOICES,
        default="floor",
    )
    tax_rate_percent = models.PositiveSmallIntegerField(_("tax rate (%)"), default=10)
    usage_closing_day = models.PositiveSmallIntegerField(
        _("usage closing day"),
        default=8,
        help_text=_("Day of the next month when usage is final (Azure: 7–10)."),
    )
    invoice_prefix = models.CharField(max_length=8, default="INV")
    credit_prefix = models.CharField(max_length=8, default="CN")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("issuer settings")

    def __str__(self) -> str:
        return self.name


class Contract(models.Model):
    """Billing terms of one tenant: plan history, FX policy, start date."""

    class FxPolicy(models.TextChoices):
        PREV_MONTH_END = "prev_month_end", _("Previous month's last business day")
        MONTH_AVERAGE = "month_average", _("Average of the service month")
        FIXED = "fixed", _("Fixed contract rate")

    tenant = models.OneToOneField(
        Customer, on_delete=models.PROTECT, related_name="billing_contract"
    )
    start_date = models.DateField(_("start date"))
    fx_policy = models.CharField(
        _("FX policy"),
        max_length=20,
        choices=FxPolicy.choices,
        default=FxPolicy.PREV_MONTH_END,
    )
    fx_rate_type = models.CharField(
        _("rate type"), max_length=20, choices=RateType.choices, default=RateType.TTM
    )
    fixed_rate = models.DecimalField(
        _("fixed rate (JPY per USD)"),
        max_digits=20,
        decimal_places=8,
        null=True,
        blank=True,
    )

    def __str__(self) -> str:
        return f"contract {self.tenant_id}"


class PlanAssignment(models.Model):
    """The plan a tenant is on from a date (history; the latest ≤ day applies)."""

    tenant = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="plan_assignments"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT)
    effective_from = models.DateField()

    class Meta:
        ordering = ["tenant", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "effective_from"], name="plan_assignment_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.plan_id} from {self.effective_from}"


class Invoice(models.Model):
    """A draft or final invoice, credit note or corrected invoice.

    Final rows are immutable in the database (trigger in migration 0003).
    """

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")
        CORRECTED = "corrected", _("Corrected invoice")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        FINAL = "final", _("Final")

    issuer = models.ForeignKey(IssuerSettings, on_delete=models.PROTECT)
    tenant = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="invoices"
    )
    period = models.DateField(_("service month"))  # first day of the month
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.INVOICE)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.DRAFT
    )
    number = models.CharField(max_length=32, null=True, blank=True, unique=True)
    original = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)
    customer_name = models.CharField(max_length=200)
    plan_code = models.CharField(max_length=16, blank=True)
    # The applied FX rate (value, type, date, source) and rounding modes.
    fx_rate = models.DecimalField(max_digits=20, decimal_places=8, null=True)
    fx_rate_type = models.CharField(max_length=40, blank=True)
    fx_rate_date = models.DateField(null=True)
    fx_source = models.CharField(max_length=200, blank=True)
    fx_rounding = models.CharField(max_length=8, default="floor")
    tax_rounding = models.CharField(max_length=8, default="floor")
    usage_usd = models.DecimalField(
        max_digits=20, decimal_places=8, default=Decimal("0")
    )
    usage_jpy = models.BigIntegerField(default=0)
    net_jpy = models.BigIntegerField(default=0)
    tax_jpy = models.BigIntegerField(default=0)
    total_jpy = models.BigIntegerField(default=0)
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    pdf = models.BinaryField(null=True, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    finalized_by = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period", "tenant_id", "id"]
        indexes = [
            models.Index(fields=["issue_date"]),
            models.Index(fields=["total_jpy"]),
            models.Index(fields=["tenant", "period"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "period"],
                condition=models.Q(kind="invoice", status="draft"),
                name="invoice_one_draft_per_month",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(number__isnull=False),
                name="invoice_final_has_number",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"draft {self.tenant_id} {self.period:%Y-%m}"

    @property
    def is_final(self) -> bool:
        return self.status == self.Status.FINAL


class InvoiceLine(models.Model):
    class Kind(models.TextChoices):
        USAGE = "usage", _("ACS usage")
        LATE_USAGE = "late_usage", _("Late usage")
        PLAN = "plan", _("Plan fee")
        OVERAGE = "overage", _("Overage")
        ADJUSTMENT = "adjustment", _("Adjustment")

    class Meter(models.TextChoices):
        EMAILS = "emails", _("emails")
        MEGABYTES = "megabytes", _("MB")

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    description = models.CharField(max_length=300)
    meter = models.CharField(max_length=16, choices=Meter.choices, blank=True)
    usage_month = models.DateField(null=True, blank=True)
    quantity = models.DecimalField(
        max_digits=20, decimal_places=6, default=Decimal("1")
    )
    unit = models.CharField(max_length=8, default="式")
    unit_price_usd = models.DecimalField(
        max_digits=20, decimal_places=8, null=True, blank=True
    )
    amount_usd = models.DecimalField(
        max_digits=20, decimal_places=8, null=True, blank=True
    )
    # Usage accounting: raw quantity of (usage_month, meter) this line accounts for,
    # and what final documents had billed for it when the draft was computed.
    covered_quantity = models.DecimalField(
        max_digits=20, decimal_places=6, null=True, blank=True
    )
    billed_before = models.DecimalField(
        max_digits=20, decimal_places=6, null=True, blank=True
    )
    # JPY lines only; USD lines are converted once on the invoice (usage_jpy).
    amount_jpy = models.BigIntegerField(default=0)
    tax_rate_percent = models.PositiveSmallIntegerField(default=10)
    reason = models.CharField(max_length=500, blank=True)
    added_by = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["invoice", "position", "id"]

    def __str__(self) -> str:
        return self.description

    @property
    def is_usd(self) -> bool:
        return self.amount_usd is not None


class BilledUsage(models.Model):
    """Quantities billed for a tenant-month by a final document (append-only).

    The next close bills ``UsageDay`` totals minus what is recorded here, so late
    usage is neither lost nor counted twice.
    """

    tenant = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    usage_month = models.DateField()
    meter = models.CharField(max_length=16)
    quantity = models.DecimalField(max_digits=20, decimal_places=6)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "usage_month"])]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.usage_month} {self.meter} {self.quantity}"


class InvoiceCounter(models.Model):
    """Last number used per issuer, year and series; locked FOR UPDATE to issue."""

    issuer = models.ForeignKey(IssuerSettings, on_delete=models.PROTECT)
    year = models.PositiveIntegerField()
    series = models.CharField(max_length=8)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "year", "series"], name="invoice_counter_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.series}-{self.year} {self.last}"


class CloseRun(models.Model):
    """One month-close run; the staff page polls it for progress."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    period = models.DateField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_by = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"close {self.period:%Y-%m} {self.state}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(self.done * 100 // self.total)


class InvoiceNotice(models.Model):
    """The "invoice issued" mail of one final document; the row is the send claim."""

    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="+")
    recipients = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"notice {self.invoice_id}"
