"""Rows for the analytics UI tests, written directly (ingestion has its own tests)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

JST = ZoneInfo("Asia/Tokyo")


def jst_day(days_ago: int = 0) -> dt.date:
    return timezone.now().astimezone(JST).date() - dt.timedelta(days=days_ago)


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=JST)


def add_aggregates(
    day: dt.date,
    counts: dict[str, int],
    *,
    sender_domain: str = "mail.alpha.example",
    sender_address: str = "info@mail.alpha.example",
    credential_id: int | None = None,
    domain_class: str = "gmail",
    hour: int = 10,
) -> None:
    """One day row and one hour row (at ``hour`` JST) per status."""
    from mailops.models import DeliveryAggregate

    rows = []
    for status, count in counts.items():
        for period, bucket in (
            ("day", day_start(day)),
            ("hour", day_start(day) + dt.timedelta(hours=hour)),
        ):
            rows.append(
                DeliveryAggregate(
                    period=period,
                    bucket=bucket,
                    sender_domain=sender_domain,
                    sender_address=sender_address,
                    credential_id=credential_id,
                    domain_class=domain_class,
                    status=status,
                    count=count,
                )
            )
    DeliveryAggregate.objects.bulk_create(rows)


def add_message(
    message_id: str,
    sent_at: dt.datetime,
    recipients: list[dict[str, object]],
    *,
    sender: str = "info@mail.alpha.example",
    credential_id: int | None = None,
    status: str = "",
):
    """A MessageRecord and one RecipientEvent per recipient dict."""
    from mailops.models import MessageRecord, RecipientEvent

    statuses = [str(r.get("status", "Delivered")) for r in recipients]
    if not status:
        status = (
            "Delivered"
            if all(s == "Delivered" for s in statuses)
            else next((s for s in statuses if s != "Delivered"), "")
        )
    message = MessageRecord.objects.create(
        message_id=message_id,
        resource_id="/subscriptions/x/resourceGroups/rg/providers/Microsoft.Communication/communicationServices/alpha",
        sent_at=sent_at,
        sender_address=sender,
        sender_domain=sender.split("@")[1],
        credential_id=credential_id,
        to_count=len(recipients),
        unique_recipients=len(recipients),
        status=status,
    )
    RecipientEvent.objects.bulk_create(
        [
            RecipientEvent(
                message_id=message_id,
                recipient=str(r["recipient"]),
                recipient_domain=str(r["recipient"]).split("@")[1],
                domain_class=str(r.get("domain_class", "other")),
                status=str(r.get("status", "Delivered")),
                status_at=r.get("status_at") or sent_at + dt.timedelta(seconds=30),
                smtp_code=str(r.get("smtp_code", "")),
                enhanced_code=str(r.get("enhanced_code", "")),
                is_hard_bounce=bool(r.get("is_hard_bounce", False)),
                failure_reason=str(r.get("failure_reason", "")),
                source=str(r.get("source", "logs")),
            )
            for r in recipients
        ]
    )
    return message


def make_credential(label: str = "本社3F 複合機"):
    """A device credential without touching Azure (rows only)."""
    from mailops.models import SenderAddress, SendingDomain, SmtpCredential

    domain, _ = SendingDomain.objects.get_or_create(
        name="mail.alpha.example",
        defaults={
            "display_name": "mail.alpha.example",
            "management": SendingDomain.Management.CUSTOMER,
        },
    )
    sender, _ = SenderAddress.objects.get_or_create(
        domain=domain, username="scan", defaults={"display_name": "scan"}
    )
    n = SmtpCredential.objects.count() + 1
    return SmtpCredential.objects.create(
        label=label,
        sender_domain=domain,
        sender=sender,
        username=f"dev{n}.alpha",
        smtp_username_resource=f"dev{n}",
        state=SmtpCredential.State.ACTIVE,
    )


def clear_analytics(schema: str = "alpha") -> None:
    """Delete the analytics rows (and the row-only credential) of ``schema``.

    Transactional tests (browser, real worker) commit for real and the flush
    after them empties only public tables, so tenant rows would leak into later
    tests.
    """
    from django_tenants.utils import schema_context

    from mailops.models import (
        AnalyticsSettings,
        DeliveryAggregate,
        IngestWatermark,
        MessageRecord,
        RecipientEvent,
        SenderAddress,
        SendingDomain,
        SmtpCredential,
    )

    with schema_context(schema):
        DeliveryAggregate.objects.all().delete()
        RecipientEvent.objects.all().delete()
        MessageRecord.objects.all().delete()
        AnalyticsSettings.objects.all().delete()
        IngestWatermark.objects.all().delete()
        SmtpCredential.objects.filter(sender_domain__name="mail.alpha.example").delete()
        SenderAddress.objects.filter(domain__name="mail.alpha.example").delete()
        SendingDomain.objects.filter(name="mail.alpha.example").delete()
