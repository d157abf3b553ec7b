"""The Azure Monitor routes are bearer-protected and fed by the email pipeline."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.mgmt.communication import CommunicationServiceManagementClient
from azure.monitor.query import LogsQueryClient, LogsQueryStatus

from emulator.defaults import RESOURCE_GROUP, WORKSPACE_ID
from emulator.testing import EmulatorProcess

from .conftest import Acs, email_client, message

pytestmark = pytest.mark.emulator


def test_logs_query_requires_bearer(emulator: EmulatorProcess) -> None:
    r = requests.post(
        f"{emulator.url}/v1/workspaces/{WORKSPACE_ID}/query",
        json={"query": "ACSEmailSendMailOperational | take 1"},
        verify=emulator.ca_path,
        timeout=10,
    )
    assert r.status_code == 401
    assert "WWW-Authenticate" in r.headers


def test_send_shows_up_in_logs(
    emulator: EmulatorProcess, acs: Acs, credential: ClientSecretCredential
) -> None:
    if not emulator.admin("/info")["logstore"]:
        pytest.skip("emulator.logstore is not available")
    result = (
        email_client(emulator, acs.connection_string)
        .begin_send(message(acs.sender, ["logs@delivered.example"]))
        .result()
    )
    logs = LogsQueryClient(
        credential,
        endpoint=emulator.url,
        audience="https://api.loganalytics.io",
        connection_verify=emulator.ca_path,
    )
    query = (
        "ACSEmailStatusUpdateOperational "
        f'| where CorrelationId == "{result["id"]}" '
        "| project RecipientId, DeliveryStatus"
    )
    rows: list[list[str]] = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            res = logs.query_workspace(WORKSPACE_ID, query, timespan=timedelta(days=1))
        except HttpResponseError:
            raise
        assert res.status == LogsQueryStatus.SUCCESS
        rows = [list(r) for r in res.tables[0].rows]
        if len(rows) >= 2:
            break
        time.sleep(0.1)
    assert ["", "OutForDelivery"] in rows
    assert ["logs@delivered.example", "Delivered"] in rows
    by_resource = logs.query_resource(
        acs.id,
        f'ACSEmailSendMailOperational | where CorrelationId == "{result["id"]}"',
        timespan=timedelta(days=1),
    )
    assert len(by_resource.tables[0].rows) == 1


def test_engagement_tracking_rows(
    emulator: EmulatorProcess,
    acs: Acs,
    credential: ClientSecretCredential,
    mgmt: CommunicationServiceManagementClient,
) -> None:
    if not emulator.admin("/info")["logstore"]:
        pytest.skip("emulator.logstore is not available")
    name = "tracked.example"
    dom = mgmt.domains.begin_create_or_update(
        RESOURCE_GROUP,
        acs.email_service,
        name,
        {
            "location": "global",
            "properties": {
                "domainManagement": "CustomerManaged",
                "userEngagementTracking": "Enabled",
            },
        },
    ).result()
    emulator.admin("/domains/verify", "POST", {"domainId": dom.id})
    mgmt.sender_usernames.create_or_update(
        RESOURCE_GROUP,
        acs.email_service,
        name,
        "news",
        {"properties": {"username": "news"}},
    )
    current = mgmt.communication_services.get(RESOURCE_GROUP, acs.name)
    mgmt.communication_services.update(
        RESOURCE_GROUP,
        acs.name,
        {"properties": {"linkedDomains": [*current.properties.linked_domains, dom.id]}},
    )
    msg = message(f"news@{name}", [f"r{i}@delivered.example" for i in range(20)])
    msg["content"]["html"] = "<p>news</p>"
    op_id = "5f0c1a52-9d7e-4c36-8f4e-2b1d3c4a5e6f"
    email_client(emulator, acs.connection_string).begin_send(
        msg, operation_id=op_id
    ).result()
    logs = LogsQueryClient(
        credential,
        endpoint=emulator.url,
        audience="https://api.loganalytics.io",
        connection_verify=emulator.ca_path,
    )
    deadline = time.monotonic() + 5
    rows: list[list[str]] = []
    while time.monotonic() < deadline and not rows:
        res = logs.query_workspace(
            WORKSPACE_ID,
            "ACSEmailUserEngagementOperational "
            f'| where CorrelationId == "{op_id}" | project RecipientId, EngagementType',
            timespan=timedelta(days=1),
        )
        rows = [list(r) for r in res.tables[0].rows]
        time.sleep(0.05)
    assert rows
    assert all(t == "View" for _, t in rows)
