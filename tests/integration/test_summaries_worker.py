"""Beat's summary fan-out on a real worker: one task per tenant, in its schema."""

from __future__ import annotations

import time

import pytest
from django_tenants.utils import schema_context

from mailops.models import SendingDomain
from portal.celery import app as celery_app
from tenants.models import TenantSummary
from tenants.tasks import summaries_refresh_all_task

pytestmark = [pytest.mark.integration, pytest.mark.emulator]


@pytest.mark.django_db(transaction=True)
def test_fan_out_refreshes_each_tenant_summary_on_a_real_worker(worker, personas):
    # given: alpha has two sending domains (one with broken DNS), beta none
    with schema_context("alpha"):
        SendingDomain.objects.create(
            name="w1.alpha.example", display_name="w1", state="verified", dns_ok=True
        )
        SendingDomain.objects.create(
            name="w2.alpha.example", display_name="w2", state="verified", dns_ok=False
        )
    celery_app.conf.task_always_eager = False
    try:
        # when: the beat task runs in the public schema and fans out
        queued = summaries_refresh_all_task()
        # then: the worker rebuilt each tenant's row from its own schema
        deadline = time.monotonic() + 60
        rows: dict[str, TenantSummary] = {}
        while time.monotonic() < deadline and len(rows) < 2:
            rows = {
                s.tenant.schema_name: s
                for s in TenantSummary.objects.select_related("tenant").filter(
                    tenant__schema_name__in=["alpha", "beta"],
                    refreshed_at__isnull=False,
                )
            }
            time.sleep(0.3)
        assert len(rows) == 2, worker.read_text()[-3000:]
        assert queued >= 2
        assert (rows["alpha"].domains_total, rows["alpha"].domains_dns_broken) == (2, 1)
        assert rows["beta"].domains_total == 0
    finally:
        celery_app.conf.task_always_eager = True
        with schema_context("alpha"):
            SendingDomain.objects.filter(name__endswith=".alpha.example").delete()
