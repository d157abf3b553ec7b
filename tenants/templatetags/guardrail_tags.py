"""``{% cap_banner %}``: tells tenant pages that the usage cap stopped SMTP."""

from __future__ import annotations

from typing import Any

from django import template
from django.db import connection

from tenants.accounts.roles import role_can

register = template.Library()


@register.inclusion_tag("tenants/_cap_banner.html", takes_context=True)
def cap_banner(context: dict[str, Any]) -> dict[str, Any]:
    """The SMTP stop in force for the current tenant, if any (one query)."""
    from tenants.guardrails import smtp_stopped

    tenant = getattr(connection, "tenant", None)
    if tenant is None or connection.schema_name == "public":
        return {"cap_action": None}
    user = context.get("user")
    return {
        "cap_action": smtp_stopped(tenant.pk),
        "can_view_caps": role_can(getattr(user, "role", ""), "caps.view"),
    }
