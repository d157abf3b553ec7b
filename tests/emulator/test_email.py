"""ACS Email data plane through azure-communication-email 1.1.0 (and crafted HMAC)."""

from __future__ import annotations

import base64
import time
import uuid
from email.utils import formatdate

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.mgmt.communication import CommunicationServiceManagementClient

from emulator.defaults import RESOURCE_GROUP
from emulator.testing import EmulatorProcess

from .conftest import Acs, email_client, message, provision, signed_post

pytestmark = pytest.mark.emulator


def _outbox(emu: EmulatorProcess, acs: Acs) -> list[dict]:
    return emu.admin(f"/outbox?resourceId={acs.id}")["value"]


def test_send_succeeds_and_is_recorded(emulator: EmulatorProcess, acs: Acs) -> None:
    client = email_client(emulator, acs.connection_string)
    msg = message(acs.sender, ["taro@example.jp"])
    msg["content"]["html"] = "<p>hi</p>"
    msg["recipients"]["bcc"] = [{"address": "audit@example.jp"}]
    result = client.begin_send(msg).result()
    assert result["status"] == "Succeeded"
    item = emulator.admin(f"/outbox/{result['id']}")
    assert item["subject"] == "Hello"
    assert item["to"] == ["taro@example.jp"]
    assert item["bcc"] == ["audit@example.jp"]
    assert item["html"] == "<p>hi</p>"


def test_operation_location_is_absolute_and_retry_after_set(
    emulator: EmulatorProcess, acs: Acs
) -> None:
    emulator.admin("/config", "POST", {"retry_after_ms": None, "send_delay_ms": 5000})
    try:
        r = signed_post(
            emulator, acs.primary_key, message(acs.sender, ["a@example.com"])
        )
        assert r.status_code == 202
        assert r.json()["status"] == "Running"
        assert r.headers["Retry-After"] == "1"
        loc = r.headers["Operation-Location"]
        assert loc.startswith(f"{emulator.url}/emails/operations/{r.json()['id']}")
        path = loc[len(emulator.url) :]
        poll = signed_post(emulator, acs.primary_key, b"", path=path, method="GET")
        assert poll.status_code == 200
        assert poll.json()["status"] == "Running"
        assert poll.headers["Retry-After"] == "1"
    finally:
        emulator.admin("/config", "POST", {"retry_after_ms": 20, "send_delay_ms": 0})


def test_bad_signature_is_401(emulator: EmulatorProcess, acs: Acs) -> None:
    # A key of the right shape that no resource owns.
    wrong = base64.b64encode(b"x" * 64).decode()
    r = signed_post(emulator, wrong, message(acs.sender, ["a@example.com"]))
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "Denied"
    assert r.headers["x-ms-error-code"] == "Denied"

    client = email_client(
        emulator, f"endpoint=https://127.0.0.1:{emulator.port}/;accesskey={wrong}"
    )
    with pytest.raises(ClientAuthenticationError):
        client.begin_send(message(acs.sender, ["a@example.com"]))


def test_tampered_body_and_stale_date_are_401(
    emulator: EmulatorProcess, acs: Acs
) -> None:
    stale = formatdate(time.time() - 20 * 60, usegmt=True)
    r = signed_post(
        emulator, acs.primary_key, message(acs.sender, ["a@example.com"]), date=stale
    )
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "Denied"
    # Signature computed over one body, another body sent.
    r = signed_post(
        emulator,
        acs.primary_key,
        message(acs.sender, ["a@example.com"]),
        headers={"x-ms-content-sha256": base64.b64encode(b"0" * 32).decode()},
    )
    assert r.status_code == 401


def test_fault_429_is_retried_by_the_sdk(emulator: EmulatorProcess, acs: Acs) -> None:
    before = emulator.admin("/counters")["throttled_429"]
    emulator.admin(
        "/faults",
        "POST",
        {"endpoint": "email.send", "kind": "429", "count": 1, "retry_after": 1},
    )
    client = email_client(emulator, acs.connection_string)
    t0 = time.monotonic()
    result = client.begin_send(message(acs.sender, ["retry@example.com"])).result()
    assert result["status"] == "Succeeded"
    assert time.monotonic() - t0 >= 1.0  # slept for Retry-After
    assert emulator.admin("/counters")["throttled_429"] == before + 1


