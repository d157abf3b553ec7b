"""Fixtures: one emulator process per session, real SDK clients against it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.communication.email import EmailClient
from azure.identity import ClientSecretCredential
from azure.mgmt.communication import CommunicationServiceManagementClient

from emulator.defaults import (
    CLIENT_ID,
    CLIENT_SECRET,
    RESOURCE_GROUP,
    SUBSCRIPTION_ID,
    TENANT_ID,
)
from emulator.testing import EmulatorProcess, start_emulator

FAST_CONFIG = {
    "send_delay_ms": 0,
    "delivery_delay_ms": 0,
    "slow_delay_ms": 200,
    "engagement_delay_ms": 0,
    # retry-after-ms instead of Retry-After keeps SDK pollers fast; test_arm checks
    # the default Retry-After: 1 separately.
    "retry_after_ms": 20,
    "eventgrid_retry_base_ms": 100,
    "eventgrid_batch_window_ms": 10,
}


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    emu = start_emulator(tmp_path_factory.mktemp("emulator-state"))
    try:
        emu.admin("/config", "POST", FAST_CONFIG)
        yield emu
    finally:
        emu.stop()


def make_credential(
    emu: EmulatorProcess, secret: str = CLIENT_SECRET, client_id: str = CLIENT_ID
) -> ClientSecretCredential:
    return ClientSecretCredential(
        TENANT_ID,
        client_id,
        secret,
        authority=emu.url,
        disable_instance_discovery=True,
        connection_verify=emu.ca_path,
    )


@pytest.fixture(scope="session")
def credential(emulator: EmulatorProcess) -> ClientSecretCredential:
    return make_credential(emulator)


@pytest.fixture(scope="session")
def mgmt(
    emulator: EmulatorProcess, credential: ClientSecretCredential
) -> CommunicationServiceManagementClient:
    return CommunicationServiceManagementClient(
        credential,
        SUBSCRIPTION_ID,
        base_url=emulator.url,
        connection_verify=emulator.ca_path,
        polling_interval=0,
    )


def bearer(credential: ClientSecretCredential, scope: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential.get_token(scope).token}"}


@pytest.fixture(scope="session")
def graph_headers(credential: ClientSecretCredential) -> dict[str, str]:
    return bearer(credential, "https://graph.microsoft.com/.default")


@pytest.fixture(scope="session")
def arm_headers(credential: ClientSecretCredential) -> dict[str, str]:
    return bearer(credential, "https://management.azure.com/.default")


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@dataclass
class Acs:
    """A provisioned communication service with a linked Azure-managed domain."""

    name: str
    id: str
    email_service: str
    domain_id: str
    sender_domain: str
    primary_key: str
    secondary_key: str
    connection_string: str

    @property
    def sender(self) -> str:
        return f"DoNotReply@{self.sender_domain}"


def provision(
    mgmt: CommunicationServiceManagementClient, rg: str = RESOURCE_GROUP
) -> Acs:
    es = unique("es")
    acs = unique("acs")
    mgmt.email_services.begin_create_or_update(
        rg, es, {"location": "global", "properties": {"dataLocation": "United States"}}
    ).result()
    domain = mgmt.domains.begin_create_or_update(
        rg,
        es,
        "AzureManagedDomain",
        {"location": "global", "properties": {"domainManagement": "AzureManaged"}},
    ).result()
    comm = mgmt.communication_services.begin_create_or_update(
        rg,
        acs,
        {
            "location": "global",
            "properties": {
                "dataLocation": "United States",
                "linkedDomains": [domain.id],
            },
        },
    ).result()
    keys = mgmt.communication_services.list_keys(rg, acs)
    return Acs(
        name=acs,
        id=comm.id,
        email_service=es,
        domain_id=domain.id,
        sender_domain=domain.properties.from_sender_domain,
        primary_key=keys.primary_key,
        secondary_key=keys.secondary_key,
        connection_string=keys.primary_connection_string,
    )


@pytest.fixture(scope="session")
def acs(emulator: EmulatorProcess, mgmt: CommunicationServiceManagementClient) -> Acs:
    """Shared resource with a raised rate tier so tests are not throttled."""
    res = provision(mgmt)
    emulator.admin("/rate-tier", "POST", {"resourceId": res.id, "tier": "raised"})
    return res


def email_client(emu: EmulatorProcess, conn_str: str, **kw: Any) -> EmailClient:
    return EmailClient.from_connection_string(
        conn_str, connection_verify=emu.ca_path, polling_interval=0.05, **kw
    )


def message(sender: str, to: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "senderAddress": sender,
        "recipients": {"to": [{"address": a} for a in to]},
        "content": {"subject": "Hello", "plainText": "Hi there"},
        **extra,
    }


def signed_post(
    emu: EmulatorProcess,
    key_b64: str,
    body: dict[str, Any] | bytes,
    *,
    path: str = "/emails:send?api-version=2025-09-01",
    date: str | None = None,
    headers: dict[str, str] | None = None,
    method: str = "POST",
) -> requests.Response:
    """Craft an HMAC-signed request by hand (azure-facts §2.6)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    host = f"127.0.0.1:{emu.port}"
    date = date or formatdate(usegmt=True)
    content_hash = base64.b64encode(hashlib.sha256(raw).digest()).decode()
    sts = f"{method}\n{path}\n{date};{host};{content_hash}"
    sig = base64.b64encode(
        hmac.new(base64.b64decode(key_b64), sts.encode(), hashlib.sha256).digest()
    ).decode()
    hdrs = {
        "Content-Type": "application/json",
        "x-ms-date": date,
        "x-ms-content-sha256": content_hash,
        "Authorization": (
            f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={sig}"
        ),
        **(headers or {}),
    }
    return requests.request(
        method,
        emu.url + path,
        data=raw if method != "GET" else None,
        headers=hdrs,
        verify=emu.ca_path,
        timeout=30,
    )


def state_path(emu: EmulatorProcess) -> Path:
    return emu.state_dir
