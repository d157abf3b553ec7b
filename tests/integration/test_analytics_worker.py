"""Beat fan-out of the analytics ingestion on a real worker (Redis, test DB, emulator)."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from emulator.simulate import generate
from portal.celery import app as celery_app

pytestmark = [pytest.mark.integration, pytest.mark.emulator]


@pytest.mark.django_db(transaction=True)
def test_ingest_fan_out_runs_one_task_per_tenant(worker, personas, emulator_settings):
    from mailops.models import AcsFootprint, IngestWatermark, RecipientEvent
    from mailops.services import footprint
    from mailops.tasks import analytics_ingest_all_task
    from portal.integrations.azure import client
    from tests.mailops.conftest import OWNER_CTX

    emu = emulator_settings
    # given: alpha has a resource with a day of history; beta has none
    emu.admin("/delays", "POST", {"send_delay_ms": 0, "delivery_delay_ms": 0})
    with schema_context("alpha"):
        fp = footprint.footprint_request(ctx=OWNER_CTX)
        footprint.footprint_provision(footprint_id=fp.pk)
        rid = AcsFootprint.objects.get().communication_service_id
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    generate(
        str(emu.state_dir / "logs.sqlite3"),
        resource_id=rid,
        days=1,
        per_day=120,
        seed=random.SystemRandom().randrange(1, 2**31),
        now=now,
    )
    celery_app.conf.task_always_eager = False
    try:
        # when: beat's task is queued from the public schema
        connection.set_schema_to_public()
        analytics_ingest_all_task.delay()
        deadline = time.monotonic() + 90
        log = ""
        while time.monotonic() < deadline:
            log = worker.read_text()
            if log.count("mailops.tasks.analytics_ingest_task[") >= 4:  # 2 x recv+ok
                with schema_context("alpha"):
                    if IngestWatermark.objects.count() == 3:
                        break
            time.sleep(0.5)
        # then: one task per tenant ran, in its own schema
        assert "analytics_ingest_all_task" in log, log[-3000:]
        succeeded = [
            line
            for line in log.splitlines()
            if "mailops.tasks.analytics_ingest_task[" in line and "succeeded" in line
        ]
        assert len(succeeded) == 2, log[-3000:]
        assert any("'schema': 'alpha'" in line for line in succeeded)
        assert any(
            "'schema': 'beta'" in line and "no communication service" in line
            for line in succeeded
        )
        with schema_context("alpha"):
            # The emulator's own count over exactly the window the task read
            # (other tests may have logged rows for alpha's resource too).
            mark = IngestWatermark.objects.get(table="ACSEmailStatusUpdateOperational")
            ((expected,),) = client.logs_query(
                resource_id=rid,
                query="ACSEmailStatusUpdateOperational | where isnotempty(RecipientId) "
                "| summarize dcount(strcat(CorrelationId, '|', RecipientId))",
                start=mark.last_run_at - timedelta(days=90),
                end=mark.ingested_until,
            ).rows
            assert expected >= 120
            assert RecipientEvent.objects.count() == expected
            assert IngestWatermark.objects.count() == 3
        with schema_context("beta"):
            assert RecipientEvent.objects.count() == 0
            assert IngestWatermark.objects.count() == 0
    finally:
        celery_app.conf.task_always_eager = True
        connection.set_schema_to_public()


@pytest.mark.django_db(transaction=True)
def test_emulator_pushes_event_grid_events_to_the_webhook(
    live_server, personas, emulator_settings
):
    from mailops.analytics.eventgrid import eventgrid_secret_issue
    from mailops.models import AcsFootprint, ProcessedEvent, RecipientEvent
    from mailops.services import footprint
    from portal.integrations.azure import client
    from tenants.models import Domain
    from tests.mailops.conftest import OWNER_CTX

    emu = emulator_settings
    emu.admin("/delays", "POST", {"send_delay_ms": 0, "delivery_delay_ms": 0})
    with schema_context("alpha"):
        fp = footprint.footprint_request(ctx=OWNER_CTX)
        footprint.footprint_provision(footprint_id=fp.pk)
        fp = AcsFootprint.objects.get()
        secret = eventgrid_secret_issue(ctx=OWNER_CTX)
    # The emulator pushes to loopback addresses only: serve alpha on 127.0.0.1.
    connection.set_schema_to_public()
    Domain.objects.create(domain="127.0.0.1", tenant=personas.tenant_a)
    port = live_server.url.rsplit(":", 1)[1]
    url = f"http://127.0.0.1:{port}/hooks/eventgrid/{secret}/"
    # the registration runs the validation handshake against the live view
    sub = emu.admin(
        "/webhooks",
        "POST",
        {"url": url, "name": "alpha-ingest", "resourceId": fp.communication_service_id},
    )
    try:
        assert sub["status"] == "Validated"
        keys = client.get_arm_client().communication_services.list_keys(
            fp.resource_group, fp.communication_service_name
        )
        managed = client.get_arm_client().domains.get(
            fp.resource_group, fp.email_service_name, "AzureManagedDomain"
        )
        sender = f"DoNotReply@{managed.from_sender_domain}"
        op_id = "00000000-0000-4000-a000-0000000e6e11"
        client.send_email(
            connection_string=keys.primary_connection_string,
            message={
                "senderAddress": sender,
                "recipients": {
                    "to": [
                        {"address": "eg1@docomo.ne.jp"},
                        {"address": "eg2@gmail.com"},
                    ]
                },
                "content": {"subject": "hi", "plainText": "hi"},
            },
            operation_id=op_id,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with schema_context("alpha"):
                if RecipientEvent.objects.filter(message_id=op_id).count() == 2:
                    break
            time.sleep(0.3)
        with schema_context("alpha"):
            rows = RecipientEvent.objects.filter(message_id=op_id)
            assert sorted(rows.values_list("recipient", "source")) == [
                ("eg1@docomo.ne.jp", "eventgrid"),
                ("eg2@gmail.com", "eventgrid"),
            ]
            assert ProcessedEvent.objects.count() == 2
    finally:
        emu.admin("/webhooks/alpha-ingest", "DELETE")
        Domain.objects.filter(domain="127.0.0.1").delete()
        connection.set_schema_to_public()
