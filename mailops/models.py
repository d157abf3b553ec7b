"""Mail operations of one customer (tenant schema).

Every Azure-backed row is a small state machine: it records what the portal asked
for and what Azure confirmed, so a crash or an Azure error never leaves the portal
believing something that is not true. Azure calls happen outside transactions;
services move the state before and after each call.
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.indexes import HashIndex
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class QuotaTier(models.TextChoices):
    MANAGED = "managed", _("Azure-managed domain (5/min, 10/h)")
    DEFAULT = "default", _("Default (30/min, 100/h)")
    RAISED = "raised", _("Raised (approved by Microsoft)")


QUOTA_LIMITS = {
    QuotaTier.MANAGED: (5, 10),
    QuotaTier.DEFAULT: (30, 100),
}


class AcsFootprint(models.Model):
    """The tenant's ACS resources: Email Communication Service, Communication Service,
    optional Azure-managed domain, and the link between them. One row per tenant."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to start")
        PROVISIONING = "provisioning", _("Provisioning")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    # The ordered steps; each is idempotent (ARM PUT), so a re-run resumes safely.
    STEPS = ("email_service", "managed_domain", "communication_service", "link")

    subscription_id = models.CharField(_("subscription"), max_length=64)
    resource_group = models.CharField(_("resource group"), max_length=90)
    email_service_name = models.CharField(max_length=63)
    communication_service_name = models.CharField(max_length=63)
    with_managed_domain = models.BooleanField(_("Azure-managed domain"), default=True)
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.PENDING
    )
    completed_steps = models.JSONField(default=list)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    email_service_id = models.CharField(max_length=300, blank=True)
    communication_service_id = models.CharField(max_length=300, blank=True)
    host_name = models.CharField(max_length=200, blank=True)
    quota_tier = models.CharField(
        max_length=16, choices=QuotaTier.choices, default=QuotaTier.DEFAULT
    )
    quota_per_minute = models.PositiveIntegerField(default=30)
    quota_per_hour = models.PositiveIntegerField(default=100)
    requested_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.communication_service_name

    @property
    def progress_percent(self) -> int:
        return int(100 * len(self.completed_steps) / len(self.STEPS))


