"""Celery tasks of the campaign engine: thin wrappers that take ids.

The schema travels with each task (tenant-schemas-celery); the beat tick runs in
the public schema and visits only tenants with a live campaign.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection
from django_tenants.utils import schema_context

from mailops.campaigns import sender, services
from portal.celery import app
from tenants.models import Customer


@app.task
def campaign_kick_task(campaign_id: int) -> int:
    """Start the dispatcher slots of a campaign (queued on commit by services)."""
    return sender.campaign_kick(campaign_id)


@app.task
def campaign_dispatch_task(campaign_id: int, slot: int, token: str) -> str:
    """One bounded dispatcher run; it re-enqueues itself while work remains."""
    return sender.campaign_dispatch_step(
        campaign_id=campaign_id, slot=slot, token=token
    )


@app.task
def campaigns_tick_task() -> dict[str, int]:
    return sender.campaigns_tick()


@app.task
def campaigns_tick_all_task() -> int:
    """Beat: tick every active tenant that has a running or scheduled campaign."""
    schemas = list(
        Customer.objects.filter(status=Customer.Status.ACTIVE)
        .exclude(schema_name="public")
        .values_list("schema_name", flat=True)
    )
    ticked = 0
    for schema in schemas:
        with schema_context(schema):
            if sender.has_live_campaigns():
                campaigns_tick_task.delay()
                ticked += 1
    connection.set_schema_to_public()
    return ticked


@app.task
def campaigns_reconcile_task() -> int:
    """Apply delivery results to campaign recipients of the current tenant."""
    return services.campaigns_reconcile_active()


# Event Grid batches can arrive many times a second; one reconcile per tenant per
# few seconds is enough (the UPDATE covers everything that arrived meanwhile).
RECONCILE_DEBOUNCE_SECONDS = 3


def campaigns_reconcile_soon() -> None:
    """Queue a reconcile of the current tenant after commit, at most once per
    few seconds."""
    from portal.tasks import enqueue_on_commit

    key = f"campaigns-reconcile:{connection.schema_name}"
    if cache.add(key, 1, timeout=RECONCILE_DEBOUNCE_SECONDS):
        enqueue_on_commit(campaigns_reconcile_task)
