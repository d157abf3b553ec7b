"""Support access with the customer's consent.

An owner grants MSP staff time-limited, scoped access. Staff open the tenant portal
through a short-lived signed handoff from the public console and act there as a
*support identity* (a user row flagged ``is_support`` with no password). Every page
view and action is audited in the tenant's audit log under the staff member's name.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from portal.errors import ServiceError
from tenants.accounts.audit import AuditContext, audit_record
from tenants.accounts.models import SupportGrant, User
from tenants.accounts.roles import Role, role_can

_HANDOFF_SALT = "portal.support.handoff"
# The handoff link only carries staff from the console to the tenant host.
HANDOFF_SECONDS = 60
MAX_GRANT_HOURS = 72
SESSION_GRANT = "support_grant_id"
SESSION_STAFF = "support_staff_email"


def grant_create(
    *, ctx: AuditContext, scope: str, hours: int, ticket_ref: str
) -> SupportGrant:
    """Owner consents to support access for ``hours`` (1–72)."""
    if ctx.is_staff or not role_can(ctx.role, "support.grant"):
        raise ServiceError(_("Only an owner can grant support access."))
    if scope not in SupportGrant.Scope.values:
        raise ServiceError(_("Choose read only or read and write."), field="scope")
    if not 1 <= hours <= MAX_GRANT_HOURS:
        raise ServiceError(
            _("Choose between 1 and %(max)d hours.") % {"max": MAX_GRANT_HOURS},
            field="hours",
        )
    ticket_ref = ticket_ref.strip()
    if not ticket_ref:
        raise ServiceError(_("Enter the ticket reference."), field="ticket_ref")
    now = timezone.now()
    with transaction.atomic():
        grant = SupportGrant.objects.create(
            scope=scope,
            ticket_ref=ticket_ref[:100],
            granted_by_id=ctx.actor_id,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
        audit_record(
            ctx=ctx,
            action="support.grant",
            target=grant,
            after={"scope": scope, "hours": hours, "ticket": ticket_ref},
        )
    return grant


def grant_revoke(*, ctx: AuditContext, grant: SupportGrant) -> SupportGrant:
    if ctx.is_staff or not role_can(ctx.role, "support.grant"):
        raise ServiceError(_("Only an owner can revoke support access."))
    with transaction.atomic():
        grant = SupportGrant.objects.select_for_update().get(pk=grant.pk)
        if grant.revoked_at is None:
            grant.revoked_at = timezone.now()
            grant.revoked_by_id = ctx.actor_id
            grant.save(update_fields=["revoked_at", "revoked_by"])
            audit_record(ctx=ctx, action="support.revoke", target=grant)
    return grant


def active_grant() -> SupportGrant | None:
    now = timezone.now()
    return (
        SupportGrant.objects.filter(
            revoked_at__isnull=True, created_at__lte=now, expires_at__gt=now
        )
        .order_by("-scope", "-expires_at")  # "write" sorts after "read": prefer it
        .first()
    )


def handoff_token(*, staff: User, schema: str) -> str:
    """A signed, short-lived ticket for one staff member into one tenant."""
    return signing.dumps(
        {"s": staff.pk, "t": schema, "n": secrets.token_hex(8)}, salt=_HANDOFF_SALT
    )


def support_enter(
    *, token: str, ip: str | None, user_agent: str
) -> tuple[User, SupportGrant, str]:
    """Validate a handoff into the current schema; return the support identity,
    the grant and the staff member's email.

    Raises ServiceError when the link is forged, old or for another tenant, when
    the staff member is not active staff with MFA, or when no grant is active.
    """
    try:
        data = signing.loads(token, salt=_HANDOFF_SALT, max_age=HANDOFF_SECONDS)
    except signing.BadSignature:
        raise ServiceError(_("This support link is invalid or has expired.")) from None
    schema = connection.schema_name
    if data.get("t") != schema:
        raise ServiceError(_("This support link is for another tenant."))
    with schema_context("public"):
        staff = User.objects.filter(
            pk=data.get("s"), is_staff=True, is_active=True
        ).first()
        has_mfa = (
            staff is not None
            and Authenticator.objects.filter(
                user=staff, type=Authenticator.Type.TOTP
            ).exists()
        )
        staff_email = staff.email if staff else ""
        staff_name = staff.display_name if staff else ""
    if staff is None:
        raise ServiceError(_("This support link is invalid or has expired."))
    if settings.PORTAL_MFA_REQUIRED and not has_mfa:
        raise ServiceError(_("Support staff must use two-factor authentication."))
    grant = active_grant()
    if grant is None:
        raise ServiceError(_("The customer has not granted support access."))
    role = Role.ADMIN if grant.scope == SupportGrant.Scope.WRITE else Role.VIEWER
    with transaction.atomic():
        identity, _created = User.objects.get_or_create(
            email=f"support+{data['s']}@support.invalid",
            defaults={
                "full_name": f"サポート: {staff_name}",
                "is_support": True,
                "role": role,
            },
        )
        identity.set_unusable_password()
        identity.role = role
        identity.is_support = True
        identity.is_active = True
        identity.save()
        audit_record(
            ctx=AuditContext(
                actor_id=identity.pk,
                actor_email=staff_email,
                actor_kind="support",
                role=role,
                ip_address=ip,
                user_agent=user_agent,
            ),
            action="support.enter",
            target=grant,
            after={
                "staff": staff_email,
                "scope": grant.scope,
                "ticket": grant.ticket_ref,
            },
        )
    return identity, grant, staff_email
