"""Event Grid webhook: per-tenant secret, validation handshake, event parsing.

The subscription URL carries a random secret (``/hooks/eventgrid/<secret>/``);
only its SHA-256 is stored, and the webhook compares digests in constant time.
The secret is therefore shown once, when it is issued (``eventgrid_secret_issue``,
command ``eventgrid_url``); issuing a new one retires the old URL.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.urls import reverse

from mailops.analytics.ingest import (
    DeliveryEvent,
    EngagementReport,
    analytics_settings,
    apply_events,
)
from mailops.models import AnalyticsSettings
from tenants.accounts.audit import AuditContext, audit_record

logger = logging.getLogger(__name__)

DELIVERY = "Microsoft.Communication.EmailDeliveryReportReceived"
ENGAGEMENT = "Microsoft.Communication.EmailEngagementTrackingReportReceived"
VALIDATION = "Microsoft.EventGrid.SubscriptionValidationEvent"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def eventgrid_secret_issue(*, ctx: AuditContext) -> str:
    """Create (or replace) the tenant's webhook secret; return it in clear.

    The caller shows it once (inside the subscription URL); it is not stored.
    """
    row = analytics_settings()
    secret = secrets.token_urlsafe(32)
    replaced = bool(row.eventgrid_secret_hash)
    row.eventgrid_secret_hash = _digest(secret)
    row.save(update_fields=["eventgrid_secret_hash"])
    audit_record(
        ctx=ctx,
        action="analytics.eventgrid_secret_issued",
        target=row,
        after={"replaced": replaced},
    )
    return secret


def eventgrid_secret_matches(secret: str) -> bool:
    """True when ``secret`` is the current tenant's webhook secret (constant time)."""
    stored = (
        AnalyticsSettings.objects.order_by("pk")
        .values_list("eventgrid_secret_hash", flat=True)
        .first()
    )
    # Compare digests, so the time taken says nothing about the stored value;
    # an unset secret still costs one comparison and never matches.
    candidate = _digest(secret)
    return hmac.compare_digest(candidate, stored or "0" * 64) and bool(stored)


def eventgrid_url(secret: str) -> str:
    """The absolute subscription URL of the current tenant for ``secret``."""
    from tenants.hosts import tenant_origin
    from tenants.models import Customer

    tenant = Customer.objects.get(schema_name=connection.schema_name)
    path = reverse("eventgrid_webhook", kwargs={"secret": secret})
    return tenant_origin(tenant) + path


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    # .NET timestamps carry 7 fractional digits; Python takes at most 6.
    if "." in text:
        head, _, tail = text.partition(".")
        digits = "".join(ch for ch in tail if ch.isdigit())
        rest = tail[len(digits) :]
        text = f"{head}.{digits[:6]}{rest}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _field(data: dict[str, Any], *names: str) -> Any:
    # Casing differs between docs and spec (deliveryAttemptTimeStamp vs
    # ...Timestamp; azure-facts §8.1): accept any casing.
    lowered = {k.lower(): v for k, v in data.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def parse_events(
    events: Iterable[dict[str, Any]],
) -> tuple[list[DeliveryEvent], list[EngagementReport]]:
    """Turn Event Grid (or CloudEvents) dicts into typed events; skip the rest."""
    deliveries: list[DeliveryEvent] = []
    engagements: list[EngagementReport] = []
    for event in events:
        if not isinstance(event, dict):
            continue
        kind = str(event.get("eventType") or event.get("type") or "")
        event_id = str(event.get("id") or "")[:64]
        data = event.get("data")
        if not event_id or not isinstance(data, dict):
            continue
        message_id = str(_field(data, "messageId") or "")[:64]
        recipient = str(_field(data, "recipient") or "").strip().lower()
        if not message_id or not recipient:
            continue
        if kind == DELIVERY:
            at = _parse_time(_field(data, "deliveryAttemptTimeStamp")) or _parse_time(
                event.get("eventTime") or event.get("time")
            )
            details = _field(data, "deliveryStatusDetails") or {}
            if at is None:
                continue
            deliveries.append(
                DeliveryEvent(
                    event_id=event_id,
                    message_id=message_id,
                    recipient=recipient,
                    status=str(_field(data, "status") or ""),
                    at=at,
                    sender=str(_field(data, "sender") or "").lower(),
                    status_message=str(
                        _field(details, "statusMessage") or ""
                        if isinstance(details, dict)
                        else ""
                    ),
                )
            )
        elif kind == ENGAGEMENT:
            at = _parse_time(_field(data, "userActionTimeStamp")) or _parse_time(
                event.get("eventTime") or event.get("time")
            )
            if at is None:
                continue
            engagements.append(
                EngagementReport(
                    event_id=event_id,
                    message_id=message_id,
                    recipient=recipient,
                    kind=str(_field(data, "engagementType") or "").lower()[:10],
                    at=at,
                    context=str(_field(data, "engagementContext") or ""),
                    user_agent=str(_field(data, "userAgent") or "")[:400],
                )
            )
    return deliveries, engagements


def eventgrid_receive(events: list[dict[str, Any]]) -> int:
    """Apply a Notification batch to the current tenant; return new events applied.

    Idempotent: event ids already processed are ignored (ProcessedEvent).
    """
    deliveries, engagements = parse_events(events)
    if not deliveries and not engagements:
        return 0
    applied = apply_events(deliveries=deliveries, engagements=engagements)
    if deliveries:
        # Campaign recipients take their delivery status from these events.
        from mailops.campaigns.tasks import campaigns_reconcile_soon

        campaigns_reconcile_soon()
    return applied


def validation_code(events: list[dict[str, Any]]) -> str | None:
    """The validationCode of a SubscriptionValidation batch, if it is one."""
    for event in events:
        if not isinstance(event, dict):
            continue
        if str(event.get("eventType") or event.get("type") or "") == VALIDATION:
            data = event.get("data")
            if isinstance(data, dict) and data.get("validationCode"):
                return str(data["validationCode"])
    return None
