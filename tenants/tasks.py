from __future__ import annotations

from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.celery import app
from tenants.accounts.models import Invitation
from tenants.models import Customer


@app.task
def invitations_expire_task() -> int:
    """Mark this schema's expired, unanswered invitations as revoked. Idempotent."""
    return Invitation.objects.filter(
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__lte=timezone.now(),
    ).update(revoked_at=timezone.now())


@app.task
def invitations_expire_all_task() -> int:
    """Fan out one expiry task per active tenant (runs in the public schema)."""
    schemas = list(
        Customer.objects.exclude(schema_name="public")
        .filter(status=Customer.Status.ACTIVE)
        .values_list("schema_name", flat=True)
    )
    for schema in schemas:
        with schema_context(schema):
            invitations_expire_task.delay()
    return len(schemas)


@app.task
def summaries_refresh_task() -> int:
    """Rebuild the current schema's ``TenantSummary`` row. Idempotent."""
    from tenants.summaries import summary_refresh

    tenant = Customer.objects.get(schema_name=connection.schema_name)
    return summary_refresh(tenant).pk


@app.task
def summaries_refresh_all_task() -> int:
    """Fan out one summary refresh per active tenant (runs in the public schema)."""
    schemas = list(
        Customer.objects.exclude(schema_name="public")
        .filter(status=Customer.Status.ACTIVE)
        .values_list("schema_name", flat=True)
    )
    for schema in schemas:
        with schema_context(schema):
            summaries_refresh_task.delay()
    return len(schemas)
