"""Absolute URLs for the public host and each tenant host.

Mail sent from Celery has no request, so links are built from the tenant's primary
Domain (allauth's build_absolute_uri needs the sites framework, which we leave out).
"""

from __future__ import annotations

from django.conf import settings

from tenants.models import Customer, Domain


def _origin(host: str) -> str:
    port = settings.PORTAL_PORT
    default = 443 if settings.PORTAL_SCHEME == "https" else 80
    suffix = f":{port}" if port and port != default else ""
    return f"{settings.PORTAL_SCHEME}://{host}{suffix}"


def public_origin() -> str:
    return _origin(settings.PUBLIC_HOST)


def tenant_host(slug: str) -> str:
    return f"{slug}.{settings.TENANT_BASE_DOMAIN}"


def tenant_origin(tenant: Customer) -> str:
    if tenant.schema_name == "public":
        return public_origin()
    domain = (
        Domain.objects.filter(tenant=tenant, is_primary=True)
        .values_list("domain", flat=True)
        .first()
    )
    return _origin(domain or tenant_host(tenant.schema_name))
