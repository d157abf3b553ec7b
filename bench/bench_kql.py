"""KQL engine and history simulator throughput.

1. ``simulate_1m_messages``: ``emulator.simulate.generate`` writing 1,000,000
   messages (SendMail + message-level and per-recipient StatusUpdate +
   engagement rows, ~3.6 M rows) into a fresh ``logs.sqlite3``.  Baseline: the
   same rows ingested the naive way, one ``LogStore.insert_rows`` call (one
   transaction) per message, timed on a 5,000-message sample and extrapolated.
2. ``kql_summarize_1m_rows``: ``ACSEmailSendMailOperational | summarize
   count() by bin(TimeGenerated, 1h), TrafficSource`` over exactly 1,000,000
   rows through ``LogStore.query_http`` (parse, compile to SQL, run, serialise).
3. ``kql_summarize_status_updates``: the portal's hourly delivery chart,
   ``ACSEmailStatusUpdateOperational | summarize count() by
   bin(TimeGenerated, 1h), DeliveryStatus``, over all ~2.25 M status rows of the
   same data set (target scaled to 2 s per million rows).

Baseline for 2 and 3: a naive in-memory interpreter that loads every row into a
Python dict and aggregates in a loop; its answer is checked against the engine's.

    python bench/bench_kql.py
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from emulator import kql  # noqa: E402
from emulator.la_tables import TABLES  # noqa: E402
from emulator.logstore import LogStore  # noqa: E402
from emulator.simulate import Generator, generate  # noqa: E402

MESSAGES = 1_000_000
DAYS = 40  # 25,000 messages a day: exactly 1,000,000 SendMail rows
SAMPLE_MESSAGES = 5_000
KQL_TARGET_S_PER_MILLION = 2.0
SIMULATE_TARGET_S = 60.0
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
RID = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-bench/"
    "providers/Microsoft.Communication/communicationServices/acs-bench"
)
HOUR_US = 3600 * kql.US_PER_SECOND


def _simulate(path: Path) -> tuple[float, dict[str, int]]:
    started = time.perf_counter()
    counts = generate(
        str(path),
        resource_id=RID,
        days=DAYS,
        per_day=MESSAGES // DAYS,
        seed=1,
        now=NOW,
    )
    return time.perf_counter() - started, counts


def _naive_ingest(path: Path) -> float:
    """Seconds for SAMPLE_MESSAGES messages, one insert_rows call per message."""
    gen = Generator(
        resource_id=RID,
        days=1,
        per_day=SAMPLE_MESSAGES,
        seed=2,
        sender_domain="example.co.jp",
        now=NOW,
    )
    consts = gen.constants()
    variable = {t: [c for c, _ in TABLES[t] if c not in consts[t]] for t in TABLES}
    store = LogStore(str(path))
    pending: dict[str, list[dict[str, Any]]] = {}
    current: str | None = None
    started = time.perf_counter()

    def flush() -> None:
        for table, rows in pending.items():
            store.insert_rows(table, rows)
        pending.clear()

    for table, row in gen.rows():
        full = dict(consts[table]) | dict(zip(variable[table], row, strict=True))
        full["TimeGenerated"] = kql.us_to_dt(int(full["TimeGenerated"]))
        msg = str(full["CorrelationId"])
        if msg != current:
            flush()  # one transaction per message, as a send path would do
            current = msg
        pending.setdefault(table, []).append(full)
    flush()
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed


def _engine(store: LogStore, query: str) -> tuple[float, Counter[tuple[str, str]]]:
    started = time.perf_counter()
    status, body = store.query_http(
        {"query": query, "timespan": None}, resource_ids=None, now=NOW
    )
    elapsed = time.perf_counter() - started
    assert status == 200 and "error" not in body, body
    out: Counter[tuple[str, str]] = Counter()
    for t, key, n in body["tables"][0]["rows"]:
        out[(t, key)] = n
    return elapsed, out


def _naive(path: Path, table: str, key: str) -> tuple[float, Counter[tuple[str, str]]]:
    """Load every row into a dict, then bin and count in a Python loop."""
    started = time.perf_counter()
    conn = sqlite3.connect(path)
    cols = [c for c, _ in TABLES[table]]
    rows = [
        dict(zip(cols, r, strict=True))
        for r in conn.execute(f'SELECT * FROM "{table}"')
    ]
    conn.close()
    counts: Counter[tuple[int, str]] = Counter()
    for row in rows:
        counts[(row["TimeGenerated"] // HOUR_US * HOUR_US, row[key])] += 1
    out = Counter({(kql.format_datetime(t), k): n for (t, k), n in counts.items()})
    return time.perf_counter() - started, out


def run() -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-kql-") as tmp:
        path = Path(tmp) / "logs.sqlite3"
        sim_s, counts = _simulate(path)
        naive_sample_s = _naive_ingest(Path(tmp) / "naive.sqlite3")
        naive_sim_s = naive_sample_s * MESSAGES / SAMPLE_MESSAGES
        total_rows = sum(counts.values())
        results.append(
            {
                "name": "simulate_1m_messages",
                "value": round(sim_s, 2),
                "unit": "s",
                "baseline": (
                    f"naive per-message LogStore.insert_rows, {SAMPLE_MESSAGES} "
                    f"messages in {naive_sample_s:.2f}s extrapolated to {MESSAGES} "
                    f"({total_rows} rows generated)"
                ),
                "baseline_value": round(naive_sim_s, 1),
                "target": SIMULATE_TARGET_S,
                "higher_is_better": False,
                "meets_target": sim_s < SIMULATE_TARGET_S,
            }
        )

        store = LogStore(str(path))
        cases = [
            (
                "kql_summarize_1m_rows",
                "ACSEmailSendMailOperational",
                "TrafficSource",
            ),
            (
                "kql_summarize_status_updates",
                "ACSEmailStatusUpdateOperational",
                "DeliveryStatus",
            ),
        ]
        for name, table, key in cases:
            query = f"{table} | summarize count() by bin(TimeGenerated, 1h), {key}"
            store.query_http(  # warm the page cache once
                {"query": f"{table} | count", "timespan": None},
                resource_ids=None,
                now=NOW,
            )
            engine_s, engine_out = min(
                (_engine(store, query) for _ in range(2)), key=lambda r: r[0]
            )
            naive_s, naive_out = _naive(path, table, key)
            if engine_out != naive_out:
                raise AssertionError(f"{name}: engine and naive answers differ")
            n_rows = counts[table]
            target = round(KQL_TARGET_S_PER_MILLION * max(1.0, n_rows / 1e6), 2)
            results.append(
                {
                    "name": name,
                    "value": round(engine_s, 3),
                    "unit": "s",
                    "baseline": (
                        f"naive in-memory interpreter (rows -> dicts -> loop) over "
                        f"{n_rows} rows; same {len(engine_out)} groups"
                    ),
                    "baseline_value": round(naive_s, 3),
                    "target": target,
                    "higher_is_better": False,
                    "meets_target": engine_s < target,
                }
            )
        store.close()
    return results


def main() -> int:
    results = run()
    cols = ["name", "value", "unit", "baseline_value", "target", "meets_target"]
    print(" | ".join(cols))
    for r in results:
        print(" | ".join(str(r[c]) for c in cols))
        print(f"  baseline: {r['baseline']}")
    return 0 if all(r["meets_target"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