class SendingDomain(models.Model):
    class Management(models.TextChoices):
        CUSTOMER = "CustomerManaged", _("Custom domain")
        AZURE = "AzureManaged", _("Azure-managed domain")

    class State(models.TextChoices):
        CREATING = "creating", _("Creating")
        CREATED = "created", _("Waiting for DNS records")
        VERIFYING = "verifying", _("Verifying")
        VERIFIED = "verified", _("Verified")
        FAILED = "failed", _("Failed")
        DELETING = "deleting", _("Deleting")

    name = models.CharField(_("domain"), max_length=253, unique=True)  # punycode
    display_name = models.CharField(max_length=253)  # as typed (may be Unicode)
    management = models.CharField(
        max_length=16, choices=Management.choices, default=Management.CUSTOMER
    )
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.CREATING
    )
    resource_id = models.CharField(max_length=400, blank=True)
    from_sender_domain = models.CharField(max_length=253, blank=True)
    # [{"kind","record_type","name","value","ttl"}] as ACS returned them
    records = models.JSONField(default=list)
    # {"Domain": "Verified", "SPF": "VerificationFailed", ...}
    verification = models.JSONField(default=dict)
    linked = models.BooleanField(_("linked"), default=False)
    last_error = models.TextField(blank=True)
    dns_ok = models.BooleanField(null=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name or self.name

    @property
    def is_verified(self) -> bool:
        return self.state == self.State.VERIFIED

    @property
    def sender_domain(self) -> str:
        """The domain part of sender addresses (the managed domain's generated name)."""
        return self.from_sender_domain or self.name

    def required_kinds(self) -> list[str]:
        # ACS sends once Domain, SPF, DKIM and DKIM2 are verified; DMARC is advice.
        return ["Domain", "SPF", "DKIM", "DKIM2"]


class DnsCheck(models.Model):
    """One run of the portal's DNS linter, kept as history ("who broke SPF, when")."""

    domain = models.ForeignKey(
        SendingDomain, on_delete=models.CASCADE, related_name="checks"
    )
    checked_at = models.DateTimeField(default=timezone.now, db_index=True)
    ok = models.BooleanField()
    report = models.JSONField(default=dict)
    # Fingerprint of what DNS returned, to spot drift between two checks.
    fingerprint = models.CharField(max_length=64, blank=True)
    drifted = models.BooleanField(default=False)

    class Meta:
        ordering = ["-checked_at"]

    def __str__(self) -> str:
        return f"{self.domain} {self.checked_at:%Y-%m-%d %H:%M}"


class SenderAddress(models.Model):
    class State(models.TextChoices):
        CREATING = "creating", _("Creating")
        ACTIVE = "active", _("Active")
        FAILED = "failed", _("Failed")
        DELETING = "deleting", _("Deleting")

    domain = models.ForeignKey(
        SendingDomain, on_delete=models.PROTECT, related_name="senders"
    )
    username = models.CharField(_("local part"), max_length=64)
    display_name = models.CharField(_("display name"), max_length=256, blank=True)
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.CREATING
    )
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain__name", "username"]
        constraints = [
            models.UniqueConstraint(
                fields=["domain", "username"], name="sender_unique_per_domain"
            )
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        return f"{self.username}@{self.domain.sender_domain}"


class SmtpCredential(models.Model):
    """A device or application that sends through the ACS SMTP relay.

    Behind it: an Entra application (its client secrets are the SMTP passwords) and
    an ACS SMTP Username resource that maps the login to that application.
    """

    class Kind(models.TextChoices):
        MFP = "mfp", _("Multifunction printer")
        APP = "app", _("Business application")
        OTHER = "other", pgettext_lazy("device kind", "Other")

    class Vendor(models.TextChoices):
        CANON = "canon", "Canon"
        RICOH = "ricoh", "RICOH"
        FUJIFILM = "fujifilm", "FUJIFILM Business Innovation"
        SHARP = "sharp", "SHARP"
        KYOCERA = "kyocera", "KYOCERA"
        KONICA = "konica", "KONICA MINOLTA"
        BROTHER = "brother", "Brother"
        EPSON = "epson", "EPSON"
        OTHER = "other", pgettext_lazy("vendor", "Other")

    class State(models.TextChoices):
        CREATING = "creating", _("Creating")
        ACTIVE = "active", _("Active")
        FAILED = "failed", _("Setup incomplete")
        REVOKED = "revoked", _("Revoked")

    label = models.CharField(_("name"), max_length=100)
    location = models.CharField(_("location"), max_length=200, blank=True)
    kind = models.CharField(
        _("type"), max_length=8, choices=Kind.choices, default=Kind.MFP
    )
    vendor = models.CharField(
        _("vendor"), max_length=16, choices=Vendor.choices, blank=True
    )
    model = models.CharField(_("model"), max_length=100, blank=True)
    owner_name = models.CharField(_("person in charge"), max_length=100, blank=True)
    sender_domain = models.ForeignKey(
        SendingDomain, on_delete=models.PROTECT, related_name="credentials"
    )
    # The From address the device must use (ACS refuses other senders).
    sender = models.ForeignKey(
        SenderAddress, on_delete=models.PROTECT, related_name="credentials"
    )
    username = models.CharField(_("SMTP username"), max_length=128, unique=True)
    smtp_username_resource = models.CharField(max_length=63, unique=True)
    app_object_id = models.CharField(max_length=64, blank=True)
    app_id = models.CharField(max_length=64, blank=True)
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.CREATING
    )
    last_error = models.TextField(blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label

    @property
    def active_secrets(self) -> list[CredentialSecret]:
        return [
            s for s in self.secrets.all() if s.state != CredentialSecret.State.REVOKED
        ]

    @property
    def current_secret(self) -> CredentialSecret | None:
        secrets = list(self.active_secrets)
        return max(secrets, key=lambda s: s.created_at) if secrets else None


class CredentialSecret(models.Model):
    """Metadata of one Entra client secret. The secret itself is never stored."""

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        RETIRING = "retiring", _("Retiring (old secret still works)")
        REVOKED = "revoked", _("Revoked")

    credential = models.ForeignKey(
        SmtpCredential, on_delete=models.CASCADE, related_name="secrets"
    )
    key_id = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=8, blank=True)
    expires_at = models.DateTimeField(_("expires"))
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    revoke_after = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    reminded_days = models.JSONField(
        default=list
    )  # reminders already sent: [60, 30, 7]

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.hint}… ({self.key_id[:8]})"

    @property
    def days_left(self) -> int:
        return (self.expires_at - timezone.now()).days


