"""The portal's own mail goes through the ACS adapter to the emulator, for real."""

from __future__ import annotations

import pytest
from django.core.mail import EmailMultiAlternatives, send_mail

from portal.integrations.azure import client
from portal.integrations.azure.errors import AzureError
from portal.mail_backend import OPERATION_ID_HEADER

pytestmark = [pytest.mark.integration, pytest.mark.emulator]


@pytest.fixture
def acs_mail(emulator_settings, settings):
    settings.EMAIL_BACKEND = "portal.mail_backend.AcsEmailBackend"
    settings.DEFAULT_FROM_EMAIL = ""
    emulator_settings.admin(
        "/delays", "POST", {"send_delay_ms": 0, "delivery_delay_ms": 0}
    )
    resource = client.ensure_portal_mail_resource()
    client.reset_clients()
    return emulator_settings, resource


def _outbox(emu, resource_id: str) -> list[dict]:
    return emu.admin(f"/outbox?resourceId={resource_id}", "GET")["value"]


def test_setup_is_idempotent(acs_mail):
    _emu, first = acs_mail
    second = client.ensure_portal_mail_resource()
    assert second == first
    assert first.sender.startswith("DoNotReply@")
    assert first.sender.endswith(".azurecomm.net")


def test_send_mail_reaches_acs(acs_mail):
    emu, resource = acs_mail
    before = len(_outbox(emu, resource.resource_id))
    sent = send_mail("件名テスト", "本文です", None, ["taro@example.jp"])
    assert sent == 1
    items = _outbox(emu, resource.resource_id)
    assert len(items) == before + 1
    last = items[-1]
    assert last["senderAddress"] == resource.sender
    assert [r["address"] for r in last["recipients"]] == ["taro@example.jp"]
    assert last["subject"] == "件名テスト"


def test_same_operation_id_is_sent_once(acs_mail):
    emu, resource = acs_mail
    before = len(_outbox(emu, resource.resource_id))
    for _ in range(2):
        message = EmailMultiAlternatives("once", "body", None, ["once@example.jp"])
        message.extra_headers[OPERATION_ID_HEADER] = (
            "5b0f8b8e-2d4f-4a8e-9b7c-000000000001"
        )
        message.send()
    assert len(_outbox(emu, resource.resource_id)) == before + 1


def test_throttled_send_raises_retryable_error(acs_mail):
    emu, _resource = acs_mail
    emu.admin(
        "/faults",
        "POST",
        {"endpoint": "email.send", "kind": "429", "count": 10, "retry_after": 1},
    )
    try:
        with pytest.raises(AzureError) as info:
            send_mail("x", "y", None, ["z@example.jp"])
    finally:
        emu.admin("/faults", "DELETE")
    assert info.value.retryable is True
