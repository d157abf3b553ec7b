"""Tenant roles and what each may do. One table, read by views and services alike."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Administrator")
    BILLING = "billing", pgettext_lazy("role", "Billing")
    VIEWER = "viewer", _("Viewer")


class StaffRole(models.TextChoices):
    """Roles of MSP staff on the public host."""

    ADMIN = "admin", _("Administrator (everything, incl. staff)")
    SUPPORT = "support", _("Support")
    BILLING = "billing", pgettext_lazy("staff role", "Billing")


def staff_can(user: object, *roles: str) -> bool:
    """Staff administrators may do everything; others only what their role lists."""
    if not getattr(user, "is_staff", False):
        return False
    role = getattr(user, "staff_role", "") or StaffRole.SUPPORT
    return role == StaffRole.ADMIN or role in roles


# Capabilities are verbs on areas. A role not listed for a capability lacks it.
CAPABILITIES: dict[str, frozenset[str]] = {
    "portal.view": frozenset({Role.OWNER, Role.ADMIN, Role.BILLING, Role.VIEWER}),
    "members.view": frozenset({Role.OWNER, Role.ADMIN}),
    "members.manage": frozenset({Role.OWNER, Role.ADMIN}),
    "audit.view": frozenset({Role.OWNER, Role.ADMIN}),
    "mail.view": frozenset({Role.OWNER, Role.ADMIN, Role.VIEWER}),
    "mail.manage": frozenset({Role.OWNER, Role.ADMIN}),
    "billing.view": frozenset({Role.OWNER, Role.ADMIN, Role.BILLING}),
    "support.grant": frozenset({Role.OWNER}),
    # Bulk notifications: viewers watch campaigns and lists; billing users do not.
    "campaigns.view": frozenset({Role.OWNER, Role.ADMIN, Role.VIEWER}),
    "campaigns.manage": frozenset({Role.OWNER, Role.ADMIN}),
    # Usage caps: staff set them; owners, admins and billing see them, owners lift.
    "caps.view": frozenset({Role.OWNER, Role.ADMIN, Role.BILLING}),
    "caps.lift": frozenset({Role.OWNER}),
}

# Roles that must use a second factor.
PRIVILEGED_ROLES = frozenset({Role.OWNER, Role.ADMIN})


def role_can(role: str, capability: str) -> bool:
    """Return whether ``role`` holds ``capability``; unknown capabilities are denied."""
    return role in CAPABILITIES.get(capability, frozenset())


def assignable_roles(acting_role: str) -> list[str]:
    """Roles that ``acting_role`` may hand out. Only owners create owners."""
    if acting_role == Role.OWNER:
        return [r.value for r in Role]
    if acting_role == Role.ADMIN:
        return [Role.ADMIN, Role.BILLING, Role.VIEWER]
    return []
