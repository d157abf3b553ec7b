"""Composing a campaign before it is queued: the draft, its attachments, the send
window and rate, and the estimate shown on the confirmation page.

The sending engine (``services.py``) takes over at ``campaign_queue``; everything
here only edits drafts.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mailops.campaigns import render as rendering
from mailops.campaigns.services import MAX_MESSAGE_BYTES, message_size
from mailops.models import AcsFootprint, Campaign, CampaignAttachment
from mailops.services.common import require
from portal.errors import ServiceError
from tenants.accounts.audit import AuditContext, audit_record

# Extensions ACS accepts as attachments (its documented list, the common part).
# The content type is taken from the extension, never from the browser.
ALLOWED_EXTENSIONS = frozenset(
    {
        ".pdf", ".txt", ".csv", ".rtf", ".ics",
        ".doc", ".docx", ".xls", ".xlsx", ".xlsm", ".ppt", ".pptx",
        ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp",
        ".zip", ".7z", ".gz",
        ".mp3", ".mp4", ".wav",
    }
)  # fmt: skip
# Window presets: JST business hours is what Japanese recipients expect from a
# company notice.
BUSINESS_HOURS = (9, 18, [0, 1, 2, 3, 4])
# ACS Email list prices (USD) used when no price version has been entered yet.
LIST_PRICE_EMAIL_USD = Decimal("0.00025")
LIST_PRICE_MB_USD = Decimal("0.00012")
EDITABLE_FIELDS = (
    "name",
    "sender",
    "reply_to",
    "subject",
    "body_text",
    "body_html",
    "recipient_list",
)


def base64_size(size: int) -> int:
    return 4 * ((size + 2) // 3)


def _check_attachments(
    campaign: Campaign | None, uploads: list[UploadedFile], removed: set[int]
) -> None:
    """Refuse executables and anything ACS does not take, and a total over 10 MB."""
    for upload in uploads:
        extension = PurePath(upload.name or "").suffix.lower()
        if extension not in ALLOWED_EXTENSIONS:
            raise ServiceError(
                _(
                    "%(name)s cannot be attached: ACS does not accept %(ext)s files. "
                    "Attach PDF, Office, image, text or ZIP files."
                )
                % {
                    "name": upload.name,
                    "ext": extension or _("files without an extension"),
                },
                field="attachments",
            )
    kept = 0
    if campaign is not None and campaign.pk:
        kept = sum(
            base64_size(size)
            for pk, size in campaign.attachments.values_list("pk", "size")
            if pk not in removed
        )
    total = kept + sum(base64_size(upload.size or 0) for upload in uploads)
    if total > MAX_MESSAGE_BYTES:
        raise ServiceError(
            _(
                "The attachments come to %(mb)s MB once encoded for sending (base64 "
                "adds a third); ACS accepts at most 10 MB per message."
            )
            % {"mb": f"{total / 1024 / 1024:.1f}"},
            field="attachments",
        )


def campaign_draft_save(
    *,
    ctx: AuditContext,
    campaign: Campaign | None,
    data: dict[str, Any],
    attachments: list[UploadedFile] | None = None,
    remove_attachments: list[int] | None = None,
) -> Campaign:
    """Create or update a draft; the HTML body is stored sanitised.

    Raises ServiceError (nothing saved) for a campaign that is no longer a draft,
    refused attachments or a message over ACS's 10 MB.
    """
    require(ctx, "campaigns.manage")
    uploads = attachments or []
    removed = set(remove_attachments or [])
    if campaign is not None and campaign.state != Campaign.State.DRAFT:
        raise ServiceError(_("Only a draft campaign can be changed."))
    _check_attachments(campaign, uploads, removed)
    with transaction.atomic():
        if campaign is None:
            campaign = Campaign(created_by=ctx.actor_email)
        else:
            campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
            if campaign.state != Campaign.State.DRAFT:
                raise ServiceError(_("Only a draft campaign can be changed."))
        for name in EDITABLE_FIELDS:
            if name in data:
                setattr(campaign, name, data[name])
        campaign.body_html = rendering.sanitize_html(campaign.body_html or "")
        created = campaign.pk is None
        campaign.save()
        if removed:
            CampaignAttachment.objects.filter(
                campaign=campaign, pk__in=removed
            ).delete()
        for upload in uploads:
            content = b"".join(upload.chunks())
            CampaignAttachment.objects.create(
                campaign=campaign,
                name=PurePath(upload.name or "file").name[:255],
                content_type=mimetypes.guess_type(upload.name or "")[0]
                or "application/octet-stream",
                size=len(content),
                content=content,
            )
        size = message_size(campaign)
        if size > MAX_MESSAGE_BYTES:
            raise ServiceError(
                _("The message is %(mb)s MB; ACS accepts at most 10 MB per message.")
                % {"mb": f"{size / 1024 / 1024:.1f}"},
                field="attachments",
            )
        audit_record(
            ctx=ctx,
            action="campaign.create" if created else "campaign.edit",
            target=campaign,
            after={"subject": campaign.subject, "attachments": len(uploads)},
        )
    return campaign


def campaign_schedule_save(
    *,
    ctx: AuditContext,
    campaign: Campaign,
    window: tuple[int | None, int | None, list[int]],
    start_at: datetime | None,
    rate_cap_per_minute: int | None,
) -> Campaign:
    """Store the send window (JST hours, None = all day; weekdays), the start
    time (None = now) and the rate cap of a draft.

    Raises ServiceError when the cap is above the resource's limit or the start
    time is in the past.
    """
    require(ctx, "campaigns.manage")
    limit = resource_limit_per_minute()
    if rate_cap_per_minute is not None and limit and rate_cap_per_minute > limit:
        raise ServiceError(
            _(
                "The rate cap must not exceed your ACS resource's limit of %(limit)d "
                "messages per minute."
            )
            % {"limit": limit},
            field="rate_cap_per_minute",
        )
    if start_at is not None and start_at < timezone.now() - timezone.timedelta(
        minutes=1
    ):
        raise ServiceError(_("The start time is in the past."), field="start_at")
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.state != Campaign.State.DRAFT:
            raise ServiceError(_("Only a draft campaign can be changed."))
        start_hour, end_hour, weekdays = window
        campaign.window_start_hour = start_hour
        campaign.window_end_hour = end_hour
        campaign.window_weekdays = weekdays
        campaign.scheduled_at = start_at
        campaign.rate_cap_per_minute = rate_cap_per_minute
        campaign.save(
            update_fields=[
                "window_start_hour",
                "window_end_hour",
                "window_weekdays",
                "scheduled_at",
                "rate_cap_per_minute",
            ]
        )
        audit_record(
            ctx=ctx,
            action="campaign.schedule",
            target=campaign,
            after={
                "window": [start_hour, end_hour, weekdays],
                "start_at": start_at.isoformat() if start_at else None,
                "rate_cap_per_minute": rate_cap_per_minute,
            },
        )
    return campaign


# --- limits and estimate ----------------------------------------------------------------


def footprint() -> AcsFootprint | None:
    return AcsFootprint.objects.order_by("pk").first()


def resource_limit_per_minute() -> int:
    """Messages per minute the tenant's ACS resource accepts (0 when unknown)."""
    fp = footprint()
    return fp.quota_per_minute if fp is not None else 0