class SuppressedAddress(models.Model):
    domain = models.ForeignKey(
        SendingDomain, on_delete=models.CASCADE, related_name="suppressed"
    )
    email = models.CharField(_("email address"), max_length=254)
    address_id = models.CharField(max_length=64)
    notes = models.CharField(_("notes"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                fields=["domain", "email"], name="suppressed_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.email


# --- delivery analytics ---------------------------------------------------------------


class RecipientDomainClass(models.TextChoices):
    DOCOMO = "docomo", "docomo"
    AU = "au", "au"
    SOFTBANK = "softbank", "SoftBank"
    GMAIL = "gmail", "Gmail"
    OUTLOOK = "outlook", "Outlook"
    YAHOO_JP = "yahoo_jp", "Yahoo! JAPAN"
    OTHER = "other", pgettext_lazy("recipient domain", "Other")


# Identifiers (message ids, addresses, domains) compare byte-wise ("C"): every
# query on them is an equality, and ingestion inserts a million random message
# ids a day into their unique indexes, where a locale-aware comparison (what the
# database default would use) costs a strcoll() call per step down the tree.
BYTEWISE = "C"


class MessageRecord(models.Model):
    """One sent message (ACSEmailSendMailOperational row, message-level)."""

    # CorrelationId: the natural key is the primary key (a surrogate id would be
    # one more index for every ingested message to maintain).
    message_id = models.CharField(
        max_length=64, primary_key=True, db_collation=BYTEWISE
    )
    resource_id = models.CharField(max_length=400)
    sent_at = models.DateTimeField(db_index=True)
    sender_address = models.CharField(
        max_length=320, blank=True, db_index=True, db_collation=BYTEWISE
    )
    # Indexed by msg_domain_time (leading column); no index of its own.
    sender_domain = models.CharField(max_length=253, blank=True, db_collation=BYTEWISE)
    credential = models.ForeignKey(
        SmtpCredential,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    traffic_source = models.CharField(max_length=100, blank=True)
    size_mb = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    to_count = models.PositiveIntegerField(default=0)
    cc_count = models.PositiveIntegerField(default=0)
    bcc_count = models.PositiveIntegerField(default=0)
    unique_recipients = models.PositiveIntegerField(default=0)
    attachments = models.PositiveIntegerField(default=0)
    # Message-level outcome, derived from the recipients' latest statuses.
    # Indexed by msg_status_time (leading column); no index of its own.
    status = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-sent_at"]
        indexes = [
            models.Index(fields=["sender_domain", "sent_at"], name="msg_domain_time"),
            # Message search by status over a date range.
            models.Index(fields=["status", "sent_at"], name="msg_status_time"),
        ]

    def __str__(self) -> str:
        return self.message_id


class RecipientEvent(models.Model):
    """Latest delivery status of one recipient of one message.

    Natural key (message_id, recipient): Log Analytics rows and Event Grid events
    converge on the same row whichever arrives first; a status only moves forward
    in time (``status_at``), so a replay changes nothing.
    """

    message_id = models.CharField(max_length=64, db_collation=BYTEWISE)
    recipient = models.CharField(max_length=320, db_collation=BYTEWISE)
    # Indexed by recipient_domain_time (leading column); no index of its own.
    recipient_domain = models.CharField(max_length=253, db_collation=BYTEWISE)
    domain_class = models.CharField(
        max_length=10,
        choices=RecipientDomainClass.choices,
        default=RecipientDomainClass.OTHER,
    )
    # Queried by status only together with a time range: see the partial
    # indexes below (recipient_failures_time, recipient_pending_time).
    status = models.CharField(max_length=20)
    status_at = models.DateTimeField(db_index=True)
    smtp_code = models.CharField(max_length=10, blank=True)
    enhanced_code = models.CharField(max_length=16, blank=True)
    is_hard_bounce = models.BooleanField(default=False)
    failure_reason = models.CharField(max_length=400, blank=True)
    failure_message = models.TextField(blank=True)
    source = models.CharField(max_length=12, default="logs")  # logs / eventgrid

    class Meta:
        ordering = ["-status_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["message_id", "recipient"], name="recipient_event_natural_key"
            )
        ]
        indexes = [
            # Search by exact recipient: a hash index costs an ingested row half
            # of what a b-tree entry for a random address does.
            HashIndex(fields=["recipient"], name="recipient_lookup"),
            # Search by recipient domain over a date range.
            models.Index(
                fields=["recipient_domain", "status_at"], name="recipient_domain_time"
            ),
            # The dashboard's "why not delivered" table reads only failures; a
            # partial covering index keeps it off the (much larger) delivered rows.
            models.Index(
                fields=["status_at"],
                name="recipient_failures_time",
                include=[
                    "status",
                    "recipient_domain",
                    "domain_class",
                    "enhanced_code",
                    "smtp_code",
                    "is_hard_bounce",
                    "failure_reason",
                ],
                condition=models.Q(
                    status__in=[
                        "Bounced",
                        "Failed",
                        "FilteredSpam",
                        "Quarantined",
                        "Suppressed",
                    ]
                ),
            ),
            # The stuck-delivery watchdog: recipients still out for delivery.
            # Partial, so the delivered majority costs no index entry.
            models.Index(
                fields=["status_at"],
                name="recipient_pending_time",
                condition=models.Q(
                    status__in=["OutForDelivery", "outfordelivery", "OUTFORDELIVERY"]
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} {self.recipient} {self.status}"


class DeliveryAggregate(models.Model):
    """Counts per hour (and per day) and dimension, recomputed from RecipientEvent."""

    class Period(models.TextChoices):
        HOUR = "hour", _("Hour")
        DAY = "day", _("Day")

    period = models.CharField(max_length=4, choices=Period.choices)
    bucket = models.DateTimeField()  # start of the hour/day (JST day for "day")
    sender_domain = models.CharField(max_length=253, blank=True)
    sender_address = models.CharField(max_length=320, blank=True)
    credential_id = models.BigIntegerField(null=True, blank=True)
    domain_class = models.CharField(max_length=10, blank=True)
    status = models.CharField(max_length=20)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "period",
                    "bucket",
                    "sender_domain",
                    "sender_address",
                    "credential_id",
                    "domain_class",
                    "status",
                ],
                name="aggregate_natural_key",
                nulls_distinct=False,
            )
        ]
        indexes = [
            # Covering index: the dashboard's bucket scans are index-only.
            models.Index(
                fields=["period", "bucket"],
                name="aggregate_time",
                include=[
                    "sender_domain",
                    "credential_id",
                    "domain_class",
                    "status",
                    "count",
                ],
            )
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.bucket} {self.status} {self.count}"


class IngestWatermark(models.Model):
    """How far each Log Analytics table has been ingested for this tenant."""

    table = models.CharField(max_length=64, unique=True)
    ingested_until = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    rows_last_run = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.table} {self.ingested_until}"


