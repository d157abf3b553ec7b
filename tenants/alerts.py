"""Raising and resolving alerts from any schema (rows live in the public schema)."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.errors import ServiceError
from tenants.accounts.audit import AuditContext, audit_record
from tenants.accounts.models import User
from tenants.accounts.roles import StaffRole, staff_can
from tenants.models import Alert, AlertNote, Customer
from tenants.summaries import summary_alerts_refresh


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
    summary_alerts_refresh(tenant.pk)
    return alert


def alert_resolve(*, kind: str, cause_key: str) -> int:
    """Resolve the current tenant's open alert for this cause; returns how many."""
    tenant = _current_tenant()
    resolved = Alert.objects.filter(
        tenant=tenant,
        kind=kind,
        cause_key=cause_key,
        state__in=[Alert.State.OPEN, Alert.State.ACKNOWLEDGED],
    ).update(state=Alert.State.RESOLVED, resolved_at=timezone.now())
    if resolved:
        summary_alerts_refresh(tenant.pk)
    return resolved


def open_alerts_for_current_tenant() -> list[Alert]:
    return list(
        Alert.objects.filter(tenant__schema_name=connection.schema_name).exclude(
            state=Alert.State.RESOLVED
        )
    )


def alert_acknowledge(*, ctx: AuditContext, alert_id: int) -> Alert:
    """Acknowledge the current tenant's open alert ``alert_id`` (audited).

    Raises ``Alert.DoesNotExist`` for another tenant's, a resolved or an unknown
    alert, so views answer 404. An acknowledged alert stays until its cause clears.
    """
    from tenants.accounts.audit import audit_record

    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(
            pk=alert_id,
            tenant__schema_name=connection.schema_name,
            state__in=[Alert.State.OPEN, Alert.State.ACKNOWLEDGED],
        )
        if alert.state == Alert.State.OPEN:
            alert.state = Alert.State.ACKNOWLEDGED
            alert.acknowledged_at = timezone.now()
            alert.save(update_fields=["state", "acknowledged_at", "last_seen_at"])
            audit_record(
                ctx=ctx,
                action="alert.acknowledge",
                target=alert,
                after={"kind": alert.kind, "cause_key": alert.cause_key},
            )
    return alert


# --- staff handling (alerts queue on the public host) ---------------------------------

ALERT_LIVE_STATES = (Alert.State.OPEN, Alert.State.ACKNOWLEDGED)


class AlertStateError(ServiceError):
    """The alert is already resolved (staff actions need a live alert)."""


def _alert_for_update(alert_id: int) -> Alert:
    return Alert.objects.select_for_update().select_related("tenant").get(pk=alert_id)


def _audit_alert(
    ctx: AuditContext, alert: Alert, action: str, after: dict[str, Any]
) -> None:
    # tenant_id in ``after`` lets the tenant detail page find these public rows.
    audit_record(
        ctx=ctx,
        action=action,
        target=alert,
        after={"tenant_id": alert.tenant_id, "kind": alert.kind, **after},
    )


@transaction.atomic
def alert_assign(*, ctx: AuditContext, alert_id: int, assignee: User | None) -> Alert:
    """Assign the alert to a staff user (or unassign with None); audited.

    Raises ``Alert.DoesNotExist``, ``AlertStateError`` (resolved) or ``ServiceError``
    (assignee is not active support staff or an administrator).
    """
    alert = _alert_for_update(alert_id)
    if alert.state == Alert.State.RESOLVED:
        raise AlertStateError(_("This alert is already resolved."))
    if assignee is not None and not (
        assignee.is_active and staff_can(assignee, StaffRole.SUPPORT)
    ):
        raise ServiceError(_("Alerts can only be assigned to staff."), field="assignee")
    alert.assigned_to = assignee
    alert.save(update_fields=["assigned_to", "last_seen_at"])
    _audit_alert(
        ctx, alert, "alert.assign", {"assignee": assignee.email if assignee else ""}
    )
    return alert


@transaction.atomic
def alert_acknowledge_by_staff(*, ctx: AuditContext, alert_id: int) -> Alert:
    """Mark an open alert acknowledged (someone is on it); audited. Idempotent."""
    alert = _alert_for_update(alert_id)
    if alert.state == Alert.State.RESOLVED:
        raise AlertStateError(_("This alert is already resolved."))
    if alert.state == Alert.State.OPEN:
        alert.state = Alert.State.ACKNOWLEDGED
        alert.acknowledged_at = timezone.now()
        alert.save(update_fields=["state", "acknowledged_at", "last_seen_at"])
        _audit_alert(ctx, alert, "alert.acknowledge", {"state": alert.state})
    return alert


@transaction.atomic
def alert_resolve_by_staff(
    *, ctx: AuditContext, alert_id: int, note: str = ""
) -> Alert:
    """Resolve the alert (with an optional note); audited. Idempotent.

    The flow that raised it may raise it again later if the cause persists: that
    opens a new alert, since the one-open-per-cause constraint ignores resolved ones.
    """
    alert = _alert_for_update(alert_id)
    if alert.state != Alert.State.RESOLVED:
        alert.state = Alert.State.RESOLVED
        alert.resolved_at = timezone.now()
        alert.save(update_fields=["state", "resolved_at", "last_seen_at"])
        if note.strip():
            _note_create(ctx, alert, note)
        _audit_alert(ctx, alert, "alert.resolve", {"state": alert.state})
        summary_alerts_refresh(alert.tenant_id)
    return alert


def _note_create(ctx: AuditContext, alert: Alert, text: str) -> AlertNote:
    return AlertNote.objects.create(
        alert=alert,
        author_id=ctx.actor_id,
        author_email=ctx.actor_email,
        text=text.strip(),
    )


@transaction.atomic
def alert_add_note(*, ctx: AuditContext, alert_id: int, text: str) -> AlertNote:
    """Append a staff note to the alert (any state); audited."""
    if not text.strip():
        raise ServiceError(_("Enter a note."), field="text")
    alert = _alert_for_update(alert_id)
    note = _note_create(ctx, alert, text)
    _audit_alert(ctx, alert, "alert.note", {"note_id": note.pk})
    return note
