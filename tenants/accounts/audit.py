"""Writing audit events. Services call ``audit_record`` inside their transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.http import HttpRequest

from tenants.accounts.models import AuditEvent


@dataclass(frozen=True)
class AuditContext:
    """Who is acting, and from where. Built once per request and passed to services."""

    actor_id: int | None = None
    actor_email: str = ""
    actor_kind: str = "system"
    role: str = ""
    is_staff: bool = False
    ip_address: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest) -> AuditContext:
        user = request.user
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        ip = forwarded.split(",")[0].strip() or request.META.get("REMOTE_ADDR") or None
        if user.is_authenticated and getattr(user, "is_support", False):
            # Record the staff member behind a support identity, not the identity.
            return cls(
                actor_id=user.pk,
                actor_email=request.session.get("support_staff_email", user.email),
                actor_kind="support",
                role=user.role,
                ip_address=ip,
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:400],
            )
        if user.is_authenticated:
            return cls(
                actor_id=user.pk,
                actor_email=user.email,
                actor_kind="staff" if user.is_staff else "user",
                role="" if user.is_staff else user.role,
                is_staff=user.is_staff,
                ip_address=ip,
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:400],
            )
        return cls(
            actor_kind="anonymous",
            ip_address=ip,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:400],
        )

    @classmethod
    def system(cls, label: str = "system") -> AuditContext:
        return cls(actor_email=label, actor_kind="system")


def audit_record(
    *,
    ctx: AuditContext,
    action: str,
    target: Any = None,
    target_type: str = "",
    target_id: str = "",
    target_label: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event in the current schema and return it.

    Call it inside the service's transaction so the event and the change commit or
    roll back together.
    """
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
        target_label = target_label or str(target)[:254]
    return AuditEvent.objects.create(
        actor_id=ctx.actor_id,
        actor_email=ctx.actor_email,
        actor_kind=ctx.actor_kind,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label[:254],
        tenant_schema=connection.schema_name,
        before=before or {},
        after=after or {},
        ip_address=ctx.ip_address,
        user_agent=ctx.user_agent,
    )