class EngagementEvent(models.Model):
    """One open ("view") or click of one recipient (UserEngagement rows and Event
    Grid engagement events). The natural key includes the time, so the log row and
    the event of the same action converge on one row."""

    message_id = models.CharField(max_length=64, db_collation=BYTEWISE)
    recipient = models.CharField(max_length=320, db_collation=BYTEWISE)
    kind = models.CharField(max_length=10)  # view / click
    occurred_at = models.DateTimeField(db_index=True)
    context = models.TextField(blank=True)  # clicked URL
    user_agent = models.CharField(max_length=400, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["message_id", "recipient", "kind", "occurred_at"],
                name="engagement_natural_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.message_id} {self.recipient} {self.kind}"


class ProcessedEvent(models.Model):
    """Event Grid event ids already applied (idempotent processing)."""

    event_id = models.CharField(max_length=64, unique=True)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.event_id


class AnalyticsSettings(models.Model):
    """Per-tenant alert thresholds and retention (one row)."""

    bounce_rate_threshold = models.DecimalField(
        _("bounce rate alert (%)"), max_digits=5, decimal_places=2, default=2
    )
    failure_spike_factor = models.DecimalField(
        _("failure spike (× the 7-day hourly average)"),
        max_digits=5,
        decimal_places=2,
        default=3,
    )
    silent_device_hours = models.PositiveIntegerField(
        _("silent device after (hours)"), default=72
    )
    quota_warning_percent = models.PositiveIntegerField(
        _("rate-limit warning (%)"), default=80
    )
    stuck_minutes = models.PositiveIntegerField(
        _("message without final status after (minutes)"), default=60
    )
    aggregate_retention_months = models.PositiveIntegerField(default=13)
    detail_retention_days = models.PositiveIntegerField(default=90)
    alert_emails_enabled = models.BooleanField(_("email alerts"), default=True)
    # SHA-256 of the Event Grid webhook secret (the secret itself lives only in the
    # subscription URL); empty until one is issued.
    eventgrid_secret_hash = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return "analytics settings"


# --- bulk notifications ---------------------------------------------------------------


class RecipientList(models.Model):
    """An uploaded CSV of recipients with merge fields.

    The upload is validated first (streamed, never held in memory) into
    ``ListRejection`` rows and counts; nothing becomes usable until the user has
    seen the result and chosen to import the valid rows (state ``ready``) or
    discard the file. A partly invalid file is therefore never half-imported.
    """

    class State(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded (confirm the encoding)")
        VALIDATING = "validating", _("Validating")
        VALIDATED = "validated", _("Validated (review the result)")
        READY = "ready", _("Ready")
        DISCARDED = "discarded", _("Discarded")
        FAILED = "failed", _("Could not be read")

    name = models.CharField(_("name"), max_length=200)
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.UPLOADED
    )
    source_filename = models.CharField(max_length=255, blank=True)
    # Private storage path of the uploaded file, removed once imported/discarded.
    upload_path = models.CharField(max_length=500, blank=True)
    upload_size = models.BigIntegerField(default=0)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    detected_encoding = models.CharField(max_length=20, blank=True)
    email_column = models.CharField(max_length=100, blank=True)
    # Merge-field names (CSV header order, without the e-mail column).
    fields = models.JSONField(default=list)
    total_rows = models.PositiveIntegerField(default=0)
    valid_count = models.PositiveIntegerField(default=0)
    invalid_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    suppressed_count = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_by = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class ListRecipient(models.Model):
    """One valid, deduplicated, not-suppressed row of a recipient list."""

    recipient_list = models.ForeignKey(
        RecipientList, on_delete=models.CASCADE, related_name="recipients"
    )
    row_number = models.PositiveIntegerField()  # Excel row number in the file
    email = models.CharField(max_length=320)
    # local part as written + lower-cased domain (csvio.dedupe_key).
    email_key = models.CharField(max_length=320)
    data = models.JSONField(default=dict)  # merge field name -> value

    class Meta:
        ordering = ["recipient_list", "row_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient_list", "email_key"], name="list_recipient_unique"
            )
        ]

    def __str__(self) -> str:
        return self.email


