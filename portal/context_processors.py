from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import HttpRequest

from tenants.accounts.roles import CAPABILITIES


def portal(request: HttpRequest) -> dict[str, Any]:
    tenant = getattr(request, "tenant", None)
    is_public = connection.schema_name == "public"
    user = getattr(request, "user", None)
    caps: set[str] = set()
    if user is not None and user.is_authenticated and not is_public:
        caps = {cap for cap, roles in CAPABILITIES.items() if user.role in roles}
    return {
        "current_tenant": None if is_public else tenant,
        "is_public_host": is_public,
        "caps": caps,
        "product_name": "Kakehashi",
    }
