"""KQL engine: results checked against hand-computed answers on fixed data."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from emulator.logstore import LogStore

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
RID = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/"
    "providers/Microsoft.Communication/communicationServices/acs1"
)
SU = "ACSEmailStatusUpdateOperational"
SM = "ACSEmailSendMailOperational"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


# (time, CorrelationId, RecipientId, DeliveryStatus, SmtpStatusCode, IsHardBounce)
STATUS_ROWS = [
    (at(30, 10, 5), "m1", "a@docomo.ne.jp", "Delivered", "250", "false"),
    (at(30, 10, 20), "m1", "b@gmail.com", "Bounced", "550", "true"),
    (at(30, 10, 50), "m2", "c@yahoo.co.jp", "Delivered", "250", "false"),
    (at(30, 11, 10), "m2", "", "OutForDelivery", "", "false"),
    (at(30, 11, 40), "m3", "d@Example.co.jp", "FilteredSpam", "550", "false"),
    (at(28, 9, 0), "m4", "e@docomo.ne.jp", "Delivered", "250", "false"),
]
# (time, CorrelationId, Size, To, Cc)
SEND_ROWS = [
    (at(30, 10, 0), "m1", 0.5, 2, 0),
    (at(30, 10, 45), "m2", 1.25, 1, 0),
    (at(30, 11, 30), "m3", 0.25, 1, 1),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> LogStore:
    path: Path = tmp_path_factory.mktemp("kql") / "logs.sqlite3"
    s = LogStore(str(path), workspace_id="ws")
    s.insert_rows(
        SU,
        [
            {
                "TimeGenerated": t,
                "CorrelationId": c,
                "RecipientId": r,
                "DeliveryStatus": st,
                "SmtpStatusCode": code,
                "IsHardBounce": hb,
                "SenderDomain": "contoso.co.jp",
                "_ResourceId": RID,
            }
            for t, c, r, st, code, hb in STATUS_ROWS
        ],
    )
    s.insert_rows(
        SM,
        [
            {
                "TimeGenerated": t.isoformat(),  # ISO strings are accepted too
                "CorrelationId": c,
                "Size": size,
                "ToRecipientsCount": to,
                "CcRecipientsCount": cc,
                "BccRecipientsCount": 0,
                "UniqueRecipientsCount": to + cc,
                "AttachmentsCount": 0,
                "TrafficSource": "Email Python SDK",
                "_ResourceId": RID,
            }
            for t, c, size, to, cc in SEND_ROWS
        ],
    )
    return s


def run(store: LogStore, query: str) -> tuple[list[tuple[str, str]], list[list[Any]]]:
    status, body = store.query_http(
        {"query": query, "timespan": None, "workspaces": None},
        resource_ids=None,
        now=NOW,
    )
    assert status == 200, body
    assert "error" not in body, body
    (table,) = body["tables"]
    assert table["name"] == "PrimaryResult"
    cols = [(c["name"], c["type"]) for c in table["columns"]]
    return cols, table["rows"]


def rows(store: LogStore, query: str) -> list[list[Any]]:
    return run(store, query)[1]


def col(store: LogStore, query: str) -> list[Any]:
    return [r[0] for r in rows(store, query)]


def error(store: LogStore, query: str) -> dict[str, Any]:
    status, body = store.query_http(
        {"query": query, "timespan": None}, resource_ids=None, now=NOW
    )
    assert status == 400, body
    err = body["error"]
    assert err["code"] == "BadArgumentError"
    return err["innererror"]


# -- table reference and value formats ---------------------------------------


def test_table_reference_returns_all_rows_and_schema_columns(store: LogStore) -> None:
    cols, data = run(store, SU)
    assert len(data) == 6
    names = [n for n, _ in cols]
    assert names[:2] == ["TenantId", "TimeGenerated"]
    for needed in ("CorrelationId", "RecipientId", "DeliveryStatus", "_ResourceId"):
        assert needed in names
    types = dict(cols)
    assert types["TimeGenerated"] == "datetime"
    assert types["IsHardBounce"] == "string"
    first = dict(zip(names, data[0], strict=True))
    assert first["TimeGenerated"] == "2026-11-30T10:05:00Z"
    assert first["Type"] == SU
    assert first["TenantId"] == "ws"
    assert first["_ResourceId"] == RID.lower()  # stored lower-cased like Azure


def test_send_mail_types(store: LogStore) -> None:
    cols, data = run(store, f"{SM} | project Size, ToRecipientsCount | take 1")
    assert cols == [("Size", "real"), ("ToRecipientsCount", "int")]
    assert data == [[0.5, 2]]


# -- where ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        ('DeliveryStatus == "Delivered"', ["m1", "m2", "m4"]),
        ('DeliveryStatus != "Delivered"', ["m1", "m2", "m3"]),
        ('DeliveryStatus == "delivered"', []),  # == is case-sensitive
        ('DeliveryStatus =~ "delivered"', ["m1", "m2", "m4"]),
        ('DeliveryStatus !~ "DELIVERED"', ["m1", "m2", "m3"]),
        ('SmtpStatusCode == "550" and IsHardBounce == "true"', ["m1"]),
        (
            'DeliveryStatus == "Bounced" or DeliveryStatus == "FilteredSpam"',
            ["m1", "m3"],
        ),
        ('not(DeliveryStatus == "Delivered")', ["m1", "m2", "m3"]),
        ('DeliveryStatus in ("Bounced", "FilteredSpam")', ["m1", "m3"]),
        ('DeliveryStatus !in ("Bounced", "FilteredSpam")', ["m1", "m2", "m2", "m4"]),
        ('DeliveryStatus in~ ("bounced")', ["m1"]),
        ("TimeGenerated > ago(1d)", ["m1", "m1", "m2", "m2", "m3"]),
        ("TimeGenerated < ago(1d)", ["m4"]),
        ("TimeGenerated >= datetime(2026-11-30 11:10)", ["m2", "m3"]),
        ('TimeGenerated <= datetime("2026-11-30T10:20:00Z")', ["m1", "m1", "m4"]),
        (
            "TimeGenerated between (datetime(2026-11-30 10:20) .. datetime(2026-11-30 10:50))",
            ["m1", "m2"],
        ),
        ("TimeGenerated between (datetime(2026-11-30 10:00) .. 30m)", ["m1", "m1"]),
        ("TimeGenerated !between (datetime(2026-11-30 10:00) .. 2h)", ["m4"]),
        ("now() - TimeGenerated < 1h", ["m2", "m3"]),
        ("now() - TimeGenerated > 2d", ["m4"]),
        ("TimeGenerated > now(-90m)", ["m2", "m2", "m3"]),
        ("now() - TimeGenerated <= 115m", ["m1", "m1", "m2", "m2", "m3"]),
        ("now() - TimeGenerated < 6000s", ["m2", "m2", "m3"]),
        ("now() - TimeGenerated > 6899999ms", ["m1", "m4"]),
        ('RecipientId has "docomo"', ["m1", "m4"]),
        ('RecipientId has "doc"', []),  # has matches whole terms only
        ('RecipientId !has "docomo"', ["m1", "m2", "m2", "m3"]),
        ('RecipientId contains "DOC"', ["m1", "m4"]),
        ('RecipientId !contains "o"', ["m2"]),
        ('RecipientId contains_cs "example"', []),
        ('RecipientId startswith "B@"', ["m1"]),
        ('RecipientId endswith ".CO.JP"', ["m2", "m3"]),
        ('RecipientId !endswith ".jp"', ["m1", "m2"]),
        ("isempty(RecipientId)", ["m2"]),
        ("isnotempty(RecipientId) and DeliveryStatus != 'Delivered'", ["m1", "m3"]),
        ('RecipientId matches regex "^[a-c]@"', ["m1", "m1", "m2"]),
        ('RecipientId hasprefix "doco"', ["m1", "m4"]),
        ('RecipientId hasprefix "ocomo"', []),
        ('RecipientId hassuffix "mail"', ["m1"]),
        ('RecipientId hassuffix "co.j"', []),
        ('RecipientId hasprefix "exam"', ["m3"]),
        ('RecipientId hasprefix "a.docomo"', []),  # not a regex: . is literal
    ],
)
def test_where(store: LogStore, predicate: str, expected: list[str]) -> None:
    got = col(store, f"{SU} | where {predicate} | project CorrelationId")
    assert sorted(got) == sorted(expected)


def test_filter_alias_and_chained_where(store: LogStore) -> None:
    q = f'{SU} | filter CorrelationId == "m1" | where SmtpStatusCode == "250"'
    assert col(store, q + " | project RecipientId") == ["a@docomo.ne.jp"]


def test_numeric_where_on_send_mail(store: LogStore) -> None:
    assert col(store, f"{SM} | where Size > 0.3 | project CorrelationId") == [
        "m1",
        "m2",
    ]
    assert col(
        store,
        f"{SM} | where ToRecipientsCount + CcRecipientsCount >= 2 "
        "| project CorrelationId",
    ) == ["m1", "m3"]
    assert col(store, f"{SM} | where Size * 4 == 1 | project CorrelationId") == ["m3"]


# -- project / extend --------------------------------------------------------------


def test_project_with_rename_and_expression(store: LogStore) -> None:
    cols, data = run(
        store,
        f'{SU} | where CorrelationId == "m1" | sort by TimeGenerated asc '
        "| project Msg = CorrelationId, RecipientId, strlen(RecipientId)",
    )
    assert cols == [("Msg", "string"), ("RecipientId", "string"), ("Column1", "long")]
    assert data == [["m1", "a@docomo.ne.jp", 14], ["m1", "b@gmail.com", 11]]


def test_project_away_and_rename(store: LogStore) -> None:
    cols, _ = run(store, f"{SM} | project-away TenantId, _BilledSize | take 1")
    names = [n for n, _ in cols]
    assert "TenantId" not in names and "_BilledSize" not in names
    assert "TimeGenerated" in names
    cols, data = run(
        store,
        f"{SM} | project CorrelationId, Size | project-rename Id = CorrelationId "
        "| sort by Size asc",
    )
    assert cols == [("Id", "string"), ("Size", "real")]
    assert data == [["m3", 0.25], ["m1", 0.5], ["m2", 1.25]]


def test_extend_functions(store: LogStore) -> None:
    cols, data = run(
        store,
        f'{SM} | where CorrelationId == "m1" | extend KB = Size * 1024, '
        "Up = toupper(CorrelationId), Low = tolower(TrafficSource), "
        'Label = strcat(CorrelationId, "-", ToRecipientsCount, "-", Size), '
        'S = tostring(TimeGenerated), N = toint("42"), L = tolong(Size * 10), '
        'Big = iff(Size > 1, "big", "small"), '
        'C = case(Size < 0.3, "s", Size < 1, "m", "l"), '
        "Sub = substring(TrafficSource, 6, 6), Half = ToRecipientsCount / 2, "
        "Age = now() - TimeGenerated "
        "| project KB, Up, Low, Label, S, N, L, Big, C, Sub, Half, Age",
    )
    assert cols == [
        ("KB", "real"),
        ("Up", "string"),
        ("Low", "string"),
        ("Label", "string"),
        ("S", "string"),
        ("N", "int"),
        ("L", "long"),
        ("Big", "string"),
        ("C", "string"),
        ("Sub", "string"),
        ("Half", "long"),
        ("Age", "timespan"),
    ]
    assert data == [
        [
            512.0,
            "M1",
            "email python sdk",
            "m1-2-0.5",
            "2026-11-30T10:00:00Z",
            42,
            5,
            "small",
            "m",
            "Python",
            1,
            "02:00:00",
        ]
    ]


def test_extend_overwrites_in_place_and_default_column_name(store: LogStore) -> None:
    cols, data = run(
        store,
        f"{SM} | project CorrelationId, Size | extend Size = Size * 2, Size + 1 "
        "| sort by CorrelationId asc",
    )
    assert cols == [("CorrelationId", "string"), ("Size", "real"), ("Column1", "real")]
    # Later extend items see earlier ones (Size + 1 uses the doubled Size).
    assert data == [["m1", 1.0, 2.0], ["m2", 2.5, 3.5], ["m3", 0.5, 1.5]]


def test_let_scalar(store: LogStore) -> None:
    q = f'let window = 1h; let s = "Delivered"; {SU} | where TimeGenerated > ago(window)'
    assert col(store, q + " | project CorrelationId") == ["m2", "m3"]
    q2 = f'let s = "Delivered"; {SU} | where DeliveryStatus == s | count'
    assert col(store, q2) == [3]


# -- summarize -------------------------------------------------------------------------


def test_summarize_count_by(store: LogStore) -> None:
    cols, data = run(
        store,
        f"{SU} | summarize count() by DeliveryStatus | sort by DeliveryStatus asc",
    )
    assert cols == [("DeliveryStatus", "string"), ("count_", "long")]
    assert data == [
        ["Bounced", 1],
        ["Delivered", 3],
        ["FilteredSpam", 1],
        ["OutForDelivery", 1],
    ]


def test_summarize_aggregates_with_aliases_and_default_names(store: LogStore) -> None:
    cols, data = run(
        store,
        f"{SM} | summarize TotalMessageCount = dcount(CorrelationId), "
        "TotalSize = sum(Size), sum(ToRecipientsCount), countif(Size > 0.3), "
        "min(Size), max(TimeGenerated), avg(Size), Biggest = max(CorrelationId)",
    )
    assert cols == [
        ("TotalMessageCount", "long"),
        ("TotalSize", "real"),
        ("sum_ToRecipientsCount", "long"),
        ("countif_", "long"),
        ("min_Size", "real"),
        ("max_TimeGenerated", "datetime"),
        ("avg_Size", "real"),
        ("Biggest", "string"),
    ]
    assert data == [[3, 2.0, 4, 2, 0.25, "2026-11-30T11:30:00Z", 2.0 / 3, "m3"]]


def test_summarize_by_bin(store: LogStore) -> None:
    cols, data = run(
        store,
        f"{SU} | where TimeGenerated > ago(1d) "
        "| summarize Count = count() by bin(TimeGenerated, 1h), DeliveryStatus "
        "| sort by TimeGenerated asc, DeliveryStatus asc",
    )
    assert cols == [
        ("TimeGenerated", "datetime"),
        ("DeliveryStatus", "string"),
        ("Count", "long"),
    ]
    assert data == [
        ["2026-11-30T10:00:00Z", "Bounced", 1],
        ["2026-11-30T10:00:00Z", "Delivered", 2],
        ["2026-11-30T11:00:00Z", "FilteredSpam", 1],
        ["2026-11-30T11:00:00Z", "OutForDelivery", 1],
    ]


def test_summarize_by_day_bin_and_expression(store: LogStore) -> None:
    data = rows(
        store,
        f"{SU} | summarize n = count() by Day = bin(TimeGenerated, 1d) | sort by Day asc",
    )
    assert data == [["2026-11-28T00:00:00Z", 1], ["2026-11-30T00:00:00Z", 5]]
    cols, data = run(
        store,
        f"{SU} | summarize count() by tolower(DeliveryStatus) | sort by Column1 asc "
        "| take 1",
    )
    assert cols == [("Column1", "string"), ("count_", "long")]
    assert data == [["bounced", 1]]


def test_summarize_expression_over_aggregates(store: LogStore) -> None:
    data = rows(
        store,
        f"{SU} | where isnotempty(RecipientId) | summarize Rate = 100.0 * "
        'countif(DeliveryStatus == "Delivered") / count()',
    )
    assert data == [[60.0]]


def test_summarize_empty_input(store: LogStore) -> None:
    # No `by`: one row with Kusto's defaults (count/sum/dcount 0, others null).
    cols, data = run(
        store,
        f'{SM} | where CorrelationId == "nope" '
        "| summarize count(), sum(Size), dcount(CorrelationId), max(Size)",
    )
    assert data == [[0, 0.0, 0, None]]
    # With `by`: no groups, no rows.
    assert (
        rows(
            store,
            f'{SM} | where CorrelationId == "nope" | summarize count() '
            "by CorrelationId",
        )
        == []
    )


def test_summarize_by_only_and_make_set(store: LogStore) -> None:
    assert col(
        store, f"{SU} | summarize by CorrelationId | sort by CorrelationId asc"
    ) == [
        "m1",
        "m2",
        "m3",
        "m4",
    ]
    cols, data = run(
        store,
        f'{SU} | where CorrelationId == "m1" | summarize s = make_set(DeliveryStatus)',
    )
    assert cols == [("s", "dynamic")]
    assert sorted(__import__("json").loads(data[0][0])) == ["Bounced", "Delivered"]


def test_summarize_arg_max_and_arg_min(store: LogStore) -> None:
    cols, data = run(
        store,
        f"{SU} | summarize arg_max(TimeGenerated, *) by CorrelationId "
        "| sort by CorrelationId asc",
    )
    names = [n for n, _ in cols]
    assert names[:2] == ["CorrelationId", "TimeGenerated"]
    assert names.count("CorrelationId") == 1 and "DeliveryStatus" in names
    latest = [(r[0], r[1], r[names.index("DeliveryStatus")]) for r in data]
    assert latest == [
        ("m1", "2026-11-30T10:20:00Z", "Bounced"),
        ("m2", "2026-11-30T11:10:00Z", "OutForDelivery"),
        ("m3", "2026-11-30T11:40:00Z", "FilteredSpam"),
        ("m4", "2026-11-28T09:00:00Z", "Delivered"),
    ]
    cols, data = run(
        store,
        f"{SU} | summarize arg_min(TimeGenerated, RecipientId) by CorrelationId "
        "| sort by CorrelationId asc",
    )
    assert cols == [
        ("CorrelationId", "string"),
        ("TimeGenerated", "datetime"),
        ("RecipientId", "string"),
    ]
    assert [r[2] for r in data] == [
        "a@docomo.ne.jp",
        "c@yahoo.co.jp",
        "d@Example.co.jp",
        "e@docomo.ne.jp",
    ]
    # no `by` over no rows: no row (not a row of nulls)
    assert (
        rows(
            store,
            f'{SU} | where CorrelationId == "x" | summarize arg_max(TimeGenerated, *)',
        )
        == []
    )


# -- union / join ----------------------------------------------------------------------


def test_union(store: LogStore) -> None:
    assert rows(
        store,
        f"union {SM}, {SU} | summarize count() by Type | sort by Type asc",
    ) == [[SM, 3], [SU, 6]]
    assert col(store, "union ACSEmail* | count") == [9]  # engagement table is empty
    cols, data = run(
        store,
        f"{SM} | union ({SU} | where DeliveryStatus == 'Bounced') "
        "| project CorrelationId, Size, RecipientId "
        "| sort by CorrelationId asc, RecipientId asc",
    )
    assert cols == [
        ("CorrelationId", "string"),
        ("Size", "real"),
        ("RecipientId", "string"),
    ]
    # columns missing from one side are null; a null string reads as ""
    assert data == [
        ["m1", 0.5, ""],
        ["m1", None, "b@gmail.com"],
        ["m2", 1.25, ""],
        ["m3", 0.25, ""],
    ]


def test_join_inner_and_default_innerunique(store: LogStore) -> None:
    cols, data = run(
        store,
        f"{SM} | join kind=inner ({SU} | where isnotempty(RecipientId) "
        "| project CorrelationId, RecipientId) on CorrelationId "
        "| project CorrelationId, CorrelationId1, Size, RecipientId "
        "| sort by RecipientId asc",
    )
    assert [n for n, _ in cols] == [
        "CorrelationId",
        "CorrelationId1",
        "Size",
        "RecipientId",
    ]
    assert data == [
        ["m1", "m1", 0.5, "a@docomo.ne.jp"],
        ["m1", "m1", 0.5, "b@gmail.com"],
        ["m2", "m2", 1.25, "c@yahoo.co.jp"],
        ["m3", "m3", 0.25, "d@Example.co.jp"],
    ]
    # Kusto's default join keeps one left row per key (m4 has no send row)
    assert rows(
        store,
        f"{SU} | join ({SM} | project CorrelationId, Size) on CorrelationId "
        "| summarize dcount(CorrelationId), count()",
    ) == [[3, 3]]


def test_join_leftouter_semi_anti(store: LogStore) -> None:
    assert rows(
        store,
        f"{SM} | join kind=leftouter ({SU} | where DeliveryStatus == 'Bounced') "
        "on $left.CorrelationId == $right.CorrelationId "
        "| project CorrelationId, RecipientId, DeliveryStatus, SmtpStatusCode "
        "| sort by CorrelationId asc",
    ) == [
        ["m1", "b@gmail.com", "Bounced", "550"],
        ["m2", "", "", ""],
        ["m3", "", "", ""],
    ]
    assert col(
        store,
        f"{SU} | join kind=leftanti {SM} on CorrelationId | project CorrelationId",
    ) == ["m4"]
    assert col(
        store,
        f"{SM} | join kind=leftsemi ({SU} | where DeliveryStatus == 'Delivered') "
        "on CorrelationId | project CorrelationId | sort by CorrelationId asc",
    ) == ["m1", "m2"]


# -- sort / take / top / count / distinct --------------------------------------------


def test_sort_default_is_descending(store: LogStore) -> None:
    got = col(store, f"{SU} | sort by TimeGenerated | project CorrelationId")
    assert got == ["m3", "m2", "m2", "m1", "m1", "m4"]
    got = col(store, f"{SU} | order by TimeGenerated asc | project CorrelationId")
    assert got == ["m4", "m1", "m1", "m2", "m2", "m3"]


def test_sort_multiple_keys_and_order_survives_project(store: LogStore) -> None:
    got = rows(
        store,
        f"{SU} | order by CorrelationId asc, TimeGenerated desc "
        "| project RecipientId | take 3",
    )
    assert got == [["b@gmail.com"], ["a@docomo.ne.jp"], [""]]


def test_take_limit_top(store: LogStore) -> None:
    assert len(rows(store, f"{SU} | take 2")) == 2
    assert len(rows(store, f"{SU} | limit 4")) == 4
    assert col(store, f"{SM} | top 2 by Size | project CorrelationId") == ["m2", "m1"]
    assert col(store, f"{SM} | top 1 by Size asc | project CorrelationId") == ["m3"]
    got = col(store, f"{SU} | top 2 by strlen(RecipientId) asc | project RecipientId")
    assert got == ["", "b@gmail.com"]


def test_count_operator(store: LogStore) -> None:
    cols, data = run(store, f'{SU} | where DeliveryStatus == "Delivered" | count')
    assert cols == [("Count", "long")]
    assert data == [[3]]


def test_distinct(store: LogStore) -> None:
    cols, data = run(
        store,
        f"{SU} | distinct CorrelationId, SmtpStatusCode | sort by CorrelationId asc, SmtpStatusCode asc",
    )
    assert cols == [("CorrelationId", "string"), ("SmtpStatusCode", "string")]
    assert data == [
        ["m1", "250"],
        ["m1", "550"],
        ["m2", ""],
        ["m2", "250"],
        ["m3", "550"],
        ["m4", "250"],
    ]


def test_comments_and_render_are_accepted(store: LogStore) -> None:
    q = f"// failures\n{SU}\n| where DeliveryStatus == 'Bounced' // hard\n| count\n| render table"
    assert col(store, q) == [1]


# -- unsupported or invalid KQL is refused, never answered wrongly --------------------


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("NoSuchTable | take 1", "SemanticError"),
        (f"{SU} | where NoSuchColumn == 1", "SemanticError"),
        (f"{SU} | extend x = nosuchfunction(RecipientId)", "SemanticError"),
        (f"{SU} | where DeliveryStatus == 1", "SemanticError"),  # string vs long
        (f"{SU} | where TimeGenerated > '2026-01-01'", "SemanticError"),
        (f"{SU} | where RecipientId", "SemanticError"),  # not bool
        (f"{SU} | where count() > 1", "SemanticError"),  # aggregate outside summarize
        (f"{SU} | summarize sum(RecipientId)", "SemanticError"),
        (f"{SU} | summarize x = strlen(RecipientId)", "SemanticError"),
        (f"{SM} | extend x = Size + 'a'", "SemanticError"),
        (f"{SU} | join kind=fullouter ({SM}) on CorrelationId", "SyntaxError"),
        (f"{SU} | join ({SM}) on Nope", "SemanticError"),
        (f"{SU} | join ({SM}) on $left.CorrelationId == $right.Size", "SemanticError"),
        ("union Nope*", "SemanticError"),
        (f"union withsource=T {SM}, {SU}", "SyntaxError"),
        (f"{SU} | mv-expand RecipientId", "SyntaxError"),
        (f"{SU} | where (DeliveryStatus == 'x'", "SyntaxError"),
        (f"{SU} | take", "SyntaxError"),
        (f"{SU} | take -1", "SemanticError"),
        (f"{SU} | take 1.5", "SemanticError"),
        (
            f"{SU} | project-away TenantId, TimeGenerated, Location, OperationName, "
            "OperationVersion, Category, CorrelationId, RecipientId, DeliveryStatus, "
            "SmtpStatusCode, EnhancedSmtpStatusCode, FailureReason, FailureMessage, "
            "SenderDomain, SenderUsername, IsHardBounce, SourceSystem, Type, "
            "_ResourceId, _SubscriptionId, _BilledSize, _IsBillable",
            "SemanticError",
        ),
        (f"{SU} | where DeliveryStatus == 'x", "SyntaxError"),
        (f"{SU} | where TimeGenerated > ago(1y)", "SyntaxError"),
        (f"{SU} |", "SyntaxError"),
        ("", "SyntaxError"),
        (f"{SU} | Count", "SyntaxError"),  # operators are case-sensitive
        (f"{SU} | summarize Count()", "SemanticError"),  # so are functions
        (f"{SM} | project A = Size, B = A * 2", "SemanticError"),
        (f"{SU} | summarize arg_max(TimeGenerated, *), count()", "SemanticError"),
        (f"{SU} | extend x = arg_max(TimeGenerated, *)", "SemanticError"),
        (f"{SM} | project Size = Size * 2, B = Size", "SemanticError"),
    ],
)
def test_unsupported_queries_are_bad_arguments(
    store: LogStore, query: str, code: str
) -> None:
    inner = error(store, query)
    assert inner["code"] == code
    assert inner["innererror"]["message"]


def test_syntax_error_reports_position(store: LogStore) -> None:
    inner = error(store, f"{SU}\n| wherex DeliveryStatus == 'x'")
    detail = inner["innererror"]
    assert detail["line"] == 2
    assert "wherex" in detail["message"]


def test_request_timespan_filters_time(store: LogStore) -> None:
    status, body = store.query_http(
        {"query": f"{SU} | count", "timespan": "PT3600.0S"},
        resource_ids=None,
        now=NOW,
    )
    assert status == 200
    assert body["tables"][0]["rows"] == [[2]]  # 11:10 and 11:40
    # and combines with the query's own filter
    status, body = store.query_http(
        {
            "query": f"{SU} | where DeliveryStatus == 'Delivered' | count",
            "timespan": "2026-11-28T00:00:00.000Z/2026-11-30T10:30:00.000Z",
        },
        resource_ids=None,
        now=NOW + timedelta(days=30),
    )
    assert body["tables"][0]["rows"] == [[2]]  # m4 and m1 10:05


def test_names_shadowing_inputs_resolve_to_the_input(store: LogStore) -> None:
    # by-column named like the input column; the aggregate still sees the input
    data = rows(
        store,
        f"{SM} | summarize max(TimeGenerated), n = count() "
        "by bin(TimeGenerated, 1h) | sort by TimeGenerated asc",
    )
    assert data == [
        ["2026-11-30T10:00:00Z", "2026-11-30T10:45:00Z", 2],
        ["2026-11-30T11:00:00Z", "2026-11-30T11:30:00Z", 1],
    ]
    # sort order survives overwriting the sort key with extend
    got = rows(
        store,
        f"{SM} | sort by Size asc | extend Size = 0 - Size | project CorrelationId, Size",
    )
    assert got == [["m3", -0.25], ["m1", -0.5], ["m2", -1.25]]


# -- differential check against a direct Python evaluation -------------------------


def _random_dataset(rng: random.Random, n: int) -> list[dict[str, Any]]:
    domains = ["docomo.ne.jp", "Gmail.com", "yahoo.co.jp", "ezweb.ne.jp", "x-y.co.jp"]
    statuses = ["Delivered", "Bounced", "Failed", "FilteredSpam", "OutForDelivery"]
    out = []
    for _ in range(n):
        status = rng.choice(statuses)
        recipient = (
            ""
            if status == "OutForDelivery"
            else f"{rng.choice(['user', 'User', 'info'])}{rng.randrange(30)}"
            f"@{rng.choice(domains)}"
        )
        out.append(
            {
                "TimeGenerated": NOW - timedelta(seconds=rng.randrange(48 * 3600)),
                "CorrelationId": f"c{rng.randrange(n // 3)}",
                "RecipientId": recipient,
                "DeliveryStatus": status,
                "SmtpStatusCode": rng.choice(["250", "550", "451", ""]),
                "_ResourceId": RID,
            }
        )
    return out


def _has(hay: str, needle: str) -> bool:
    pattern = r"(?<![0-9a-z])" + re.escape(needle.lower()) + r"(?![0-9a-z])"
    return re.search(pattern, hay.lower()) is not None


def _atom(rng: random.Random) -> tuple[str, Any]:
    statuses = ["Delivered", "Bounced", "Failed", "FilteredSpam", "OutForDelivery"]
    k = rng.randrange(12)
    s = rng.choice(statuses)
    if k == 0:
        return f'DeliveryStatus == "{s}"', lambda r: r["DeliveryStatus"] == s
    if k == 1:
        return f'DeliveryStatus != "{s}"', lambda r: r["DeliveryStatus"] != s
    if k == 2:
        v = s.upper()
        return (
            f'DeliveryStatus =~ "{v}"',
            lambda r: r["DeliveryStatus"].lower() == (v.lower()),
        )
    if k == 3:
        term = rng.choice(["docomo", "gmail", "jp", "co", "x", "y", "user1", "ne.jp"])
        return f'RecipientId has "{term}"', lambda r: _has(r["RecipientId"], term)
    if k == 4:
        sub = rng.choice(["USER", "mail", "@", "1@", "co.jp"])
        return (
            f'RecipientId contains "{sub}"',
            lambda r: sub.lower() in r["RecipientId"].lower(),
        )
    if k == 5:
        pre = rng.choice(["user", "INFO", "User2"])
        return (
            f'RecipientId startswith "{pre}"',
            lambda r: r["RecipientId"].lower().startswith(pre.lower()),
        )
    if k == 6:
        suf = rng.choice([".jp", ".COM", "ne.jp"])
        return (
            f'RecipientId endswith "{suf}"',
            lambda r: r["RecipientId"].lower().endswith(suf.lower()),
        )
    if k == 7:
        codes = rng.sample(["250", "550", "451", ""], 2)
        lit = ", ".join(f'"{c}"' for c in codes)
        return f"SmtpStatusCode in ({lit})", lambda r: r["SmtpStatusCode"] in codes
    if k == 8:
        hours = rng.randrange(1, 48)
        return (
            f"TimeGenerated > ago({hours}h)",
            lambda r: r["TimeGenerated"] > (NOW - timedelta(hours=hours)),
        )
    if k == 9:
        return "isempty(RecipientId)", lambda r: r["RecipientId"] == ""
    if k == 10:
        n = rng.randrange(5, 25)
        return f"strlen(RecipientId) > {n}", lambda r: len(r["RecipientId"]) > n
    lo = rng.randrange(48)
    hi = lo + rng.randrange(1, 12)
    start, end = NOW - timedelta(hours=hi), NOW - timedelta(hours=lo)
    text = (
        f"TimeGenerated between (datetime({start.isoformat()}) .. "
        f"datetime({end.isoformat()}))"
    )
    return text, lambda r: start <= r["TimeGenerated"] <= end


def _predicate(rng: random.Random, depth: int = 0) -> tuple[str, Any]:
    if depth >= 2 or rng.random() < 0.4:
        return _atom(rng)
    k = rng.randrange(3)
    a_text, a = _predicate(rng, depth + 1)
    if k == 2:
        return f"not({a_text})", lambda r: not a(r)
    b_text, b = _predicate(rng, depth + 1)
    if k == 0:
        return f"({a_text} and {b_text})", lambda r: a(r) and b(r)
    return f"({a_text} or {b_text})", lambda r: a(r) or b(r)


def test_random_predicates_match_direct_evaluation(tmp_path: Path) -> None:
    rng = random.Random(20261130)
    data = _random_dataset(rng, 400)
    s = LogStore(str(tmp_path / "logs.sqlite3"))
    s.insert_rows(SU, data)
    for _ in range(150):
        text, pred = _predicate(rng)
        kept = [r for r in data if pred(r)]
        got = rows(s, f"{SU} | where {text} | summarize count() by DeliveryStatus")
        want = Counter(r["DeliveryStatus"] for r in kept)
        assert dict(got) == dict(want), text
        got = rows(
            s,
            f"{SU} | where {text} | summarize n = count(), d = dcount(CorrelationId)",
        )
        assert got == [[len(kept), len({r["CorrelationId"] for r in kept})]], text
        hours = Counter(
            r["TimeGenerated"].replace(minute=0, second=0, microsecond=0) for r in kept
        )
        got = rows(
            s, f"{SU} | where {text} | summarize count() by bin(TimeGenerated, 1h)"
        )
        assert {
            datetime.fromisoformat(t.replace("Z", "+00:00")): n for t, n in got
        } == hours, text
