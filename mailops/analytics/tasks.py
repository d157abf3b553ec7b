"""Celery tasks of delivery analytics alerts: thin wrappers over ``alerts_run``."""

from __future__ import annotations

from django_tenants.utils import schema_context

from mailops.analytics.alerts import alerts_run
from portal.celery import app
from tenants.models import Customer


@app.task
def analytics_alerts_task() -> int:
    """Evaluate the current tenant's alert rules; returns how many hold now."""
    return len(alerts_run().findings)


@app.task
def analytics_alerts_all_task() -> int:
    """Fan out one ``analytics_alerts_task`` per active tenant (public schema)."""
    schemas = list(
        Customer.objects.filter(status=Customer.Status.ACTIVE)
        .exclude(schema_name="public")
        .values_list("schema_name", flat=True)
    )
    for schema in schemas:
        with schema_context(schema):
            analytics_alerts_task.delay()
    return len(schemas)
