"""Users, invitations and the audit log.

The app is in both SHARED_APPS and TENANT_APPS: in a tenant schema these tables hold that
customer's users; in the public schema they hold MSP staff. A user row exists only in
its own schema, so an account on tenant A means nothing on tenant B.
"""

from __future__ import annotations

import datetime
import secrets
from typing import Any

from django.contrib.auth.models import (
    AbstractBaseUser,
    BaseUserManager,
    PermissionsMixin,
)
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.accounts.roles import PRIVILEGED_ROLES, Role, StaffRole


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("name"), max_length=150, blank=True)
    # Meaningful in tenant schemas; staff (public schema) use is_staff instead.
    role = models.CharField(
        _("role"), max_length=16, choices=Role.choices, default=Role.VIEWER
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("MSP staff"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    preferred_language = models.CharField(
        _("language"), max_length=8, blank=True, default=""
    )
    # MSP staff only (public schema): what the staff member may do in the console.
    staff_role = models.CharField(
        _("staff role"),
        max_length=16,
        choices=StaffRole.choices,
        blank=True,
        default="",
    )
    # A support identity: MSP staff acting in this tenant under a SupportGrant.
    # It has no usable password and can only be entered through a signed handoff.
    is_support = models.BooleanField(default=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]),
                name="user_role_valid",
            )
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    @property
    def needs_mfa(self) -> bool:
        # Support identities inherit the staff member's MFA from the public host.
        if self.is_support:
            return False
        return self.is_staff or self.role in PRIVILEGED_ROLES


def _new_nonce() -> str:
    return secrets.token_hex(16)


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def pending(self) -> InvitationQuerySet:
        return self.filter(
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )


class Invitation(models.Model):
    """An email invitation to join this schema's portal with a role.

    The link carries a signature over the id and a random nonce (see
    ``tenants.accounts.services.invitation_token``), so a Celery task can rebuild
    the link from the id alone and no usable token is ever stored.
    """

    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    # Set for invitations of MSP staff (public schema); empty for tenant members.
    staff_role = models.CharField(max_length=16, choices=StaffRole.choices, blank=True)
    nonce = models.CharField(max_length=32, default=_new_nonce, editable=False)
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    language = models.CharField(max_length=8, default="ja")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.role})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_open(self) -> bool:
        return (
            self.accepted_at is None and self.revoked_at is None and not self.is_expired
        )


class AuditEvent(models.Model):
    """Append-only record of who did what. The database refuses UPDATE and DELETE.

    In a tenant schema it records that customer's actions (and support staff acting
    there); in the public schema, staff actions on the registry.
    """

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Actors are denormalised so the trail survives the user's removal.
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_email = models.CharField(max_length=254, blank=True)
    actor_kind = models.CharField(max_length=16, default="user")  # user/staff/system
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=128, blank=True)
    target_label = models.CharField(max_length=254, blank=True)
    tenant_schema = models.CharField(max_length=63, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_email} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("audit events are append-only")


class SupportGrant(models.Model):
    """A tenant owner's consent for MSP staff to open this portal.

    Time-limited and scoped; the owner can revoke it at any time. Access ends at
    ``expires_at`` exactly (the end is exclusive).
    """

    class Scope(models.TextChoices):
        READ = "read", _("Read only")
        WRITE = "write", _("Read and write")

    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices)
    ticket_ref = models.CharField(_("ticket reference"), max_length=100)
    granted_by = models.ForeignKey(
        User, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.ticket_ref} ({self.scope})"

    def is_active(self, at: datetime.datetime | None = None) -> bool:
        moment = at or timezone.now()
        return self.revoked_at is None and self.created_at <= moment < self.expires_at
