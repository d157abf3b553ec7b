"""Celery tasks of the usage caps: thin wrappers over ``tenants.guardrails``."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q
from django_tenants.utils import schema_context

from portal.celery import app
from tenants.models import Customer, Guardrail, GuardrailAction


@app.task
def guardrail_evaluate_task() -> str:
    """Evaluate the current schema's tenant caps (schema from the task headers).

    Idempotent; returns the guardrail's state ("" for a tenant without caps).
    """
    from tenants.guardrails import guardrail_evaluate

    tenant = Customer.objects.filter(schema_name=connection.schema_name).first()
    if tenant is None:
        return ""
    result = guardrail_evaluate(tenant=tenant)
    return result.guardrail.state if result.guardrail else ""


@app.task
def guardrails_evaluate_all_task() -> int:
    """Fan out one evaluation per active tenant with caps or an action in force."""
    schemas = list(
        Guardrail.objects.filter(tenant__status=Customer.Status.ACTIVE)
        .filter(
            Q(monthly_send_cap__isnull=False)
            | Q(monthly_spend_cap_jpy__isnull=False)
            | Q(actions__state__in=GuardrailAction.LIVE_STATES)
        )
        .values_list("tenant__schema_name", flat=True)
        .distinct()
    )
    for schema in schemas:
        with schema_context(schema):
            guardrail_evaluate_task.delay()
    return len(schemas)