def test_fault_drop_ends_failed_email_dropped(
    emulator: EmulatorProcess, acs: Acs
) -> None:
    emulator.admin("/faults", "POST", {"endpoint": "email.send", "kind": "drop"})
    client = email_client(emulator, acs.connection_string)
    with pytest.raises(HttpResponseError) as exc:
        client.begin_send(message(acs.sender, ["drop@example.com"])).result()
    assert exc.value.error.code == "EmailDropped"


def test_real_rate_tier_managed_domain(
    emulator: EmulatorProcess, mgmt: CommunicationServiceManagementClient
) -> None:
    res = provision(mgmt)  # default: Azure-managed domain, 5/min and 10/h
    body = message(res.sender, ["limit@example.com"])
    codes = [signed_post(emulator, res.primary_key, body).status_code for _ in range(6)]
    assert codes == [202] * 5 + [429]
    r = signed_post(emulator, res.primary_key, body)
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "TooManyRequests"
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    emulator.admin("/clock", "POST", {"advance_seconds": 61})
    try:
        assert signed_post(emulator, res.primary_key, body).status_code == 202
    finally:
        emulator.admin("/clock", "POST", {"reset": True})
    # Raised through the admin API.
    emulator.admin(
        "/rate-tier",
        "POST",
        {
            "resourceId": res.id,
            "perMinute": 100,
            "perHour": 100,
            "applyToManaged": True,
        },
    )
    assert signed_post(emulator, res.primary_key, body).status_code == 202


def test_operation_id_is_idempotent(emulator: EmulatorProcess, acs: Acs) -> None:
    client = email_client(emulator, acs.connection_string)
    op_id = str(uuid.uuid4())
    before = emulator.admin("/counters")
    msg = message(acs.sender, ["idem@example.com"])
    first = client.begin_send(msg, operation_id=op_id).result()
    second = client.begin_send(msg, operation_id=op_id).result()
    assert first["id"] == second["id"] == op_id
    after = emulator.admin("/counters")
    assert after["accepted_sends"] == before["accepted_sends"] + 1
    assert after["duplicate_operation_ids"] == before["duplicate_operation_ids"] + 1
    sent = [m for m in _outbox(emulator, acs) if m["id"] == op_id]
    assert len(sent) == 1


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (
            lambda m: m["recipients"].update(
                to=[{"address": f"u{i}@example.com"} for i in range(51)]
            ),
            "InvalidRecipientCount",
        ),
        (lambda m: m.pop("content"), "BadRequest"),
        (
            lambda m: m.update(senderAddress="DoNotReply@unlinked.example"),
            "DomainNotLinked",
        ),
    ],
)
def test_validation_errors(
    emulator: EmulatorProcess, acs: Acs, mutate: object, code: str
) -> None:
    msg = message(acs.sender, ["v@example.com"])
    mutate(msg)  # type: ignore[operator]
    client = email_client(emulator, acs.connection_string, retry_total=0)
    with pytest.raises(HttpResponseError) as exc:
        client.begin_send(msg)
    assert exc.value.status_code == 400
    assert exc.value.error.code == code


def test_message_over_10_mb_is_rejected(emulator: EmulatorProcess, acs: Acs) -> None:
    msg = message(acs.sender, ["big@example.com"])
    msg["attachments"] = [
        {
            "name": "big.bin",
            "contentType": "application/pdf",
            "contentInBase64": base64.b64encode(b"\0" * (8 * 1024 * 1024)).decode(),
        }
    ]
    client = email_client(emulator, acs.connection_string, retry_total=0)
    with pytest.raises(HttpResponseError) as exc:
        client.begin_send(msg)
    assert exc.value.error.code == "MessageTooLarge"


