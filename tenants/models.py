"""The tenant registry, in the public schema."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

# Schema names double as the tenant's host label: <slug>.<base domain>.
SLUG_VALIDATOR = RegexValidator(
    r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$",
    _(
        "Use 3–32 characters: lower-case letters, digits and hyphens, starting with a "
        "letter."
    ),
)
RESERVED_SLUGS = frozenset(
    {"public", "www", "admin", "api", "static", "staff", "mail", "tenant-template"}
)
TEMPLATE_SCHEMA = "tenant_template"


class Customer(TenantMixin):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        # The migrated schema that new tenants are cloned from; never served.
        TEMPLATE = "template", _("Template")

    class Plan(models.TextChoices):
        LITE = "lite", _("Lite")
        STANDARD = "standard", _("Standard")
        PREMIUM = "premium", _("Premium")

    name = models.CharField(_("display name"), max_length=200)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    plan = models.CharField(
        _("plan"), max_length=16, choices=Plan.choices, default=Plan.STANDARD
    )
    billing_contact_name = models.CharField(
        _("billing contact"), max_length=200, blank=True
    )
    billing_contact_email = models.EmailField(_("billing contact email"), blank=True)
    corporate_number = models.CharField(
        _("corporate number"),
        max_length=13,
        blank=True,
        validators=[RegexValidator(r"^\d{13}$", _("Enter 13 digits."))],
    )
    suspended_reason = models.CharField(
        _("suspension reason"), max_length=500, blank=True
    )
    # Set by a guardrail hard action (send or spend cap reached): while non-empty,
    # bulk campaigns of this tenant do not send. Cleared when staff or the owner
    # lift the block. Workers re-read it before every batch.
    bulk_sends_blocked_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "suspended", "template"]),
                name="customer_status_valid",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_public(self) -> bool:
        return self.schema_name == "public"


class Domain(DomainMixin):
    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")

    def __str__(self) -> str:
        return self.domain


class Alert(models.Model):
    """Something a human should look at, raised once per cause.

    Raised by flows in any schema (DNS drift, expiring secrets, failed provisioning)
    and kept in the public schema so the staff console can list every tenant's alerts
    with one query. ``cause_key`` identifies the cause; an open alert with the same
    tenant, kind and cause is refreshed rather than duplicated.
    """

    class Severity(models.TextChoices):
        INFO = "info", _("Info")
        WARNING = "warning", _("Warning")
        CRITICAL = "critical", _("Critical")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    tenant = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="alerts"
    )
    kind = models.CharField(max_length=40)
    cause_key = models.CharField(max_length=200)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    opened_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Staff handling (public-schema users only; customer users never see the queue).
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "cause_key"],
                condition=~models.Q(state="resolved"),
                name="alert_one_open_per_cause",
            )
        ]

    def __str__(self) -> str:
        return f"{self.tenant} {self.kind} {self.title}"


class AlertNote(models.Model):
    """A staff note on an alert (append-only in practice; audited on creation)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Denormalised so the note keeps its author after the staff user is removed.
    author_email = models.CharField(max_length=254, blank=True)
    text = models.TextField(_("note"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.author_email} {self.created_at:%Y-%m-%d %H:%M}"


class TenantSummary(models.Model):
    """Precomputed health of one tenant for the staff overview (public schema).

    ``tenants.summaries.summary_refresh`` rebuilds a row from the tenant's schema
    (every 5 minutes from beat, and the alert count whenever an alert changes), so
    the overview reads one table and never opens tenant schemas per request.
    Credential counts are cumulative: "within 60 days" includes those within 30.
    """

    class ChargeBasis(models.TextChoices):
        PRICE_BOOK = "price_book", _("Price book and contract FX")
        FALLBACK = "fallback", _("Fallback list price and rate")
        NONE = "", _("Not computed")

    tenant = models.OneToOneField(
        Customer, on_delete=models.CASCADE, related_name="summary"
    )
    domains_total = models.PositiveIntegerField(default=0)
    domains_verified = models.PositiveIntegerField(default=0)
    domains_dns_broken = models.PositiveIntegerField(default=0)
    credentials_active = models.PositiveIntegerField(default=0)
    credentials_expiring_60 = models.PositiveIntegerField(default=0)
    credentials_expiring_30 = models.PositiveIntegerField(default=0)
    credentials_expiring_7 = models.PositiveIntegerField(default=0)
    credentials_expired = models.PositiveIntegerField(default=0)
    # Recipients (DeliveryAggregate hour buckets), as ACS counts billable emails.
    volume_24h = models.BigIntegerField(default=0)
    volume_7d = models.BigIntegerField(default=0)
    failed_7d = models.BigIntegerField(default=0)
    # Percent of the 7-day recipients that were not delivered (2 dp).
    bounce_rate = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True
    )
    quota_tier = models.CharField(max_length=16, blank=True)
    quota_per_minute = models.PositiveIntegerField(null=True, blank=True)
    quota_per_hour = models.PositiveIntegerField(null=True, blank=True)
    # Busiest hour of the last 7 days (recipients, from hour buckets) and busiest
    # minute (messages, from MessageRecord: aggregates have no minute buckets).
    peak_per_hour = models.BigIntegerField(default=0)
    peak_per_minute = models.BigIntegerField(default=0)
    open_alerts = models.PositiveIntegerField(default=0)
    projected_charge_jpy = models.BigIntegerField(null=True, blank=True)
    charge_basis = models.CharField(
        max_length=16, choices=ChargeBasis.choices, blank=True
    )
    provisioning_state = models.CharField(max_length=16, blank=True)
    # Use of the tighter monthly cap (``Guardrail``), whole percent; None without
    # caps. ``cap_enforced``: a hard action currently stops sending.
    cap_percent = models.PositiveIntegerField(null=True, blank=True)
    cap_enforced = models.BooleanField(default=False)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("tenant summary")
        verbose_name_plural = _("tenant summaries")
        indexes = [
            models.Index(fields=["volume_7d"], name="summary_volume"),
            models.Index(fields=["bounce_rate"], name="summary_bounce"),
            models.Index(fields=["projected_charge_jpy"], name="summary_charge"),
            models.Index(fields=["open_alerts"], name="summary_alerts"),
        ]

    def __str__(self) -> str:
        return f"summary {self.tenant_id}"

    @property
    def peak_hour_percent(self) -> int | None:
        """Busiest hour against the hourly limit, whole percent (None if no limit)."""
        if not self.quota_per_hour:
            return None
        return self.peak_per_hour * 100 // self.quota_per_hour

    @property
    def peak_minute_percent(self) -> int | None:
        if not self.quota_per_minute:
            return None
        return self.peak_per_minute * 100 // self.quota_per_minute


