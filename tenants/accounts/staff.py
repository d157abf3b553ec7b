"""MSP staff administration (public schema): invite, change role, deactivate."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.errors import ServiceError
from portal.tasks import enqueue_on_commit
from tenants.accounts.audit import AuditContext, audit_record
from tenants.accounts.models import Invitation, User
from tenants.accounts.roles import Role, StaffRole


def _require_staff_admin(ctx: AuditContext, actor: User | None) -> None:
    if ctx.actor_kind == "system":
        return
    if actor is None or not actor.is_staff or actor.staff_role != StaffRole.ADMIN:
        raise ServiceError(_("Only staff administrators can manage staff."))


def _actor(ctx: AuditContext) -> User | None:
    return User.objects.filter(pk=ctx.actor_id).first() if ctx.actor_id else None


def staff_invite(*, ctx: AuditContext, email: str, staff_role: str) -> Invitation:
    """Invite a new MSP staff member; they set a password and enrol TOTP."""
    if connection.schema_name != "public":
        raise ServiceError("staff live in the public schema")
    _require_staff_admin(ctx, _actor(ctx))
    if staff_role not in StaffRole.values:
        raise ServiceError(_("Unknown role."), field="staff_role")
    email = email.strip().lower()
    with transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise ServiceError(_("This address is already a member."), field="email")
        if Invitation.objects.pending().filter(email=email).exists():
            raise ServiceError(
                _("An invitation to this address is still open."), field="email"
            )
        invitation = Invitation.objects.create(
            email=email,
            role=Role.VIEWER,
            staff_role=staff_role,
            invited_by_id=ctx.actor_id,
            expires_at=timezone.now() + timedelta(days=settings.PORTAL_INVITATION_DAYS),
        )
        audit_record(
            ctx=ctx,
            action="staff.invite",
            target=invitation,
            after={"email": email, "staff_role": staff_role},
        )
        from tenants.accounts.tasks import invitation_send_task

        enqueue_on_commit(invitation_send_task, invitation.pk)
    return invitation


def _lock_admins() -> list[int]:
    return list(
        User.objects.select_for_update()
        .filter(is_staff=True, is_active=True, staff_role=StaffRole.ADMIN)
        .values_list("pk", flat=True)
    )


def staff_change_role(*, ctx: AuditContext, member: User, staff_role: str) -> User:
    _require_staff_admin(ctx, _actor(ctx))
    if staff_role not in StaffRole.values:
        raise ServiceError(_("Unknown role."), field="staff_role")
    with transaction.atomic():
        admins = _lock_admins()
        member = User.objects.select_for_update().get(pk=member.pk, is_staff=True)
        before = member.staff_role
        if (
            before == StaffRole.ADMIN
            and staff_role != StaffRole.ADMIN
            and admins == [member.pk]
        ):
            raise ServiceError(_("The last staff administrator cannot be changed."))
        member.staff_role = staff_role
        member.save(update_fields=["staff_role"])
        audit_record(
            ctx=ctx,
            action="staff.role_change",
            target=member,
            before={"staff_role": before},
            after={"staff_role": staff_role},
        )
    return member


def staff_deactivate(*, ctx: AuditContext, member: User) -> User:
    """Stop a staff member from signing in; the row stays for the audit trail."""
    _require_staff_admin(ctx, _actor(ctx))
    if member.pk == ctx.actor_id:
        raise ServiceError(_("You cannot deactivate yourself."))
    with transaction.atomic():
        admins = _lock_admins()
        member = User.objects.select_for_update().get(pk=member.pk, is_staff=True)
        if member.staff_role == StaffRole.ADMIN and admins == [member.pk]:
            raise ServiceError(_("The last staff administrator cannot be changed."))
        member.is_active = False
        member.save(update_fields=["is_active"])
        audit_record(ctx=ctx, action="staff.deactivate", target=member)
    return member
