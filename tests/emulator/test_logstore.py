"""LogStore: timespans, resource scoping, limits and the metrics wire shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.monitor.querymetrics._models import MetricsQueryResult

from emulator.logstore import LogStore, parse_iso_duration, parse_timespan

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SUB = "00000000-0000-0000-0000-000000000001"
BASE = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Communication"
RID1 = f"{BASE}/communicationServices/acs1"
RID2 = f"{BASE}/communicationServices/acs2"
SU = "ACSEmailStatusUpdateOperational"
SM = "ACSEmailSendMailOperational"
UE = "ACSEmailUserEngagementOperational"


def status_row(
    minutes_ago: float, rid: str, status: str, recipient: str = "x@example.jp"
) -> dict[str, Any]:
    return {
        "TimeGenerated": NOW - timedelta(minutes=minutes_ago),
        "CorrelationId": f"m{minutes_ago}",
        "RecipientId": recipient,
        "DeliveryStatus": status,
        "IsHardBounce": "true" if status == "Bounced" else "false",
        "SenderDomain": "contoso.co.jp",
        "_ResourceId": rid,
    }


@pytest.fixture
def store(tmp_path: Path) -> LogStore:
    s = LogStore(str(tmp_path / "logs.sqlite3"))
    s.insert_rows(
        SU,
        [
            status_row(5, RID1, "Delivered"),
            status_row(30, RID1, "Delivered"),
            status_row(50, RID1, "Bounced"),
            status_row(55, RID1, "OutForDelivery", recipient=""),
            status_row(90, RID1, "FilteredSpam"),
            status_row(20, RID2, "Delivered"),
            status_row(60 * 30, RID2, "Delivered"),
        ],
    )
    s.insert_rows(
        UE,
        [
            {
                "TimeGenerated": NOW - timedelta(minutes=m),
                "CorrelationId": "m",
                "RecipientId": "x@example.jp",
                "EngagementType": kind,
                "_ResourceId": RID1,
            }
            for m, kind in ((10, "View"), (12, "View"), (70, "Click"))
        ],
    )
    for minutes, code in ((1, 202), (2, 202), (3, 429), (61, 202)):
        s.record_api_request(
            resource_id=RID1,
            operation="SendMail",
            status_code=code,
            at=NOW - timedelta(minutes=minutes),
        )
    s.record_api_request(
        resource_id=RID1,
        operation="GetMessageStatus",
        status_code=200,
        at=NOW - timedelta(minutes=1),
    )
    return s


def count(store: LogStore, timespan: Any, resource_ids: list[str] | None = None) -> int:
    status, body = store.query_http(
        {"query": f"{SU} | count", "timespan": timespan, "workspaces": None},
        resource_ids=resource_ids,
        now=NOW,
    )
    assert status == 200, body
    return int(body["tables"][0]["rows"][0][0])


# -- timespan ------------------------------------------------------------------


def test_parse_iso_duration() -> None:
    assert parse_iso_duration("PT86400.0S") == timedelta(days=1)
    assert parse_iso_duration("PT3600.5S") == timedelta(hours=1, milliseconds=500)
    assert parse_iso_duration("P1DT2H30M") == timedelta(days=1, hours=2, minutes=30)
    assert parse_iso_duration("P1W") == timedelta(days=7)
    for bad in ("", "P", "PT", "1h", "PT1X"):
        with pytest.raises(ValueError):
            parse_iso_duration(bad)


def test_parse_timespan_forms() -> None:
    assert parse_timespan(None, NOW) is None
    assert parse_timespan("PT3600.0S", NOW) == (NOW - timedelta(hours=1), NOW)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_timespan("2026-11-01T00:00:00.000Z/2026-11-02T00:00:00.000Z", NOW) == (
        start,
        start + timedelta(days=1),
    )
    assert parse_timespan("2026-11-01T00:00:00.000Z/PT86400.0S", NOW) == (
        start,
        start + timedelta(days=1),
    )


@pytest.mark.parametrize(
    ("timespan", "expected"),
    [
        (None, 7),
        ("PT3600.0S", 5),  # 5, 20, 30, 50, 55 minutes ago
        ("PT1800.0S", 3),  # 5, 20, 30
        ("P1D", 6),
        ("2026-11-30T10:00:00.000Z/2026-11-30T11:35:00.000Z", 4),  # 90, 55, 50, 30 ago
        ("2026-11-30T11:00:00.000Z/PT600.0S", 2),  # 55 and 50 minutes ago
    ],
)
def test_query_timespan_filters(store: LogStore, timespan: Any, expected: int) -> None:
    assert count(store, timespan) == expected


def test_invalid_timespan_is_bad_argument(store: LogStore) -> None:
    status, body = store.query_http(
        {"query": f"{SU} | count", "timespan": "yesterday"}, resource_ids=None, now=NOW
    )
    assert status == 400
    assert body["error"]["code"] == "BadArgumentError"


# -- resource scoping -----------------------------------------------------------


def test_resource_scoping_is_case_insensitive(store: LogStore) -> None:
    assert count(store, None, [RID1]) == 5
    assert count(store, None, [RID1.upper()]) == 5
    assert count(store, None, [RID2.lower() + "/"]) == 2
    assert count(store, None, [RID1, RID2]) == 7
    assert count(store, "PT3600.0S", [RID2]) == 1
    # a different resource sharing a name prefix is not included
    assert count(store, None, [RID1[:-1]]) == 0


def test_resource_scoping_applies_to_every_table(store: LogStore) -> None:
    status, body = store.query_http(
        {
            "query": f"{UE} | summarize count() by EngagementType | sort by EngagementType asc",
            "timespan": None,
        },
        resource_ids=[RID2],
        now=NOW,
    )
    assert status == 200
    assert body["tables"][0]["rows"] == []


# -- limits -------------------------------------------------------------------------


def test_partial_result_when_over_max_rows(store: LogStore) -> None:
    store.max_rows = 3
    status, body = store.query_http(
        {
            "query": f"{SU} | sort by TimeGenerated asc | project CorrelationId",
            "timespan": None,
        },
        resource_ids=None,
        now=NOW,
    )
    assert status == 200
    assert body["error"]["code"] == "PartialError"
    inner = body["error"]["details"][0]["innererror"]
    assert "E_QUERY_RESULT_SET_TOO_LARGE" in inner["message"]
    assert body["tables"][0]["rows"] == [["m1800"], ["m90"], ["m55"]]
    # exactly at the limit is not partial
    status, body = store.query_http(
        {"query": f"{SU} | take 3", "timespan": None}, resource_ids=None, now=NOW
    )
    assert "error" not in body


def test_partial_result_when_over_max_bytes(store: LogStore) -> None:
    store.max_bytes = 700  # a full row is ~300 bytes
    status, body = store.query_http(
        {"query": SU, "timespan": None}, resource_ids=None, now=NOW
    )
    assert status == 200
    assert body["error"]["code"] == "PartialError"
    assert 0 < len(body["tables"][0]["rows"]) < 7


def test_reset_clears_everything(store: LogStore) -> None:
    store.reset()
    assert count(store, None) == 0
    assert store.count_rows(UE) == 0


# -- metrics ----------------------------------------------------------------------


def metrics(
    store: LogStore, names: str, *, filter: str | None = None, **extra: str
) -> tuple[int, dict[str, Any]]:
    query = {
        "api-version": "2024-02-01",
        "starttime": "2026-11-30T10:00:00.000000Z",
        "endtime": "2026-11-30T12:00:00.000000Z",
        "interval": "PT1H",
        "metricnamespace": "Microsoft.Communication/CommunicationServices",
        "metricnames": names,
        "aggregation": "Count",
        **extra,
    }
    if filter:
        query["filter"] = filter
    return store.metrics_http(query, {"resourceids": [RID1]}, now=NOW)


def test_metrics_delivery_status_split_by_message_status(store: LogStore) -> None:
    status, body = metrics(store, "DeliveryStatusUpdate", filter="MessageStatus eq '*'")
    assert status == 200
    (value,) = body["values"]
    assert value["resourceid"] == RID1
    assert value["namespace"] == "Microsoft.Communication/CommunicationServices"
    assert value["interval"] == "PT1H"
    (metric,) = value["value"]
    assert metric["name"]["value"] == "DeliveryStatusUpdate"
    assert metric["unit"] == "Count"
    series = {
        ts["metadatavalues"][0]["value"]: [d["count"] for d in ts["data"]]
        for ts in metric["timeseries"]
    }
    assert metric["timeseries"][0]["metadatavalues"][0]["name"]["value"] == (
        "messagestatus"
    )
    # buckets 10:00-11:00 and 11:00-12:00; the OutForDelivery row is message-level
    assert series == {
        "Delivered": [0.0, 2.0],
        "Bounced": [0.0, 1.0],
        "FilteredSpam": [1.0, 0.0],
    }
    # The shape parses in azure-monitor-querymetrics exactly as the SDK does it.
    result = MetricsQueryResult._from_generated(value)
    m = result.metrics["DeliveryStatusUpdate"]
    assert result.granularity == timedelta(hours=1)
    assert m.timeseries[0].data[0].timestamp == datetime(2026, 11, 30, 10, tzinfo=UTC)
    assert {ts.metadata_values["messagestatus"] for ts in m.timeseries} == set(series)


def test_metrics_filter_values_and_unsplit(store: LogStore) -> None:
    _, body = metrics(
        store,
        "DeliveryStatusUpdate",
        filter="MessageStatus eq 'Delivered' or MessageStatus eq 'Bounced'",
        aggregation="Count,Total",
    )
    series = body["values"][0]["value"][0]["timeseries"]
    assert len(series) == 2
    _, body = metrics(store, "DeliveryStatusUpdate", interval="PT2H")
    (ts,) = body["values"][0]["value"][0]["timeseries"]
    assert ts["metadatavalues"] == []
    assert ts["data"] == [{"timeStamp": "2026-11-30T10:00:00Z", "count": 4.0}]


def test_metrics_api_requests_and_engagement(store: LogStore) -> None:
    status, body = metrics(
        store, "ApiRequests", filter="Operation eq '*' and StatusCodeClass eq '2xx'"
    )
    assert status == 200
    (api,) = body["values"][0]["value"]
    got = {
        ts["metadatavalues"][0]["value"]: [d["count"] for d in ts["data"]]
        for ts in api["timeseries"]
        if ts["metadatavalues"][0]["name"]["value"] == "operation"
    }
    # The 429 is filtered out by StatusCodeClass; the 61-minute-old call is in
    # the first bucket.
    assert got == {"SendMail": [1.0, 2.0], "GetMessageStatus": [0.0, 1.0]}
    # Several metrics in one call; a filter must fit every metric named.
    status, body = metrics(store, "ApiRequests,UserEngagement")
    assert status == 200
    names = [m["name"]["value"] for m in body["values"][0]["value"]]
    assert names == ["ApiRequests", "UserEngagement"]
    status, _ = metrics(store, "ApiRequests,UserEngagement", filter="Operation eq '*'")
    assert status == 400


def test_metrics_engagement_split(store: LogStore) -> None:
    _, body = metrics(store, "UserEngagement", filter="EngagementType eq '*'")
    series = {
        ts["metadatavalues"][0]["value"]: [d["count"] for d in ts["data"]]
        for ts in body["values"][0]["value"][0]["timeseries"]
    }
    assert series == {"View": [0.0, 2.0], "Click": [1.0, 0.0]}


def test_metrics_top_and_orderby(store: LogStore) -> None:
    def names(**extra: str) -> list[str]:
        _, body = metrics(
            store, "DeliveryStatusUpdate", filter="MessageStatus eq '*'", **extra
        )
        return [
            ts["metadatavalues"][0]["value"]
            for ts in body["values"][0]["value"][0]["timeseries"]
        ]

    assert names()[0] == "Delivered"  # largest first by default
    assert names(top="1") == ["Delivered"]
    assert names(orderby="count asc")[-1] == "Delivered"


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ({"metricnames": "NoSuchMetric"}, "NoSuchMetric"),
        ({"metricnamespace": "Microsoft.Storage/storageAccounts"}, "Microsoft.Storage"),
        ({"filter": "Nope eq '*'"}, "Nope"),
        ({"aggregation": "Median"}, "median"),
    ],
)
def test_metrics_errors(
    store: LogStore, override: dict[str, str], fragment: str
) -> None:
    query = {
        "metricnamespace": "Microsoft.Communication/CommunicationServices",
        "metricnames": "DeliveryStatusUpdate",
        "interval": "PT1H",
        **override,
    }
    status, body = store.metrics_http(query, {"resourceids": [RID1]}, now=NOW)
    assert status == 400
    assert fragment.lower() in body["error"]["message"].lower()
