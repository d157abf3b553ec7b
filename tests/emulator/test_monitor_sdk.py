"""The real azure-monitor-query / -querymetrics SDKs against the emulator.

Two layers:

* in-process: the SDK clients talk to a ``LogStore`` through a requests
  adapter, which lets the tests shrink ``max_rows`` to see the SDK turn a
  truncated result into ``LogsQueryPartialResult``;
* end to end: the SDKs with a real ``ClientSecretCredential`` against the
  running emulator (session fixture from ``conftest.py``), on history written
  by ``python -m emulator simulate``.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import urllib3
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline.transport import RequestsTransport
from azure.identity import ClientSecretCredential
from azure.monitor.query import LogsQueryClient, LogsQueryStatus
from azure.monitor.querymetrics import MetricsClient
from requests.adapters import BaseAdapter

from emulator.defaults import SUBSCRIPTION_ID, WORKSPACE_ID
from emulator.logstore import LogStore
from emulator.testing import EmulatorProcess

NS = "Microsoft.Communication/CommunicationServices"
SU = "ACSEmailStatusUpdateOperational"
SM = "ACSEmailSendMailOperational"


def rid(name: str) -> str:
    return (
        f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-sim/providers/"
        f"Microsoft.Communication/communicationServices/{name}"
    )


# ---------------------------------------------------------------------------
# In-process: SDK <-> LogStore through a requests adapter
# ---------------------------------------------------------------------------


class FakeCredential:
    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("fake", int(time.time()) + 3600)


class LogStoreAdapter(BaseAdapter):
    """Answers the Log Analytics and metrics routes from a LogStore."""

    def __init__(self, store: LogStore, now: datetime) -> None:
        super().__init__()
        self.store = store
        self.now = now
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        self.requests.append(request)
        url = urlsplit(request.url or "")
        raw = request.body or b"{}"
        body = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        if url.path.endswith("/metrics:getBatch"):
            status, out = self.store.metrics_http(
                dict(parse_qsl(url.query)), body, now=self.now
            )
        elif url.path.startswith("/v1/workspaces/"):
            status, out = self.store.query_http(body, resource_ids=None, now=self.now)
        else:
            resource = url.path[len("/v1") : -len("/query")]
            status, out = self.store.query_http(
                body, resource_ids=[resource], now=self.now
            )
        payload = json.dumps(out).encode()
        headers = {"Content-Type": "application/json"}
        resp = requests.Response()
        resp.status_code = status
        # azure-core streams from .raw, so hand it a real urllib3 response.
        resp.raw = urllib3.HTTPResponse(
            body=io.BytesIO(payload),
            headers=headers,
            status=status,
            preload_content=False,
        )
        resp.headers.update(headers)
        resp.url = request.url or ""
        resp.request = request
        resp.reason = "OK" if status == 200 else "Bad Request"
        return resp

    def close(self) -> None:
        pass


NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


@pytest.fixture
def local(tmp_path: Path) -> tuple[LogStore, LogsQueryClient, MetricsClient]:
    store = LogStore(str(tmp_path / "logs.sqlite3"))
    store.insert_rows(
        SU,
        [
            {
                "TimeGenerated": NOW - timedelta(minutes=10 * i),
                "CorrelationId": f"m{i}",
                "RecipientId": f"u{i}@docomo.ne.jp",
                "DeliveryStatus": "Bounced" if i % 3 == 0 else "Delivered",
                "_ResourceId": rid("acs-local"),
            }
            for i in range(1, 7)
        ],
    )
    session = requests.Session()
    adapter = LogStoreAdapter(store, NOW)
    session.mount("https://", adapter)
    transport = RequestsTransport(session=session, session_owner=False)
    logs = LogsQueryClient(
        FakeCredential(),  # type: ignore[arg-type]
        endpoint="https://logs.emulator.test",
        audience="https://api.loganalytics.io",
        transport=transport,
    )
    metrics = MetricsClient(
        "https://metrics.emulator.test",
        FakeCredential(),  # type: ignore[arg-type]
        transport=RequestsTransport(session=session, session_owner=False),
    )
    return store, logs, metrics


def test_sdk_parses_success_with_datetimes(local: Any) -> None:
    _, logs, _ = local
    res = logs.query_workspace(
        WORKSPACE_ID,
        f"{SU} | summarize n = count() by bin(TimeGenerated, 1h), DeliveryStatus "
        "| sort by TimeGenerated asc, DeliveryStatus asc",
        timespan=(NOW - timedelta(days=1), NOW + timedelta(minutes=1)),
    )
    assert res.status == LogsQueryStatus.SUCCESS
    table = res.tables[0]
    assert table.columns == ["TimeGenerated", "DeliveryStatus", "n"]
    assert table.columns_types == ["datetime", "string", "long"]
    rows = [list(r) for r in table.rows]
    # 02:50 D, 02:40 D, 02:30 B, 02:20 D, 02:10 D, 02:00 B
    assert rows == [
        [datetime(2026, 11, 30, 2, tzinfo=UTC), "Bounced", 2],
        [datetime(2026, 11, 30, 2, tzinfo=UTC), "Delivered", 4],
    ]


def test_sdk_query_resource_scopes_rows(local: Any) -> None:
    _, logs, _ = local
    res = logs.query_resource(rid("acs-local"), f"{SU} | count", timespan=None)
    assert [list(r) for r in res.tables[0].rows] == [[6]]
    res = logs.query_resource(rid("acs-other"), f"{SU} | count", timespan=None)
    assert [list(r) for r in res.tables[0].rows] == [[0]]


def test_sdk_partial_result(local: Any) -> None:
    store, logs, _ = local
    store.max_rows = 4
    res = logs.query_workspace(WORKSPACE_ID, SU, timespan=None)
    assert res.status == LogsQueryStatus.PARTIAL
    assert len(res.partial_data[0].rows) == 4
    assert res.partial_error.code == "PartialError"
    assert "E_QUERY_RESULT_SET_TOO_LARGE" in str(res.partial_error.details)


def test_sdk_bad_argument(local: Any) -> None:
    _, logs, _ = local
    with pytest.raises(HttpResponseError) as info:
        logs.query_workspace(WORKSPACE_ID, f"{SU} | where Nope == 1", timespan=None)
    assert info.value.error is not None
    assert info.value.error.code == "BadArgumentError"
    assert "Nope" in str(info.value)


def test_sdk_metrics_shape(local: Any) -> None:
    _, _, metrics = local
    (result,) = metrics.query_resources(
        resource_ids=[rid("acs-local")],
        metric_namespace=NS,
        metric_names=["DeliveryStatusUpdate"],
        timespan=(NOW - timedelta(hours=2), NOW),
        granularity=timedelta(hours=1),
        aggregations=["Count"],
        filter="MessageStatus eq '*'",
    )
    assert result.granularity == timedelta(hours=1)
    metric = result.metrics["DeliveryStatusUpdate"]
    got = {
        ts.metadata_values["messagestatus"]: [d.count for d in ts.data]
        for ts in metric.timeseries
    }
    assert got == {"Delivered": [0.0, 4.0], "Bounced": [0.0, 2.0]}
    assert metric.timeseries[0].data[1].timestamp == datetime(
        2026, 11, 30, 2, tzinfo=UTC
    )


# ---------------------------------------------------------------------------
# End to end against the running emulator
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulated(emulator: EmulatorProcess) -> tuple[str, LogStore]:
    """Two days of history for a fresh resource, written into the live state."""
    if not emulator.admin("/info")["logstore"]:
        pytest.skip("emulator.logstore is not available")
    resource = rid(f"acs-sim-{uuid.uuid4().hex[:8]}")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "emulator",
            "simulate",
            "--state",
            str(emulator.state_dir),
            "--resource",
            resource,
            "--days",
            "2",
            "--per-day",
            "400",
            "--seed",
            "11",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    # A second handle on the same file computes the expected answers.
    return resource, LogStore(str(Path(emulator.state_dir) / "logs.sqlite3"))


def expected(store: LogStore, query: str, resource: str) -> list[list[Any]]:
    status, body = store.query_http(
        {"query": query, "timespan": None},
        resource_ids=[resource],
        now=datetime.now(UTC),
    )
    assert status == 200, body
    return body["tables"][0]["rows"]


def logs_client(emulator: EmulatorProcess, cred: ClientSecretCredential) -> Any:
    return LogsQueryClient(
        cred,
        endpoint=emulator.url,
        audience="https://api.loganalytics.io",
        connection_verify=emulator.ca_path,
    )


def test_e2e_query_workspace(
    emulator: EmulatorProcess,
    credential: ClientSecretCredential,
    simulated: tuple[str, LogStore],
) -> None:
    resource, store = simulated
    query = (
        f'{SU} | where _ResourceId =~ "{resource}" | where isnotempty(RecipientId) '
        "| summarize Count = count() by DeliveryStatus | sort by DeliveryStatus asc"
    )
    res = logs_client(emulator, credential).query_workspace(
        WORKSPACE_ID, query, timespan=timedelta(days=3)
    )
    assert res.status == LogsQueryStatus.SUCCESS
    got = [list(r) for r in res.tables[0].rows]
    assert got == expected(store, query, resource)
    assert sum(n for _, n in got) > 800  # 800 messages, >= 1 recipient each
    assert "Delivered" in {s for s, _ in got}


def test_e2e_query_resource_and_datetimes(
    emulator: EmulatorProcess,
    credential: ClientSecretCredential,
    simulated: tuple[str, LogStore],
) -> None:
    resource, _ = simulated
    logs = logs_client(emulator, credential)
    res = logs.query_resource(resource, f"{SM} | count", timespan=timedelta(days=3))
    assert [list(r) for r in res.tables[0].rows] == [[800]]
    res = logs.query_resource(
        resource,
        f"{SM} | summarize n = count() by bin(TimeGenerated, 1d) | sort by n desc",
        timespan=timedelta(days=3),
    )
    rows = [list(r) for r in res.tables[0].rows]
    assert sum(n for _, n in rows) == 800
    assert all(isinstance(t, datetime) for t, _ in rows)
    with pytest.raises(HttpResponseError) as info:
        logs.query_resource(resource, f"{SM} | frobnicate", timespan=None)
    assert info.value.error is not None
    assert info.value.error.code == "BadArgumentError"


def test_e2e_metrics(
    emulator: EmulatorProcess,
    credential: ClientSecretCredential,
    simulated: tuple[str, LogStore],
) -> None:
    resource, store = simulated
    client = MetricsClient(emulator.url, credential, connection_verify=emulator.ca_path)
    now = datetime.now(UTC)
    (result,) = client.query_resources(
        resource_ids=[resource],
        metric_namespace=NS,
        metric_names=["DeliveryStatusUpdate", "UserEngagement"],
        timespan=(now - timedelta(days=3), now + timedelta(minutes=5)),
        granularity=timedelta(days=1),
        aggregations=["Count"],
    )
    delivery = result.metrics["DeliveryStatusUpdate"]
    (series,) = delivery.timeseries
    total = sum(d.count or 0 for d in series.data)
    ((recipients,),) = expected(
        store, f"{SU} | where isnotempty(RecipientId) | count", resource
    )
    assert total == recipients
    (split,) = client.query_resources(
        resource_ids=[resource],
        metric_namespace=NS,
        metric_names=["DeliveryStatusUpdate"],
        timespan=(now - timedelta(days=3), now + timedelta(minutes=5)),
        granularity=timedelta(days=1),
        aggregations=["Count"],
        filter="MessageStatus eq 'Delivered'",
    )
    (ts,) = split.metrics["DeliveryStatusUpdate"].timeseries
    assert ts.metadata_values == {"messagestatus": "Delivered"}
    ((delivered,),) = expected(
        store,
        f'{SU} | where DeliveryStatus == "Delivered" | count',
        resource,
    )
    assert sum(d.count or 0 for d in ts.data) == delivered
