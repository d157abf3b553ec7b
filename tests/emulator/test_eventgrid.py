"""Event Grid webhook handshake and redelivery, against a tiny loopback receiver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from emulator.testing import EmulatorProcess

from .conftest import Acs, email_client, message

pytestmark = pytest.mark.emulator


class Receiver:
    """Answers the validation handshake; fails the first ``fail`` notifications."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.requests: list[tuple[dict[str, str], Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.requests.append((headers, body))
                if headers.get("aeg-event-type") == "SubscriptionValidation":
                    out = json.dumps(
                        {"validationResponse": body[0]["data"]["validationCode"]}
                    ).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                    return
                if receiver.fail > 0:
                    receiver.fail -= 1
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_OPTIONS(self) -> None:  # noqa: N802 - http.server API
                origin = self.headers.get("WebHook-Request-Origin", "")
                receiver.requests.append(
                    ({"aeg-event-type": "OPTIONS", "origin": origin}, None)
                )
                self.send_response(200)
                self.send_header("WebHook-Allowed-Origin", origin)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def notifications(self) -> list[tuple[dict[str, str], Any]]:
        return [r for r in self.requests if r[0]["aeg-event-type"] == "Notification"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(fail=2)
    yield r
    r.close()


def test_handshake_then_redelivery_after_failures(
    emulator: EmulatorProcess, acs: Acs, receiver: Receiver
) -> None:
    sub = emulator.admin(
        "/webhooks",
        "POST",
        {"url": receiver.url, "name": "portal-test", "resourceId": acs.id},
    )
    assert sub["status"] == "Validated"
    headers, body = receiver.requests[0]
    assert headers["aeg-event-type"] == "SubscriptionValidation"
    assert body[0]["eventType"] == "Microsoft.EventGrid.SubscriptionValidationEvent"

    client = email_client(emulator, acs.connection_string)
    result = client.begin_send(message(acs.sender, ["eg@delivered.example"])).result()

    deadline = time.monotonic() + 10
    delivered: list[Any] = []
    while time.monotonic() < deadline:
        ok = emulator.admin("/webhooks/portal-test")["counters"]
        if ok["eventsDelivered"] >= 1:
            delivered = receiver.notifications()
            break
        time.sleep(0.05)
    counters = emulator.admin("/webhooks/portal-test")["counters"]
    assert counters["failures"] == 2
    assert counters["successes"] >= 1
    assert counters["attempts"] >= 3
    # Three POSTs of the same batch; delivery count increases.
    assert [h["aeg-delivery-count"] for h, _ in delivered[:3]] == ["0", "1", "2"]
    event = delivered[2][1][0]
    assert event["eventType"] == "Microsoft.Communication.EmailDeliveryReportReceived"
    assert event["topic"] == acs.id
    assert event["data"]["messageId"] == result["id"]
    assert event["data"]["status"] == "Delivered"
    assert event["data"]["recipient"] == "eg@delivered.example"
    emulator.admin("/webhooks/portal-test", "DELETE")


def test_failed_handshake_is_reported(emulator: EmulatorProcess) -> None:
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        emulator.admin("/webhooks", "POST", {"url": "http://127.0.0.1:9/nothing"})


def test_non_loopback_webhook_is_refused(emulator: EmulatorProcess) -> None:
    with pytest.raises(RuntimeError, match="loopback"):
        emulator.admin("/webhooks", "POST", {"url": "https://example.com/hook"})


def test_cloudevents_schema_delivery(emulator: EmulatorProcess, acs: Acs) -> None:
    receiver = Receiver()
    try:
        sub = emulator.admin(
            "/webhooks",
            "POST",
            {
                "url": receiver.url,
                "name": "cloudevents",
                "resourceId": acs.id,
                "schema": "CloudEventSchemaV1_0",
            },
        )
        assert sub["status"] == "Validated"
        assert receiver.requests[0][0]["origin"] == "eventgrid.azure.net"
        email_client(emulator, acs.connection_string).begin_send(
            message(acs.sender, ["ce@delivered.example"])
        ).result()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not receiver.notifications():
            time.sleep(0.05)
        headers, body = receiver.notifications()[0]
        assert headers["content-type"].startswith("application/cloudevents-batch+json")
        assert body[0]["specversion"] == "1.0"
        assert body[0]["type"] == "Microsoft.Communication.EmailDeliveryReportReceived"
        assert body[0]["source"] == acs.id
    finally:
        emulator.admin("/webhooks/cloudevents", "DELETE")
        receiver.close()