def test_unverified_domain_and_unknown_username(
    emulator: EmulatorProcess, mgmt: CommunicationServiceManagementClient, acs: Acs
) -> None:
    dom = mgmt.domains.begin_create_or_update(
        RESOURCE_GROUP,
        acs.email_service,
        "unverified.example",
        {"location": "global", "properties": {"domainManagement": "CustomerManaged"}},
    ).result()
    mgmt.communication_services.update(
        RESOURCE_GROUP,
        acs.name,
        {"properties": {"linkedDomains": [acs.domain_id, dom.id]}},
    )
    client = email_client(emulator, acs.connection_string, retry_total=0)
    with pytest.raises(HttpResponseError) as exc:
        client.begin_send(message("info@unverified.example", ["x@example.com"]))
    assert exc.value.error.code == "InvalidSenderDomain"

    emulator.admin("/domains/verify", "POST", {"domainId": dom.id})
    with pytest.raises(HttpResponseError) as exc:
        client.begin_send(message("info@unverified.example", ["x@example.com"]))
    assert exc.value.error.code == "InvalidSenderUserName"
    # Azure-managed domain: only DoNotReply exists by default.
    with pytest.raises(HttpResponseError) as exc:
        client.begin_send(message(f"someone@{acs.sender_domain}", ["x@example.com"]))
    assert exc.value.error.code == "InvalidSenderUserName"

    mgmt.sender_usernames.create_or_update(
        RESOURCE_GROUP,
        acs.email_service,
        "unverified.example",
        "info",
        {"properties": {"username": "info", "displayName": "Info"}},
    )
    ok = client.begin_send(message("info@unverified.example", ["x@example.com"]))
    assert ok.result()["status"] == "Succeeded"


def test_suppressed_recipients(
    emulator: EmulatorProcess, mgmt: CommunicationServiceManagementClient, acs: Acs
) -> None:
    mgmt.suppression_lists.create_or_update(
        RESOURCE_GROUP,
        acs.email_service,
        "AzureManagedDomain",
        "optouts",
        {"properties": {"listName": "optouts"}},
    )
    mgmt.suppression_list_addresses.create_or_update(
        RESOURCE_GROUP,
        acs.email_service,
        "AzureManagedDomain",
        "optouts",
        "addr1",
        {"properties": {"email": "optout@example.com", "firstName": "Opt"}},
    )
    client = email_client(emulator, acs.connection_string)
    mixed = client.begin_send(
        message(acs.sender, ["optout@example.com", "ok@delivered.example"])
    ).result()
    assert mixed["status"] == "Succeeded"
    time.sleep(0.3)
    statuses = {
        r["address"]: r["status"]
        for r in emulator.admin(f"/outbox/{mixed['id']}")["recipients"]
    }
    assert statuses == {
        "optout@example.com": "Suppressed",
        "ok@delivered.example": "Delivered",
    }
    with pytest.raises(HttpResponseError) as exc:
        client.begin_send(message(acs.sender, ["optout@example.com"])).result()
    assert exc.value.error.code == "EmailDroppedAllRecipientsSuppressed"


def test_deterministic_delivery_outcomes(emulator: EmulatorProcess, acs: Acs) -> None:
    client = email_client(emulator, acs.connection_string)
    res = client.begin_send(
        message(acs.sender, ["x@bounce.example", "y@quarantine.example"])
    ).result()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        item = emulator.admin(f"/outbox/{res['id']}")
        statuses = {r["address"]: r["status"] for r in item["recipients"]}
        if None not in statuses.values():
            break
        time.sleep(0.05)
    assert statuses == {
        "x@bounce.example": "Bounced",
        "y@quarantine.example": "Quarantined",
    }


def test_async_client_signature_is_accepted(
    emulator: EmulatorProcess, acs: Acs
) -> None:
    import asyncio

    from azure.communication.email.aio import EmailClient as AsyncEmailClient

    async def send() -> dict:
        client = AsyncEmailClient.from_connection_string(
            acs.connection_string,
            connection_verify=emulator.ca_path,
            polling_interval=0.05,
        )
        async with client:
            poller = await client.begin_send(message(acs.sender, ["aio@example.com"]))
            return await poller.result()

    assert asyncio.run(send())["status"] == "Succeeded"


def test_get_status_is_rate_limited_on_managed_domain(
    emulator: EmulatorProcess, mgmt: CommunicationServiceManagementClient
) -> None:
    res = provision(mgmt)
    r = signed_post(emulator, res.primary_key, message(res.sender, ["s@example.com"]))
    path = r.headers["Operation-Location"][len(emulator.url) :]
    codes = [
        signed_post(emulator, res.primary_key, b"", path=path, method="GET").status_code
        for _ in range(11)
    ]
    assert codes == [200] * 10 + [429]
