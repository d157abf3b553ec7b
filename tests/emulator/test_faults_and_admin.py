"""Fault injection kinds, the admin gate and bearer auth on the email data plane."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from azure.communication.email import EmailClient
from azure.identity import ClientSecretCredential
from azure.mgmt.communication import CommunicationServiceManagementClient
from azure.monitor.querymetrics import MetricsClient

from emulator.defaults import RESOURCE_GROUP
from emulator.testing import EmulatorProcess, start_emulator

from .conftest import Acs, message, provision, signed_post

pytestmark = pytest.mark.emulator


def test_connection_reset_fault(emulator: EmulatorProcess, acs: Acs) -> None:
    emulator.admin("/faults", "POST", {"endpoint": "email.send", "kind": "reset"})
    with pytest.raises(requests.ConnectionError):
        signed_post(emulator, acs.primary_key, message(acs.sender, ["r@example.com"]))
    assert emulator.admin("/faults")["value"][0]["hits"] == 1
    emulator.admin("/faults", "DELETE")
    r = signed_post(emulator, acs.primary_key, message(acs.sender, ["r@example.com"]))
    assert r.status_code == 202


def test_delay_and_503_faults(emulator: EmulatorProcess, acs: Acs) -> None:
    emulator.admin(
        "/faults", "POST", {"endpoint": "email.send", "kind": "delay", "delay_ms": 300}
    )
    t0 = time.monotonic()
    r = signed_post(emulator, acs.primary_key, message(acs.sender, ["d@example.com"]))
    assert r.status_code == 202
    assert time.monotonic() - t0 >= 0.3
    emulator.admin("/faults", "POST", {"endpoint": "email.send", "kind": "503"})
    r = signed_post(emulator, acs.primary_key, message(acs.sender, ["d@example.com"]))
    assert r.status_code == 503
    assert r.headers["x-ms-error-code"] == "ServiceUnavailable"
    assert r.headers["Retry-After"] == "1"
    emulator.admin(
        "/faults", "POST", {"endpoint": "email.send", "kind": "500", "rate": 0}
    )
    assert (
        signed_post(
            emulator, acs.primary_key, message(acs.sender, ["d@example.com"])
        ).status_code
        == 202
    )
    emulator.admin("/faults", "DELETE")


def test_bearer_token_on_email_data_plane(
    emulator: EmulatorProcess, acs: Acs, credential: ClientSecretCredential
) -> None:
    client = EmailClient(
        emulator.url,
        credential,
        connection_verify=emulator.ca_path,
        polling_interval=0.05,
        headers={"x-ms-emulator-resource-id": acs.id},
    )
    result = client.begin_send(message(acs.sender, ["bearer@example.com"])).result()
    assert result["status"] == "Succeeded"


def test_metrics_get_batch_route(
    emulator: EmulatorProcess, acs: Acs, credential: ClientSecretCredential
) -> None:
    if not emulator.admin("/info")["logstore"]:
        pytest.skip("emulator.logstore is not available")
    signed_post(emulator, acs.primary_key, message(acs.sender, ["m@example.com"]))
    client = MetricsClient(emulator.url, credential, connection_verify=emulator.ca_path)
    results = client.query_resources(
        resource_ids=[acs.id],
        metric_namespace="Microsoft.Communication/CommunicationServices",
        metric_names=["ApiRequests"],
        timespan=timedelta(hours=1),
        granularity=timedelta(minutes=5),
        aggregations=["Count"],
    )
    assert results[0].metrics[0].name == "ApiRequests"
    total = sum(
        (d.count or 0) for ts in results[0].metrics[0].timeseries for d in ts.data
    )
    assert total >= 1


def test_clock_endpoint(emulator: EmulatorProcess) -> None:
    before = emulator.admin("/clock")
    moved = emulator.admin("/clock", "POST", {"advance_seconds": 30})
    assert moved["offset_seconds"] == pytest.approx(before["offset_seconds"] + 30)
    emulator.admin("/clock", "POST", {"reset": True})
    assert emulator.admin("/clock")["offset_seconds"] == 0


def test_admin_routes_are_404_without_flag(tmp_path: Path) -> None:
    with start_emulator(tmp_path / "noadmin", admin=False) as emu:
        r = requests.get(f"{emu.url}/_emulator/info", verify=emu.ca_path, timeout=10)
        assert r.status_code == 404


def test_outbox_filters_and_clear(emulator: EmulatorProcess, acs: Acs) -> None:
    addr = "filter-me@delivered.example"
    assert (
        signed_post(emulator, acs.primary_key, message(acs.sender, [addr])).status_code
        == 202
    )
    time.sleep(0.1)
    found = emulator.admin(f"/outbox?recipient={addr}")["value"]
    assert [m["to"] for m in found] == [[addr]]
    emulator.admin("/outbox", "DELETE")
    assert emulator.admin(f"/outbox?recipient={addr}")["value"] == []


def test_disable_local_auth_refuses_hmac(
    emulator: EmulatorProcess, mgmt: CommunicationServiceManagementClient
) -> None:
    res = provision(mgmt)
    body = message(res.sender, ["local@example.com"])
    assert signed_post(emulator, res.primary_key, body).status_code == 202
    mgmt.communication_services.update(
        RESOURCE_GROUP, res.name, {"properties": {"disableLocalAuth": True}}
    )
    r = signed_post(emulator, res.primary_key, body)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "Denied"