class ListRejection(models.Model):
    """A row left out of a recipient list, with the reason shown to the user."""

    class Reason(models.TextChoices):
        INVALID = "invalid", _("Invalid address")
        DUPLICATE = "duplicate", _("Duplicate")
        SUPPRESSED = "suppressed", _("On the suppression list")
        MALFORMED = "malformed", _("Malformed row")

    recipient_list = models.ForeignKey(
        RecipientList, on_delete=models.CASCADE, related_name="rejections"
    )
    row_number = models.PositiveIntegerField()
    reason = models.CharField(max_length=12, choices=Reason.choices)
    value = models.CharField(max_length=320, blank=True)
    detail = models.CharField(max_length=400, blank=True)

    class Meta:
        ordering = ["recipient_list", "row_number"]
        indexes = [
            models.Index(fields=["recipient_list", "reason"], name="rejection_reason")
        ]

    def __str__(self) -> str:
        return f"{self.row_number} {self.reason}"


class Campaign(models.Model):
    """A bulk notification: one message template sent to every recipient of a list.

    Recipients are copied into ``CampaignRecipient`` when the campaign is queued,
    so editing or deleting the list later never changes what was sent.
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        RUNNING = "running", _("Sending")
        PAUSED = "paused", _("Paused")
        CANCELLED = "cancelled", _("Cancelled")
        COMPLETED = "completed", _("Completed")

    # States in which workers may send.
    SENDABLE = (State.RUNNING,)

    uuid = models.UUIDField(unique=True, editable=False, default=uuid.uuid4)
    name = models.CharField(_("name"), max_length=200)
    state = models.CharField(max_length=12, choices=State.choices, default=State.DRAFT)
    sender = models.ForeignKey(
        SenderAddress, on_delete=models.PROTECT, related_name="campaigns"
    )
    recipient_list = models.ForeignKey(
        RecipientList,
        on_delete=models.PROTECT,
        related_name="campaigns",
        null=True,
        blank=True,
    )
    reply_to = models.EmailField(_("reply-to"), blank=True)
    subject = models.CharField(_("subject"), max_length=400)
    body_text = models.TextField(_("plain-text body"))
    body_html = models.TextField(_("HTML body"), blank=True)  # sanitised on save
    # Send window in JST: hours [start, end) on the selected weekdays (0 = Monday).
    window_start_hour = models.PositiveSmallIntegerField(null=True, blank=True)
    window_end_hour = models.PositiveSmallIntegerField(null=True, blank=True)
    window_weekdays = models.JSONField(default=list, blank=True)
    scheduled_at = models.DateTimeField(_("start at"), null=True, blank=True)
    rate_cap_per_minute = models.PositiveIntegerField(
        _("rate cap (messages per minute)"), null=True, blank=True
    )
    total_recipients = models.PositiveIntegerField(default=0)
    created_by = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Why the campaign is paused when the system (not a user) paused it, e.g. a
    # spend-cap hard action; empty for a user pause.
    pause_reason = models.CharField(max_length=200, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class CampaignAttachment(models.Model):
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="attachments"
    )
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    content = models.BinaryField()

    def __str__(self) -> str:
        return self.name


class CampaignRecipient(models.Model):
    """One recipient of one campaign and where its send stands.

    queued -> sending (claimed by a worker batch) -> accepted (ACS returned the
    operation) -> delivered / bounced / failed (from the analytics pipeline).
    ``operation_id`` is derived from (campaign.uuid, seq) and never changes, so a
    retry after a timeout or a worker crash is deduplicated by ACS.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        ACCEPTED = "accepted", _("Accepted")
        DELIVERED = "delivered", _("Delivered")
        BOUNCED = "bounced", _("Bounced")
        FAILED = "failed", _("Failed")
        SUPPRESSED = "suppressed", _("Suppressed")
        CANCELLED = "cancelled", _("Cancelled")

    TERMINAL = (
        State.DELIVERED,
        State.BOUNCED,
        State.FAILED,
        State.SUPPRESSED,
        State.CANCELLED,
    )

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="recipients"
    )
    seq = models.PositiveIntegerField()
    email = models.CharField(max_length=320)
    data = models.JSONField(default=dict)
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    operation_id = models.UUIDField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    status_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    delivery_status = models.CharField(max_length=20, blank=True)  # ACS status
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.CharField(max_length=400, blank=True)

    class Meta:
        ordering = ["campaign", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "seq"], name="campaign_recipient_seq"
            ),
            models.UniqueConstraint(
                fields=["operation_id"], name="campaign_recipient_operation"
            ),
        ]
        indexes = [
            # Workers claim the next queued recipients of a campaign in seq order.
            models.Index(
                fields=["campaign", "seq"],
                name="campaign_recipient_queued",
                condition=models.Q(state="queued"),
            ),
            models.Index(fields=["campaign", "state"], name="campaign_recipient_state"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}#{self.seq} {self.email}"
