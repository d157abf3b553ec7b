"""Event Grid webhook: handshake, secret, idempotency and convergence with the logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from tests.mailops.conftest import OWNER_CTX

HOST = "alpha.localhost"
MESSAGE = "7d1a2b3c-0000-4000-a000-000000000001"
SENDER = "DoNotReply@mail.alpha.example"


@pytest.fixture
def secret(personas) -> str:
    from mailops.analytics.eventgrid import eventgrid_secret_issue

    with schema_context("alpha"):
        return eventgrid_secret_issue(ctx=OWNER_CTX)


def _post(secret: str, events, *, kind: str = "Notification", host: str = HOST):
    return Client(HTTP_HOST=host).post(
        f"/hooks/eventgrid/{secret}/",
        data=json.dumps(events),
        content_type="application/json",
        HTTP_AEG_EVENT_TYPE=kind,
    )


def delivery(event_id: str, status: str, at: datetime, recipient="a@docomo.ne.jp"):
    return {
        "id": event_id,
        "topic": "/subscriptions/x/resourceGroups/rg/providers/"
        "Microsoft.Communication/communicationServices/acs-alpha",
        "subject": f"sender/{SENDER}/message/{MESSAGE}",
        "eventType": "Microsoft.Communication.EmailDeliveryReportReceived",
        "eventTime": at.isoformat(),
        "dataVersion": "1.0",
        "metadataVersion": "1",
        "data": {
            "sender": SENDER,
            "recipient": recipient,
            "messageId": MESSAGE,
            "status": status,
            "deliveryStatusDetails": {"statusMessage": "No error."},
            "deliveryAttemptTimeStamp": at.isoformat().replace("+00:00", "Z"),
        },
    }


def test_validation_handshake(secret):
    body = [
        {
            "id": "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66",
            "topic": "/subscriptions/xxxx",
            "subject": "",
            "data": {
                "validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
                "validationUrl": "https://127.0.0.1/validate?id=1",
            },
            "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
            "eventTime": "2026-11-30T00:00:00Z",
            "metadataVersion": "1",
            "dataVersion": "1",
        }
    ]
    response = _post(secret, body, kind="SubscriptionValidation")
    assert response.status_code == 200
    assert response.json() == {
        "validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"
    }


def test_wrong_secret_is_404_and_changes_nothing(secret):
    from mailops.models import ProcessedEvent, RecipientEvent

    at = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    response = _post("not-the-secret", [delivery("e1", "Delivered", at)])
    assert response.status_code == 404
    # another tenant's secret does not open this tenant's hook either
    other = _post(secret, [delivery("e1", "Delivered", at)], host="beta.localhost")
    assert other.status_code == 404
    with schema_context("beta"):
        assert RecipientEvent.objects.count() == 0
    with schema_context("alpha"):
        assert RecipientEvent.objects.count() == 0
        assert ProcessedEvent.objects.count() == 0


def test_wrong_tenant_is_404(secret):
    at = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    response = _post(secret, [delivery("e1", "Delivered", at)], host="beta.localhost")
    assert response.status_code == 404


def test_no_secret_issued_is_404(personas):
    response = _post("anything", [])
    assert response.status_code == 404


def test_get_is_not_allowed(secret):
    response = Client(HTTP_HOST=HOST).get(f"/hooks/eventgrid/{secret}/")
    assert response.status_code == 405


def test_cloudevents_options_handshake(secret):
    response = Client(HTTP_HOST=HOST).options(
        f"/hooks/eventgrid/{secret}/",
        HTTP_WEBHOOK_REQUEST_ORIGIN="eventgrid.azure.net",
    )
    assert response.status_code == 200
    assert response["WebHook-Allowed-Origin"] == "eventgrid.azure.net"


def test_same_event_twice_changes_nothing(secret):
    from mailops.models import (
        DeliveryAggregate,
        MessageRecord,
        ProcessedEvent,
        RecipientEvent,
    )

    at = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    event = delivery("e1", "Bounced", at)
    assert _post(secret, [event]).status_code == 200
    with schema_context("alpha"):
        first = list(RecipientEvent.objects.values())
        aggregates = list(DeliveryAggregate.objects.values_list("status", "count"))
    assert _post(secret, [event, event]).status_code == 200
    with schema_context("alpha"):
        assert list(RecipientEvent.objects.values()) == first
        assert (
            list(DeliveryAggregate.objects.values_list("status", "count")) == aggregates
        )
        assert aggregates == [("Bounced", 1), ("Bounced", 1)]  # hour and day
        assert ProcessedEvent.objects.count() == 1
        (row,) = first
        assert row["status"] == "Bounced"
        assert row["domain_class"] == "docomo"
        assert row["source"] == "eventgrid"
        message = MessageRecord.objects.get(message_id=MESSAGE)
        assert message.sender_address == SENDER.lower()
        assert message.status == "Bounced"
        # not billable until the SendMail row arrives
        assert message.unique_recipients == 0


def test_older_event_does_not_overwrite_a_newer_status(secret):
    from mailops.models import RecipientEvent

    t = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    _post(secret, [delivery("e2", "Delivered", t + timedelta(minutes=5))])
    _post(secret, [delivery("e1", "Failed", t)])
    with schema_context("alpha"):
        assert RecipientEvent.objects.get().status == "Delivered"


def test_engagement_events(secret):
    from mailops.models import EngagementEvent, ProcessedEvent

    at = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    event = {
        "id": "g1",
        "eventType": "Microsoft.Communication.EmailEngagementTrackingReportReceived",
        "data": {
            "sender": SENDER,
            "recipient": "a@gmail.com",
            "messageId": MESSAGE,
            "userActionTimestamp": "2026-11-30T01:00:00.1234567+00:00",
            "engagementContext": "https://alpha.example/x",
            "userAgent": "UA",
            "engagementType": "click",
        },
    }
    _post(secret, [event])
    _post(secret, [event])
    with schema_context("alpha"):
        row = EngagementEvent.objects.get()
        assert row.kind == "click"
        assert row.occurred_at == at + timedelta(microseconds=123456)
        assert ProcessedEvent.objects.count() == 1


def test_secret_is_stored_hashed_and_rotates(personas):
    from mailops.analytics.eventgrid import eventgrid_secret_issue, eventgrid_url
    from mailops.models import AnalyticsSettings
    from tenants.accounts.models import AuditEvent

    with schema_context("alpha"):
        first = eventgrid_secret_issue(ctx=OWNER_CTX)
        second = eventgrid_secret_issue(ctx=OWNER_CTX)
        stored = AnalyticsSettings.objects.get().eventgrid_secret_hash
        assert first not in stored and second not in stored
        assert len(stored) == 64
        url = eventgrid_url(second)
        assert url.startswith("http")
        assert url.endswith(f"alpha.localhost/hooks/eventgrid/{second}/") or (
            "alpha.localhost:" in url and url.endswith(f"/hooks/eventgrid/{second}/")
        )
        assert (
            AuditEvent.objects.filter(
                action="analytics.eventgrid_secret_issued"
            ).count()
            == 2
        )
    assert _post(first, []).status_code == 404
    assert _post(second, []).status_code == 200


# --- convergence with the Log Analytics pull --------------------------------------------


@pytest.fixture
def sent(acs):
    """One real message to two recipients through the portal adapter (ACS)."""
    from portal.integrations.azure import client

    emu, fp = acs
    keys = client.get_arm_client().communication_services.list_keys(
        fp.resource_group, fp.communication_service_name
    )
    managed = client.get_arm_client().domains.get(
        fp.resource_group, fp.email_service_name, "AzureManagedDomain"
    )
    sender = (
        f"DoNotReply@{managed.from_sender_domain or managed.mail_from_sender_domain}"
    )
    op_id = f"00000000-0000-4000-a000-{int(datetime.now(UTC).timestamp() * 1e6) % 10**12:012d}"
    client.send_email(
        connection_string=keys.primary_connection_string,
        message={
            "senderAddress": sender,
            "recipients": {
                "to": [{"address": "one@docomo.ne.jp"}, {"address": "two@gmail.com"}]
            },
            "content": {"subject": "hello", "plainText": "hello"},
        },
        operation_id=op_id,
    )
    return emu, fp, op_id, sender


def _wait_for_status_rows(fp, op_id: str, expected: int) -> list:
    import time

    from portal.integrations.azure import client

    start = datetime.now(UTC) - timedelta(hours=1)
    deadline = time.monotonic() + 20
    while True:
        rows = client.logs_query(
            resource_id=fp.communication_service_id,
            query=(
                "ACSEmailStatusUpdateOperational "
                f"| where CorrelationId == '{op_id}' and isnotempty(RecipientId) "
                "| project RecipientId, DeliveryStatus, TimeGenerated"
            ),
            start=start,
            end=datetime.now(UTC) + timedelta(minutes=5),
        ).rows
        if len(rows) >= expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def _events_for(rows, op_id: str, sender: str):
    return [
        {
            "id": f"ev-{op_id}-{recipient}",
            "eventType": "Microsoft.Communication.EmailDeliveryReportReceived",
            "data": {
                "sender": sender,
                "recipient": recipient,
                "messageId": op_id,
                "status": status.lower(),
                "deliveryStatusDetails": {"statusMessage": "No error."},
                "deliveryAttemptTimeStamp": at,
            },
        }
        for recipient, status, at in rows
    ]


def _state(op_id: str):
    from mailops.models import DeliveryAggregate, MessageRecord, RecipientEvent

    return (
        sorted(
            RecipientEvent.objects.filter(message_id=op_id).values_list(
                "recipient", "status", "status_at"
            )
        ),
        MessageRecord.objects.filter(message_id=op_id).values_list(
            "unique_recipients", "sender_address", "status"
        )[0],
        sorted(DeliveryAggregate.objects.values_list("period", "status", "count")),
        RecipientEvent.objects.count(),
    )


@pytest.mark.parametrize("order", ["event_first", "logs_first"])
def test_event_and_log_row_converge(sent, secret, order):
    from mailops.analytics.ingest import ingest_tenant

    emu, fp, op_id, sender = sent
    rows = _wait_for_status_rows(fp, op_id, 2)
    assert len(rows) == 2
    events = _events_for(rows, op_id, sender)
    since = datetime.now(UTC) - timedelta(hours=1)
    until = datetime.now(UTC) + timedelta(minutes=5)
    with schema_context("alpha"):
        if order == "event_first":
            assert _post(secret, events).status_code == 200
            ingest_tenant(since=since, until=until)
        else:
            ingest_tenant(since=since, until=until)
            assert _post(secret, events).status_code == 200
        converged = _state(op_id)
        # the other order, and everything again, give the same rows
        ingest_tenant(since=since, until=until)
        assert _post(secret, events).status_code == 200
        assert _state(op_id) == converged
    recipients, message, aggregates, total = converged
    assert [r[:2] for r in recipients] == sorted((r.lower(), s) for r, s, _t in rows)
    assert message[0] == 2
    assert message[1] == sender.lower()
    # other messages of earlier tests may be in the window: no double counts
    assert sum(n for period, _s, n in aggregates if period == "hour") == total
    assert sum(n for period, _s, n in aggregates if period == "day") == total
