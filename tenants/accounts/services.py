"""Members and invitations of one portal (one schema).

Every write checks the acting role, runs in one transaction and appends an audit event.
"""

from __future__ import annotations

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.errors import ServiceError
from portal.tasks import enqueue_on_commit
from tenants.accounts.audit import AuditContext, audit_record
from tenants.accounts.models import Invitation, User
from tenants.accounts.roles import Role, assignable_roles, role_can

_INVITATION_SALT = "portal.invitation"


def invitation_token(invitation: Invitation) -> str:
    """The secret part of an invitation link: a signature over id and nonce."""
    return signing.dumps(
        {"i": invitation.pk, "n": invitation.nonce},
        salt=_INVITATION_SALT,
        compress=True,
    )


def invitation_from_token(token: str) -> Invitation | None:
    """Return the invitation a token names, or None when forged or unknown."""
    try:
        data = signing.loads(token, salt=_INVITATION_SALT)
    except signing.BadSignature:
        return None
    return Invitation.objects.filter(pk=data.get("i"), nonce=data.get("n")).first()


def _require(ctx: AuditContext, capability: str) -> None:
    # Staff act through the console, the system through commands; both are trusted
    # callers that already passed their own checks.
    if ctx.is_staff or ctx.actor_kind == "system":
        return
    if not role_can(ctx.role, capability):
        raise ServiceError(_("Your role does not allow this action."))


def invitation_create(
    *, ctx: AuditContext, email: str, role: str, language: str = "ja"
) -> Invitation:
    """Invite ``email`` with ``role`` and queue the invitation mail after commit.

    Raises ServiceError when the actor may not invite, may not hand out that role,
    the address already belongs to a member, or an invitation is already open.
    """
    _require(ctx, "members.manage")
    email = email.strip().lower()
    if ctx.actor_kind == "user" and role not in assignable_roles(ctx.role):
        raise ServiceError(_("You cannot give this role."), field="role")
    if role not in Role.values:
        raise ServiceError(_("Unknown role."), field="role")
    with transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise ServiceError(_("This address is already a member."), field="email")
        # Expired invitations no longer block a new one.
        Invitation.objects.filter(
            email=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__lte=timezone.now(),
        ).update(revoked_at=timezone.now())
        if Invitation.objects.pending().filter(email=email).exists():
            raise ServiceError(
                _("An invitation to this address is still open."), field="email"
            )
        invitation = Invitation.objects.create(
            email=email,
            role=role,
            invited_by_id=ctx.actor_id if ctx.actor_kind == "user" else None,
            language=language,
            expires_at=timezone.now() + timedelta(days=settings.PORTAL_INVITATION_DAYS),
        )
        audit_record(
            ctx=ctx,
            action="invitation.create",
            target=invitation,
            after={"email": email, "role": role},
        )
        _queue_invitation_mail(invitation)
    return invitation


def _queue_invitation_mail(invitation: Invitation) -> None:
    from tenants.accounts.tasks import invitation_send_task

    enqueue_on_commit(invitation_send_task, invitation.pk)


def invitation_revoke(*, ctx: AuditContext, invitation: Invitation) -> Invitation:
    _require(ctx, "members.manage")
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at or invitation.revoked_at:
            raise ServiceError(_("This invitation is no longer open."))
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(ctx=ctx, action="invitation.revoke", target=invitation)
    return invitation


def invitation_accept(
    *, ctx: AuditContext, invitation: Invitation, full_name: str, password: str
) -> User:
    """Create the member from an open invitation; the address counts as verified.

    Raises ServiceError for an expired, revoked or used invitation, and for a weak
    password (with the validators' messages).
    """
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_open:
            raise ServiceError(
                _("This invitation has expired or was already used. Ask for a new one.")
            )
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise ServiceError(_("This address is already a member."))
        user = User(
            email=invitation.email,
            full_name=full_name.strip(),
            role=invitation.role,
            # Staff invitations (public schema) make MSP staff with a staff role.
            is_staff=bool(invitation.staff_role),
            staff_role=invitation.staff_role,
        )
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ServiceError(" ".join(exc.messages), field="password") from None
        user.set_password(password)
        user.preferred_language = invitation.language
        user.save()
        EmailAddress.objects.create(
            user=user, email=user.email, verified=True, primary=True
        )
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        actor = AuditContext(
            actor_id=user.pk,
            actor_email=user.email,
            actor_kind="user",
            role=user.role,
            ip_address=ctx.ip_address,
            user_agent=ctx.user_agent,
        )
        audit_record(
            ctx=actor,
            action="invitation.accept",
            target=user,
            after={"email": user.email, "role": user.role},
        )
    return user


def _lock_owners() -> list[int]:
    # Locking every owner row serialises concurrent demotions/removals, so two
    # owners cannot each remove the other and leave the tenant ownerless.
    return list(
        User.objects.select_for_update()
        .filter(role=Role.OWNER, is_active=True)
        .values_list("pk", flat=True)
    )


def member_change_role(*, ctx: AuditContext, member: User, role: str) -> User:
    """Change a member's role. The last owner keeps the owner role.

    Raises ServiceError when the actor lacks the right, hands out a role above their
    own, or would leave the portal without an owner.
    """
    _require(ctx, "members.manage")
    if role not in Role.values:
        raise ServiceError(_("Unknown role."), field="role")
    if ctx.actor_kind == "user":
        allowed = assignable_roles(ctx.role)
        if role not in allowed or member.role not in allowed:
            raise ServiceError(_("You cannot give this role."), field="role")
    with transaction.atomic():
        owners = _lock_owners()
        member = User.objects.select_for_update().get(pk=member.pk)
        before = member.role
        if before == role:
            return member
        if before == Role.OWNER and owners == [member.pk]:
            raise ServiceError(_("The last owner cannot be changed or removed."))
        member.role = role
        member.save(update_fields=["role"])
        audit_record(
            ctx=ctx,
            action="member.role_change",
            target=member,
            before={"role": before},
            after={"role": role},
        )
    return member


def member_remove(*, ctx: AuditContext, member: User) -> None:
    """Remove a member and their sessions' access. The last owner cannot go."""
    _require(ctx, "members.manage")
    if ctx.actor_kind == "user" and member.role not in assignable_roles(ctx.role):
        raise ServiceError(_("You cannot remove a member with this role."))
    with transaction.atomic():
        owners = _lock_owners()
        member = User.objects.select_for_update().get(pk=member.pk)
        if member.role == Role.OWNER and owners == [member.pk]:
            raise ServiceError(_("The last owner cannot be changed or removed."))
        audit_record(
            ctx=ctx,
            action="member.remove",
            target=member,
            before={"email": member.email, "role": member.role},
        )
        member.delete()
