"""History simulator: reproducible, exact counts, realistic content."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from emulator import kql
from emulator.logstore import LogStore
from emulator.simulate import DOMAINS, generate

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # 12:00 JST
RID = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/"
    "providers/Microsoft.Communication/communicationServices/Acs1"
)
SU = "ACSEmailStatusUpdateOperational"
SM = "ACSEmailSendMailOperational"
UE = "ACSEmailUserEngagementOperational"


def dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(path)
    try:
        return {
            t: conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall()
            for t in (SM, SU, UE)
        }
    finally:
        conn.close()


def run(path: Path, seed: int, days: int = 3, per_day: int = 200) -> dict[str, int]:
    return generate(
        str(path),
        resource_id=RID,
        days=days,
        per_day=per_day,
        seed=seed,
        sender_domain="contoso.co.jp",
        now=NOW,
        workspace_id="ws",
    )


def test_reproducible_with_seed(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3", tmp_path / "c.sqlite3"
    counts_a = run(a, seed=42)
    counts_b = run(b, seed=42)
    run(c, seed=43)
    assert counts_a == counts_b
    assert dump(a) == dump(b)
    assert dump(a)[SU] != dump(c)[SU]


def test_counts_and_consistency(tmp_path: Path) -> None:
    path = tmp_path / "logs.sqlite3"
    counts = run(path, seed=7)
    assert counts[SM] == 600
    store = LogStore(str(path))

    def q(query: str) -> list[list[object]]:
        status, body = store.query_http(
            {"query": query, "timespan": None}, resource_ids=[RID], now=NOW
        )
        assert status == 200, body
        return body["tables"][0]["rows"]

    assert q(f"{SM} | count") == [[600]]
    assert q(f"{SM} | summarize dcount(CorrelationId)") == [[600]]
    # one message-level row per message plus one row per recipient
    (recipients,) = q(f"{SM} | summarize sum(UniqueRecipientsCount)")[0]
    assert q(f"{SU} | where isempty(RecipientId) | count") == [[600]]
    assert q(
        f"{SU} | where isempty(RecipientId) | where DeliveryStatus != "
        '"OutForDelivery" | count'
    ) == [[0]]
    assert q(f"{SU} | where isnotempty(RecipientId) | count") == [[recipients]]
    assert counts[SU] == 600 + recipients
    assert counts[UE] == q(f"{UE} | count")[0][0]

    # everything lies in the requested window: sends in (now - 3 min - 3 days,
    # now - 3 min], so that their status rows are in the past as well
    lo, hi = q(f"{SU} | summarize min(TimeGenerated), max(TimeGenerated)")[0]
    earliest = kql.parse_datetime_text(str(lo))
    assert earliest > kql.dt_to_us(NOW) - (3 * 86400 + 180) * 1_000_000
    assert kql.parse_datetime_text(str(hi)) <= kql.dt_to_us(NOW)

    statuses = dict(
        q(f"{SU} | where isnotempty(RecipientId) | summarize count() by DeliveryStatus")
    )
    assert statuses["Delivered"] > 0.8 * recipients
    assert {"Delivered", "Bounced"} <= set(statuses)
    assert set(statuses) <= {
        "Delivered",
        "Bounced",
        "Failed",
        "FilteredSpam",
        "Quarantined",
        "Suppressed",
    }
    hard = q(
        f'{SU} | where DeliveryStatus == "Bounced" '
        "| distinct EnhancedSmtpStatusCode, IsHardBounce"
    )
    assert hard == [["5.1.1", "true"]]

    domains = {
        r[0]
        for r in q(
            f"{SU} | where isnotempty(RecipientId) "
            "| extend d = substring(RecipientId, 12) | distinct d"
        )
    }
    assert domains <= {d for d, _ in DOMAINS}
    assert {"docomo.ne.jp", "gmail.com", "yahoo.co.jp"} <= domains

    # engagement only for delivered recipients, views before clicks
    assert q(f"{UE} | distinct EngagementType | sort by EngagementType asc") in (
        [["Click"], ["View"]],
        [["View"]],
    )
    # the resource id is stored lower-cased, and the sender domain is ours
    assert q(f"{SU} | distinct _ResourceId") == [[RID.lower()]]
    assert q(f"{SU} | distinct SenderDomain") == [["contoso.co.jp"]]


def test_business_hours_weighting(tmp_path: Path) -> None:
    path = tmp_path / "logs.sqlite3"
    run(path, seed=3, days=10, per_day=300)
    store = LogStore(str(path))
    status, body = store.query_http(
        {
            "query": f"{SM} | extend JstHour = hourofday(TimeGenerated + 9h) "
            "| summarize n = countif(JstHour >= 9 and JstHour < 18), total = count()",
            "timespan": None,
        },
        resource_ids=None,
        now=NOW,
    )
    assert status == 200, body
    business, total = body["tables"][0]["rows"][0]
    assert total == 3000
    assert business > 0.6 * total  # 09:00-18:00 JST dominates


def test_cli(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "emulator",
            "simulate",
            "--state",
            str(tmp_path),
            "--resource",
            RID,
            "--days",
            "2",
            "--per-day",
            "25",
            "--seed",
            "9",
            "--now",
            "2026-11-30T03:00:00Z",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\n") == 1
    assert "simulated 50 messages" in proc.stdout
    assert LogStore(str(tmp_path / "logs.sqlite3")).count_rows(SM) == 50
