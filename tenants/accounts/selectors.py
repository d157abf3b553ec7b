from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from tenants.accounts.models import AuditEvent


def audit_events_filtered(filters: dict[str, Any]) -> QuerySet[AuditEvent]:
    """Audit events of the current schema matching the filter form's cleaned data."""
    events = AuditEvent.objects.all()
    if filters.get("q"):
        q = filters["q"]
        events = events.filter(
            Q(actor_email__icontains=q)
            | Q(target_label__icontains=q)
            | Q(action__icontains=q)
        )
    if filters.get("action"):
        events = events.filter(action__startswith=filters["action"])
    tz = timezone.get_current_timezone()
    if filters.get("since"):
        start = dt.datetime.combine(filters["since"], dt.time.min, tzinfo=tz)
        events = events.filter(occurred_at__gte=start)
    if filters.get("until"):
        end = dt.datetime.combine(filters["until"], dt.time.max, tzinfo=tz)
        events = events.filter(occurred_at__lte=end)
    return events