class Guardrail(models.Model):
    """Monthly send and spend caps of one tenant, and where it stands against them.

    ``tenants.guardrails`` evaluates it (beat every few minutes, and after each
    usage-ledger update): at 80% a warning alert, at 100% a critical alert plus the
    optional hard action. The hard action holds until staff or the owner lift it
    (``lifted_period`` then keeps it off for the rest of that month) or a cap is
    raised above the current use. ``notified`` records the month's threshold
    crossings already alerted and mailed, so nothing is raised twice for one cause.
    """

    class HardAction(models.TextChoices):
        NONE = "none", _("None (alerts only)")
        DISABLE_SMTP = "disable_smtp", _("Disable SMTP usernames")
        PAUSE_BULK = "pause_bulk", _("Pause bulk sends")
        BOTH = "both", _("Disable SMTP usernames and pause bulk sends")

    class State(models.TextChoices):
        OK = "ok", _("Within the caps")
        WARNING = "warning", _("Cap warning (80%)")
        REACHED = "reached", _("Cap reached")
        ENFORCED = "enforced", _("Sending stopped by the cap")

    tenant = models.OneToOneField(
        Customer, on_delete=models.CASCADE, related_name="guardrail"
    )
    monthly_send_cap = models.PositiveBigIntegerField(
        _("monthly send cap (emails)"), null=True, blank=True
    )
    monthly_spend_cap_jpy = models.PositiveBigIntegerField(
        _("monthly spend cap (JPY)"), null=True, blank=True
    )
    hard_action = models.CharField(
        _("action at 100%"),
        max_length=16,
        choices=HardAction.choices,
        default=HardAction.NONE,
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.OK)
    # First day (JST) of the month the figures below belong to.
    period = models.DateField(null=True, blank=True)
    emails_mtd = models.BigIntegerField(default=0)
    spend_mtd_jpy = models.BigIntegerField(null=True, blank=True)
    send_percent = models.PositiveIntegerField(null=True, blank=True)
    spend_percent = models.PositiveIntegerField(null=True, blank=True)
    # Threshold crossings of ``period`` already alerted, e.g. ["send:80"].
    notified = models.JSONField(default=list, blank=True)
    # The month for which a lift holds the hard action off.
    lifted_period = models.DateField(null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.CharField(max_length=254, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("usage cap")
        verbose_name_plural = _("usage caps")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    hard_action__in=["none", "disable_smtp", "pause_bulk", "both"]
                ),
                name="guardrail_hard_action_valid",
            )
        ]

    def __str__(self) -> str:
        return f"guardrail {self.tenant_id}"

    @property
    def percent(self) -> int | None:
        """The higher of the two caps' use, whole percent (None without caps)."""
        values = [p for p in (self.send_percent, self.spend_percent) if p is not None]
        return max(values) if values else None

    @property
    def disables_smtp(self) -> bool:
        return self.hard_action in (self.HardAction.DISABLE_SMTP, self.HardAction.BOTH)

    @property
    def pauses_bulk(self) -> bool:
        return self.hard_action in (self.HardAction.PAUSE_BULK, self.HardAction.BOTH)


class GuardrailAction(models.Model):
    """One hard action taken by a guardrail, and its reversal.

    A SMTP action lists every SMTP username it touched in ``items`` with its own
    state (``active`` → ``disabled`` → ``restored``), saved after each Azure call,
    so a crash half-way is finished by running the same step again.
    """

    class Kind(models.TextChoices):
        DISABLE_SMTP = "disable_smtp", _("SMTP usernames disabled")
        PAUSE_BULK = "pause_bulk", _("Bulk sends paused")

    class State(models.TextChoices):
        APPLYING = "applying", _("Being applied")
        APPLIED = "applied", _("In force")
        LIFTING = "lifting", _("Being lifted")
        LIFTED = "lifted", _("Lifted")

    LIVE_STATES = (State.APPLYING, State.APPLIED, State.LIFTING)

    guardrail = models.ForeignKey(
        Guardrail, on_delete=models.CASCADE, related_name="actions"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(
        max_length=12, choices=State.choices, default=State.APPLYING
    )
    period = models.DateField()
    # Which cap triggered it ("send" / "spend") and the figures at that moment.
    rule = models.CharField(max_length=16)
    reason = models.CharField(max_length=300)
    items = models.JSONField(default=list, blank=True)
    applied_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.CharField(max_length=254, blank=True)
    lift_reason = models.CharField(max_length=300, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-applied_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["guardrail", "kind"],
                condition=models.Q(state__in=["applying", "applied", "lifting"]),
                name="guardrail_action_one_live_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.guardrail_id} {self.kind} {self.state}"
