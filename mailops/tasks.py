"""Celery tasks of mail operations: thin wrappers that take ids and call services."""

from __future__ import annotations

from typing import Any

from django_tenants.utils import schema_context

from mailops.services import credentials, domains, footprint
from portal.celery import app
from portal.integrations.azure.errors import AzureError
from tenants.models import Customer

MAX_RETRIES = 5


def _countdown() -> int:
    from django.conf import settings

    return int(settings.PORTAL_TASK_RETRY_SECONDS)


@app.task(bind=True, max_retries=MAX_RETRIES)
def footprint_provision_task(self: Any, footprint_id: int) -> None:
    try:
        footprint.footprint_provision(footprint_id=footprint_id)
    except AzureError as exc:
        if exc.retryable and self.request.retries < MAX_RETRIES:
            raise self.retry(exc=exc, countdown=_countdown()) from exc
        footprint.footprint_failed(footprint_id=footprint_id, error=str(exc))


@app.task(bind=True, max_retries=MAX_RETRIES)
def domain_create_task(self: Any, domain_id: int) -> None:
    try:
        domains.domain_create(domain_id=domain_id)
    except AzureError as exc:
        if exc.retryable and self.request.retries < MAX_RETRIES:
            raise self.retry(exc=exc, countdown=_countdown()) from exc


@app.task(bind=True, max_retries=MAX_RETRIES)
def domain_verify_task(self: Any, domain_id: int) -> None:
    try:
        domain = domains.domain_run_verification(domain_id=domain_id)
        domains.domain_check_dns(domain_id=domain.pk)
    except AzureError as exc:
        if exc.retryable and self.request.retries < MAX_RETRIES:
            raise self.retry(exc=exc, countdown=_countdown()) from exc


@app.task
def domains_recheck_task() -> int:
    """Re-check DNS (and ACS states) of every verified or pending domain."""
    from mailops.models import SendingDomain

    ids = list(
        SendingDomain.objects.filter(management=SendingDomain.Management.CUSTOMER)
        .exclude(state__in=[SendingDomain.State.CREATING, SendingDomain.State.DELETING])
        .values_list("pk", flat=True)
    )
    for domain_id in ids:
        domains.domain_check_dns(domain_id=domain_id)
    return len(ids)


@app.task
def credentials_housekeeping_task() -> int:
    """Revoke old secrets after their grace period; send expiry reminders."""
    return credentials.secrets_revoke_due() + credentials.secrets_remind()


def _fan_out(task: Any) -> int:
    schemas = list(
        Customer.objects.filter(status=Customer.Status.ACTIVE)
        .exclude(schema_name="public")
        .values_list("schema_name", flat=True)
    )
    for schema in schemas:
        with schema_context(schema):
            task.delay()
    return len(schemas)


@app.task
def domains_recheck_all_task() -> int:
    return _fan_out(domains_recheck_task)


@app.task
def credentials_housekeeping_all_task() -> int:
    return _fan_out(credentials_housekeeping_task)


# --- delivery analytics: ingestion from Log Analytics -----------------------------------


@app.task(bind=True, max_retries=MAX_RETRIES)
def analytics_ingest_task(self: Any) -> dict[str, Any]:
    """Ingest the current tenant's new ACS Email log rows (schema from the headers).

    Idempotent; two runs of one tenant never overlap (advisory lock in the service:
    the second returns ``skipped``). Retryable Azure errors left after the
    service's own bounded retries are retried by Celery a few times more.
    """
    from mailops.analytics.ingest import ingest_tenant
    from tenants.guardrail_tasks import guardrail_evaluate_task

    try:
        report = ingest_tenant()
    except AzureError as exc:
        if exc.retryable and self.request.retries < MAX_RETRIES:
            raise self.retry(exc=exc, countdown=_countdown()) from exc
        raise
    guardrail_evaluate_task.delay()  # the usage ledger moved: re-check the caps
    # Delivery results just ingested move campaign recipients on.
    from mailops.campaigns.services import campaigns_reconcile_active

    campaigns_reconcile_active()
    return {
        "schema": report.schema,
        "skipped": report.skipped,
        "rows": report.rows,
        "seconds": round(report.seconds, 3),
    }


@app.task
def analytics_ingest_all_task() -> int:
    return _fan_out(analytics_ingest_task)


@app.task
def analytics_prune_task() -> dict[str, int]:
    """Delete analytics detail and aggregates past their retention (never billing)."""
    from dataclasses import asdict

    from mailops.analytics.ingest import prune

    return asdict(prune())


@app.task
def analytics_prune_all_task() -> int:
    return _fan_out(analytics_prune_task)
