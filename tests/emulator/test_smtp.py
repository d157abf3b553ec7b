"""SMTP relay: STARTTLS, AUTH with SMTP usernames and Entra client secrets."""

from __future__ import annotations

import smtplib
import ssl
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
import requests
from azure.mgmt.communication import CommunicationServiceManagementClient

from emulator.defaults import RESOURCE_GROUP, TENANT_ID
from emulator.testing import EmulatorProcess

from .conftest import Acs, unique

pytestmark = pytest.mark.emulator


def _app_with_secret(
    emu: EmulatorProcess, graph_headers: dict[str, str], hours: int = 48
) -> tuple[str, str, str, str]:
    """(object id, appId, secretText, keyId) of a fresh Entra app."""
    kw = {"headers": graph_headers, "verify": emu.ca_path, "timeout": 10}
    app = requests.post(
        f"{emu.url}/v1.0/applications", json={"displayName": unique("smtp")}, **kw
    ).json()
    end = (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
    pw = requests.post(
        f"{emu.url}/v1.0/applications/{app['id']}/addPassword",
        json={"passwordCredential": {"displayName": "smtp", "endDateTime": end}},
        **kw,
    ).json()
    return app["id"], app["appId"], pw["secretText"], pw["keyId"]


def _smtp(emu: EmulatorProcess) -> smtplib.SMTP:
    s = smtplib.SMTP("127.0.0.1", emu.smtp_port, timeout=10)
    s.starttls(context=ssl.create_default_context(cafile=emu.ca_path))
    return s


@pytest.fixture
def smtp_user(
    emulator: EmulatorProcess,
    mgmt: CommunicationServiceManagementClient,
    acs: Acs,
    graph_headers: dict[str, str],
) -> tuple[str, str, str, str]:
    obj_id, app_id, secret, key_id = _app_with_secret(emulator, graph_headers)
    username = unique("relay-user")
    mgmt.smtp_usernames.create_or_update(
        RESOURCE_GROUP,
        acs.name,
        unique("smtp"),
        {
            "properties": {
                "username": username,
                "entraApplicationId": app_id,
                "tenantId": TENANT_ID,
            }
        },
    )
    return username, secret, obj_id, key_id


def test_auth_requires_starttls(emulator: EmulatorProcess) -> None:
    s = smtplib.SMTP("127.0.0.1", emulator.smtp_port, timeout=10)
    try:
        s.ehlo()
        with pytest.raises(smtplib.SMTPException):
            s.login("user", "pass")
    finally:
        s.close()


def test_send_via_smtp_goes_through_pipeline(
    emulator: EmulatorProcess, acs: Acs, smtp_user: tuple[str, str, str, str]
) -> None:
    username, secret, _, _ = smtp_user
    before = emulator.admin("/counters")
    msg = EmailMessage()
    msg["From"] = acs.sender
    msg["To"] = "smtp-to@delivered.example"
    msg["Subject"] = "via smtp"
    msg.set_content("plain body")
    msg.add_alternative("<p>html body</p>", subtype="html")
    with _smtp(emulator) as s:
        s.login(username, secret)
        refused = s.send_message(
            msg, to_addrs=["smtp-to@delivered.example", "hidden@delivered.example"]
        )
    assert refused == {}
    after = emulator.admin("/counters")
    assert after["smtp_accepted"] == before["smtp_accepted"] + 1
    time.sleep(0.2)
    items = emulator.admin(f"/outbox?resourceId={acs.id}&source=smtp")["value"]
    last = items[-1]
    assert last["subject"] == "via smtp"
    assert last["to"] == ["smtp-to@delivered.example"]
    assert last["bcc"] == ["hidden@delivered.example"]
    assert "html body" in last["html"]
    assert last["credential"] == f"smtp:{username}"


def test_legacy_pipe_username(
    emulator: EmulatorProcess,
    acs: Acs,
    graph_headers: dict[str, str],
) -> None:
    _, app_id, secret, _ = _app_with_secret(emulator, graph_headers)
    with _smtp(emulator) as s:
        code, _ = s.login(f"{acs.name}|{app_id}|{TENANT_ID}", secret)
    assert code == 235


def test_wrong_password_is_535_5_7_3(
    emulator: EmulatorProcess, smtp_user: tuple[str, str, str, str]
) -> None:
    username, _, _, _ = smtp_user
    with _smtp(emulator) as s, pytest.raises(smtplib.SMTPAuthenticationError) as exc:
        s.login(username, "wrong-secret")
    assert exc.value.smtp_code == 535
    assert b"5.7.3 Authentication unsuccessful" in exc.value.smtp_error


def test_expired_secret_fails(
    emulator: EmulatorProcess, smtp_user: tuple[str, str, str, str]
) -> None:
    username, secret, _, _ = smtp_user
    emulator.admin("/clock", "POST", {"advance_seconds": 3 * 24 * 3600})
    try:
        with _smtp(emulator) as s, pytest.raises(smtplib.SMTPAuthenticationError):
            s.login(username, secret)
    finally:
        emulator.admin("/clock", "POST", {"reset": True})
    with _smtp(emulator) as s:
        assert s.login(username, secret)[0] == 235


def test_removed_secret_fails(
    emulator: EmulatorProcess,
    graph_headers: dict[str, str],
    smtp_user: tuple[str, str, str, str],
) -> None:
    username, secret, obj_id, key_id = smtp_user
    r = requests.post(
        f"{emulator.url}/v1.0/applications/{obj_id}/removePassword",
        json={"keyId": key_id},
        headers=graph_headers,
        verify=emulator.ca_path,
        timeout=10,
    )
    assert r.status_code == 204
    with _smtp(emulator) as s, pytest.raises(smtplib.SMTPAuthenticationError):
        s.login(username, secret)
