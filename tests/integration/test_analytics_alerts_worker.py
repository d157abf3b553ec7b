"""The analytics alert fan-out on a real worker: beat task → one task per tenant →
alert raised for the tenant whose bounce rate is too high, none for the other."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.celery import app as celery_app
from tests.mailops.analytics_data import clear_analytics

pytestmark = [pytest.mark.integration, pytest.mark.emulator]


@pytest.mark.django_db(transaction=True)
def test_alert_fan_out_on_a_real_worker(worker, personas):
    from mailops.analytics.tasks import analytics_alerts_all_task
    from mailops.models import DeliveryAggregate
    from tenants.models import Alert

    # given: 8% of alpha's recipients bounced an hour ago; beta sent nothing
    clear_analytics("alpha")
    clear_analytics("beta")
    bucket = timezone.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(
        hours=1
    )
    with schema_context("alpha"):
        DeliveryAggregate.objects.bulk_create(
            DeliveryAggregate(period="hour", bucket=bucket, status=s, count=n)
            for s, n in (("Delivered", 92), ("Bounced", 8))
        )
    connection.set_schema_to_public()
    celery_app.conf.task_always_eager = False
    try:
        # when: beat's entry point runs in the public schema
        analytics_alerts_all_task.delay()
        deadline = time.monotonic() + 60
        alerts: list[tuple[str, str, str]] = []
        while time.monotonic() < deadline:
            alerts = list(
                Alert.objects.filter(kind__startswith="analytics.").values_list(
                    "tenant__schema_name", "kind", "state"
                )
            )
            if alerts:
                break
            time.sleep(0.5)
        log = worker.read_text()
        # then
        assert alerts == [("alpha", "analytics.bounce_rate", "open")], log[-3000:]
        assert log.count("analytics_alerts_task") >= 2  # one per active tenant
    finally:
        celery_app.conf.task_always_eager = True
        clear_analytics("alpha")
        connection.set_schema_to_public()