def sustained_rate_per_minute(cap: int | None) -> int:
    """The rate a long campaign really gets: the cap, the per-minute quota and the
    hourly quota spread over the hour (100/h is under 2/min), whichever is lowest."""
    fp = footprint()
    limits = [cap or 0]
    if fp is not None:
        limits += [fp.quota_per_minute, max(1, fp.quota_per_hour // 60)]
    positive = [limit for limit in limits if limit > 0]
    return min(positive) if positive else 1


@dataclass(frozen=True)
class Estimate:
    recipients: int
    rate_per_minute: int
    minutes: int
    usd: Decimal
    jpy: int
    fx_note: str


def _prices() -> tuple[Decimal, Decimal]:
    from billing.services.pricing import BillingDataMissing, price_on

    try:
        version = price_on(timezone.localdate())
    except BillingDataMissing:
        return LIST_PRICE_EMAIL_USD, LIST_PRICE_MB_USD
    return version.email_usd, version.megabyte_usd


def _jpy_per_usd() -> tuple[Decimal, str]:
    from billing.services.pricing import (
        BillingDataMissing,
        applied_rate,
        default_contract,
    )
    from tenants.models import Customer

    tenant = Customer.objects.filter(schema_name=connection.schema_name).first()
    if tenant is not None:
        try:
            rate = applied_rate(
                default_contract(tenant), timezone.localdate().replace(day=1)
            )
        except BillingDataMissing:
            pass
        else:
            return rate.rate, f"{rate.rate_type} {rate.rate_date:%Y-%m-%d}"
    fallback = Decimal(settings.SUPPORT_FALLBACK_JPY_PER_USD)
    return fallback, _("provisional rate ¥%(rate)s/USD") % {"rate": fallback}


def campaign_estimate(campaign: Campaign, recipients: int) -> Estimate:
    """Sending time at the capped rate (outside-window hours not counted) and the
    ACS charge: emails × unit price + megabytes × unit price, converted once."""
    from billing.services import money

    rate = sustained_rate_per_minute(campaign.rate_cap_per_minute)
    minutes = -(-recipients // rate) if recipients else 0
    email_price, mb_price = _prices()
    megabytes = Decimal(message_size(campaign)) * recipients / Decimal(1024 * 1024)
    emails_usd, mb_usd = money.usage_usd(recipients, megabytes, email_price, mb_price)
    usd = (emails_usd + mb_usd).quantize(money.USD_Q)
    fx, note = _jpy_per_usd()
    return Estimate(
        recipients=recipients,
        rate_per_minute=rate,
        minutes=minutes,
        usd=usd,
        jpy=money.convert_usd(usd, fx, money.CEIL),
        fx_note=note,
    )
