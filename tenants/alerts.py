"""Raising and resolving alerts from any schema (rows live in the public schema)."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from tenants.models import Alert, Customer


def _current_tenant() -> Customer:
    return Customer.objects.get(schema_name=connection.schema_name)


def alert_raise(
    *, kind: str, cause_key: str, severity: str, title: str, detail: str = ""
) -> Alert:
    """Open an alert for the current tenant, or refresh the open one for this cause.

    Nothing is raised twice for one cause: a partial unique constraint backs this.
    """
    tenant = _current_tenant()
    with transaction.atomic():
        alert, created = Alert.objects.select_for_update().get_or_create(
            tenant=tenant,
            kind=kind,
            cause_key=cause_key,
            state__in=[Alert.State.OPEN, Alert.State.ACKNOWLEDGED],
            defaults={"severity": severity, "title": title, "detail": detail},
        )
        if not created:
            alert.severity = severity
            alert.title = title
            alert.detail = detail
            alert.save(update_fields=["severity", "title", "detail", "last_seen_at"])
    return alert


def alert_resolve(*, kind: str, cause_key: str) -> int:
    """Resolve the current tenant's open alert for this cause; returns how many."""
    return Alert.objects.filter(
        tenant=_current_tenant(),
        kind=kind,
        cause_key=cause_key,
        state__in=[Alert.State.OPEN, Alert.State.ACKNOWLEDGED],
    ).update(state=Alert.State.RESOLVED, resolved_at=timezone.now())


def open_alerts_for_current_tenant() -> list[Alert]:
    return list(
        Alert.objects.filter(tenant__schema_name=connection.schema_name).exclude(
            state=Alert.State.RESOLVED
        )
    )
