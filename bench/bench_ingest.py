"""Delivery analytics ingestion: 1,000,000 status rows from the emulator, end to end.

Everything runs against a throw-away database (``portal_bench_ingest`` on the
project-local PostgreSQL), created here and dropped at the end, and a private
emulator process whose state dir is filled with ``emulator.simulate`` history
*before* it starts (the bulk load is fastest on a file nobody has open).

1. ``ingest_status_rows_per_s``: ``mailops.analytics.ingest.ingest_tenant`` in a
   worker process (the same code a Celery worker runs) pulls all three ACS Email
   tables of the tenant's resource through the real ``LogsQueryClient`` over HTTPS
   from the emulator, merges them into the tenant schema and rebuilds the hour/day
   aggregates and the public usage ledger. The clock runs from the call to its
   return (every row committed). Value = StatusUpdate rows / seconds.
2. The baseline is the naive path on the same data: the same adapter query, then
   one ORM lookup and ``save()`` per row (MessageRecord for message-level rows,
   RecipientEvent for recipient rows), timed on a sample of about 20,000 status
   rows in a second tenant and extrapolated linearly (it has no set-up cost to
   amortise, so linear is generous to it).
3. ``ingest_peak_rss_mb``: peak resident memory of the ingesting worker process
   (VmRSS sampled every 20 ms during the run), Django and the SDKs included.

Also printed: CPU seconds of the worker, the emulator and the whole PostgreSQL
cluster (every backend, including the merge streams' connections). With
``BENCH_INGEST_PROFILE=1`` the worker prints per-statement times and a profile;
``BENCH_INGEST_EXPLAIN=<statement prefix>`` also writes the plan of one mid-run
execution of that statement to /tmp/bench_ingest_plan.txt.

    python bench/bench_ingest.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MANAGE = str(ROOT / "manage.py")
if str(ROOT) not in sys.path:  # bench/common.py lives beside this module
    sys.path.insert(0, str(ROOT))
# BENCH_INGEST_PROFILE=1 prints each subprocess's stderr (profiler output).
PROFILE = bool(os.environ.get("BENCH_INGEST_PROFILE"))
from bench.common import (  # noqa: E402
    bench_env,
    cluster_cpu_seconds,
    cpu_seconds,
    drop_database,
    recreate_database,
    run_command,
)

BENCH_DB = "portal_bench_ingest"
RESOURCE_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-bench"
    "/providers/Microsoft.Communication/communicationServices/acs-bench"
)
# ~2.25 StatusUpdate rows per message (one message-level OutForDelivery row and
# 1.25 recipients on average): 3 days x 148,200 messages ~ 1,000,000 status rows.
DAYS = 3
PER_DAY = int(os.environ.get("BENCH_INGEST_PER_DAY", "148200"))
NAIVE_SAMPLE_ROWS = 20_000
RATE_TARGET = 50_000.0
SPEEDUP_TARGET = 20.0
RSS_TARGET_MB = 500.0
RESULT_MARKER = "BENCH_RESULT "


# --- worker: runs inside Django ---------------------------------------------------------
def _make_tenant(slug: str) -> None:
    from django.db import connection
    from django_tenants.utils import schema_context

    from mailops.models import AcsFootprint
    from tenants.accounts.audit import AuditContext
    from tenants.services import tenant_create

    tenant_create(
        ctx=AuditContext.system("bench"),
        name=f"Bench {slug}",
        slug=slug,
        owner_email=f"owner@{slug}.example.jp",
    )
    connection.set_schema_to_public()
    with schema_context(slug):
        # Only the row the ingestion reads: the logs are already in the emulator.
        AcsFootprint.objects.create(
            subscription_id="00000000-0000-0000-0000-000000000001",
            resource_group="rg-bench",
            email_service_name="es-bench",
            communication_service_name="acs-bench",
            communication_service_id=RESOURCE_ID,
            state="ready",
        )


def _naive(since: datetime, until: datetime) -> dict[str, Any]:
    """One ORM lookup and save() per status row, over a ~20,000-row sample."""
    from mailops.analytics.ingest import PROJECTIONS, STATUS_UPDATE, classify_domain
    from mailops.models import MessageRecord, RecipientEvent
    from portal.integrations.azure import client

    # Pick the sample window from the hourly counts (outside the timing).
    hours = client.logs_query(
        resource_id=RESOURCE_ID,
        query=f"{STATUS_UPDATE} | summarize n = count() by h = bin(TimeGenerated, 1h)",
        start=since,
        end=until,
    ).rows
    hours = sorted(
        (datetime.fromisoformat(h.replace("Z", "+00:00")), n) for h, n in hours
    )
    start = hours[len(hours) // 2][0]
    end, total = start, 0
    for h, n in hours[len(hours) // 2 :]:
        end, total = h + timedelta(hours=1), total + n
        if total >= NAIVE_SAMPLE_ROWS:
            break
    started = time.perf_counter()
    result = client.logs_query(
        resource_id=RESOURCE_ID,
        query=f"{STATUS_UPDATE} | project {PROJECTIONS[STATUS_UPDATE]}",
        start=start,
        end=end,
    )
    for t, m, r, s, smtp, enh, reason, msg, sd, su, hard in result.rows:
        at = datetime.fromisoformat(t.replace("Z", "+00:00"))
        if not r:
            record = MessageRecord.objects.filter(message_id=m).first()
            if record is None:
                record = MessageRecord(
                    message_id=m, resource_id=RESOURCE_ID, sent_at=at
                )
            record.sender_address = f"{su}@{sd}".lower()
            record.sender_domain = sd.lower()
            record.status = record.status or s
            record.save()
            continue
        event = RecipientEvent.objects.filter(message_id=m, recipient=r.lower()).first()
        if event is None:
            domain = r.rsplit("@", 1)[-1].lower()
            event = RecipientEvent(
                message_id=m,
                recipient=r.lower(),
                recipient_domain=domain,
                domain_class=classify_domain(domain),
                status_at=at,
            )
        elif event.status_at > at:
            continue
        event.status, event.status_at = s, at
        event.smtp_code, event.enhanced_code = smtp, enh
        event.is_hard_bounce = hard == "true"
        event.failure_reason, event.failure_message = reason, msg
        event.save()
    seconds = time.perf_counter() - started
    return {"rows": len(result.rows), "seconds": seconds}


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _setup() -> None:
    import django

    django.setup()
    _make_tenant("bench")
    _make_tenant("naive")


def _worker(since_iso: str, until_iso: str) -> dict[str, Any]:
    import django

    django.setup()

    from django.db import connection
    from django_tenants.utils import schema_context

    from billing.models import UsageDay
    from mailops.analytics.ingest import ingest_tenant
    from mailops.models import DeliveryAggregate, MessageRecord, RecipientEvent
    from portal.integrations.azure import client

    since = datetime.fromisoformat(since_iso)
    until = datetime.fromisoformat(until_iso)
    # ru_maxrss is no use here: a child inherits the peak of the parent it was
    # forked from (the driver, which just ran the simulation). Sample VmRSS.
    rss_before = _rss_mb()
    peak = [rss_before]
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.wait(0.02):
            peak[0] = max(peak[0], _rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    # CPU of the three processes doing the work: this worker (HTTP client, JSON
    # decoding, COPY encoding), the emulator (KQL -> SQLite, JSON encoding) and
    # this connection's PostgreSQL backend (COPY, merge, aggregates). Less noisy
    # than wall time on a shared machine.
    emulator_pid = os.environ.get("BENCH_EMULATOR_PID", "")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend_pid = cursor.fetchone()[0]
    cpu_pids = {"worker": "self", "emulator": emulator_pid}
    cpu_before = {k: cpu_seconds(pid) for k, pid in cpu_pids.items() if pid}
    # Every backend (the merge streams' connections come and go during the run).
    cpu_before["postgres"] = cluster_cpu_seconds(backend_pid)
    with schema_context("bench"):
        started = time.perf_counter()
        if os.environ.get("BENCH_INGEST_PROFILE"):
            import cProfile
            import pstats

            timings: dict[str, list[float]] = {}
            seen: dict[str, int] = {}

            def timed(execute: Any, sql: str, *args: Any) -> Any:
                explain = os.environ.get("BENCH_INGEST_EXPLAIN", "")
                if explain and sql.lstrip().startswith(explain):
                    seen[explain] = seen.get(explain, 0) + 1
                    # One plan, of a window in the middle of the run (the
                    # tables half full); EXPLAIN ANALYZE runs the statement.
                    if seen[explain] == 20:
                        with connection.cursor() as c:
                            c.execute(
                                "EXPLAIN (ANALYZE, BUFFERS) " + sql,
                                args[0] if args else None,
                            )
                            plan = "\n".join(r[0] for r in c.fetchall())
                        Path("/tmp/bench_ingest_plan.txt").write_text(plan)
                t0 = time.perf_counter()
                try:
                    return execute(sql, *args)
                finally:
                    key = " ".join(sql.split())[:90]
                    timings.setdefault(key, []).append(time.perf_counter() - t0)

            profile = cProfile.Profile()
            with connection.execute_wrapper(timed):
                report = profile.runcall(ingest_tenant, since=since, until=until)
            for key, values in sorted(timings.items(), key=lambda kv: -sum(kv[1])):
                print(f"{sum(values):7.2f}s {len(values):4d}x {key}", file=sys.stderr)
            pstats.Stats(profile, stream=sys.stderr).sort_stats(
                "cumulative"
            ).print_stats(40)
        else:
            report = ingest_tenant(since=since, until=until)
        seconds = time.perf_counter() - started
    cpu = {
        k: round(
            (
                cluster_cpu_seconds(backend_pid)
                if k == "postgres"
                else cpu_seconds(cpu_pids[k])
            )
            - v,
            2,
        )
        for k, v in cpu_before.items()
    }
    sampling.set()
    sampler.join()
    rss_peak = max(peak[0], _rss_mb())
    connection.set_schema_to_public()
    # Correctness checks (outside the timing) against the emulator's own counts.
    ((recipients,),) = client.logs_query(
        resource_id=RESOURCE_ID,
        query="ACSEmailStatusUpdateOperational | where isnotempty(RecipientId) "
        "| summarize dcount(strcat(CorrelationId, '|', RecipientId))",
        start=since,
        end=until,
    ).rows
    with schema_context("bench"):
        events = RecipientEvent.objects.count()
        messages = MessageRecord.objects.count()
        hour_total = sum(
            DeliveryAggregate.objects.filter(period="hour").values_list(
                "count", flat=True
            )
        )
    emails = sum(
        UsageDay.objects.filter(tenant__schema_name="bench").values_list(
            "billable_emails", flat=True
        )
    )
    with schema_context("naive"):
        naive = _naive(since, until)
    tables = {
        name: {"rows": t.rows, "queries": t.queries, "windows": t.windows}
        for name, t in report.tables.items()
    }
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "tables": tables,
        "status_rows": report.tables["ACSEmailStatusUpdateOperational"].rows,
        "all_rows": report.rows,
        "rss_before_mb": rss_before,
        "rss_peak_mb": rss_peak,
        "recipients_expected": int(recipients),
        "recipient_events": events,
        "messages": messages,
        "hour_total": hour_total,
        "billable_emails": emails,
        "naive": naive,
    }


# --- driver -----------------------------------------------------------------------------
def run() -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT))
    from emulator.simulate import generate
    from emulator.testing import start_emulator

    env = bench_env(BENCH_DB, AZURE_TARGET="emulator")
    recreate_database(BENCH_DB)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
            state = Path(tmp) / "emulator"
            state.mkdir()
            now = datetime.now(UTC).replace(microsecond=0)
            t0 = time.perf_counter()
            counts = generate(
                str(state / "logs.sqlite3"),
                resource_id=RESOURCE_ID,
                days=DAYS,
                per_day=PER_DAY,
                seed=42,
                now=now,
            )
            print(f"  simulate: {counts} in {time.perf_counter() - t0:.1f}s")
            run_command(
                [PYTHON, MANAGE, "migrate_schemas", "--shared", "--noinput"],
                env,
                "migrate_schemas",
                timeout=900,
                echo_stderr=PROFILE,
            )
            run_command(
                [PYTHON, MANAGE, "portal_init"],
                env,
                "portal_init",
                timeout=900,
                echo_stderr=PROFILE,
            )
            emu = start_emulator(state)
            try:
                worker_env = bench_env(
                    BENCH_DB,
                    AZURE_TARGET="emulator",
                    AZURE_EMULATOR_URL=emu.url,
                    AZURE_CA_BUNDLE=emu.ca_path,
                    BENCH_EMULATOR_PID=str(emu.proc.pid),
                )
                # Tenants are created in their own process, so that the peak RSS
                # of the ingesting process is the ingestion's own.
                run_command(
                    [PYTHON, str(Path(__file__).resolve()), "--setup"],
                    worker_env,
                    "tenant set-up",
                    timeout=900,
                    echo_stderr=PROFILE,
                )
                since = now - timedelta(days=DAYS + 1)
                until = now + timedelta(minutes=5)
                _t, out = run_command(
                    [
                        PYTHON,
                        str(Path(__file__).resolve()),
                        "--worker",
                        since.isoformat(),
                        until.isoformat(),
                    ],
                    worker_env,
                    "ingest worker",
                    timeout=900,
                    echo_stderr=PROFILE,
                )
            finally:
                emu.stop()
    finally:
        drop_database(BENCH_DB)
    line = next(ln for ln in reversed(out.splitlines()) if ln.startswith(RESULT_MARKER))
    r: dict[str, Any] = json.loads(line[len(RESULT_MARKER) :])
    print(f"  worker: {json.dumps(r)}")
    if r["recipient_events"] != r["recipients_expected"]:
        raise RuntimeError(
            f"ingested {r['recipient_events']} recipient rows, the emulator has "
            f"{r['recipients_expected']}"
        )
    if r["hour_total"] != r["recipient_events"]:
        raise RuntimeError("hour aggregates do not add up to the recipient rows")
    rate = r["status_rows"] / r["seconds"]
    naive_rate = r["naive"]["rows"] / r["naive"]["seconds"]
    speedup = rate / naive_rate
    naive_extrapolated = r["status_rows"] / naive_rate
    print(
        f"  ingest: {r['status_rows']:,} status rows ({r['all_rows']:,} rows in all "
        f"three tables) in {r['seconds']:.1f}s = {rate:,.0f} status rows/s; "
        f"naive ORM: {r['naive']['rows']:,} rows in {r['naive']['seconds']:.1f}s = "
        f"{naive_rate:,.0f} rows/s (1M rows would take {naive_extrapolated:,.0f}s); "
        f"peak RSS {r['rss_peak_mb']:.0f} MB (before: {r['rss_before_mb']:.0f} MB)"
    )
    cpu = r["cpu_seconds"]
    print(
        "  CPU during ingest (user+sys s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items())
        + f"; total {sum(cpu.values()):.1f}s = "
        f"{sum(cpu.values()) / r['all_rows'] * 1e6:.1f} µs per row (all tables)"
    )
    return [
        {
            "name": "ingest_status_rows_per_s",
            "value": round(rate),
            "unit": "rows/s",
            "baseline": "naive: one ORM lookup + save() per row (20k-row sample)",
            "baseline_value": round(naive_rate),
            "target": RATE_TARGET,
            "higher_is_better": True,
            "meets_target": rate >= RATE_TARGET,
        },
        {
            "name": "ingest_speedup_vs_naive_orm",
            "value": round(speedup, 1),
            "unit": "x",
            "baseline": "naive ORM save() per row",
            "baseline_value": 1.0,
            "target": SPEEDUP_TARGET,
            "higher_is_better": True,
            "meets_target": speedup >= SPEEDUP_TARGET,
        },
        {
            "name": "ingest_1m_status_rows_seconds",
            "value": round(r["seconds"], 1),
            "unit": "s",
            "baseline": "naive ORM, extrapolated",
            "baseline_value": round(naive_extrapolated, 1),
            "target": round(r["status_rows"] / RATE_TARGET, 1),
            "higher_is_better": False,
            "meets_target": rate >= RATE_TARGET,
        },
        {
            "name": "ingest_peak_rss_mb",
            "value": round(r["rss_peak_mb"], 1),
            "unit": "MB",
            "baseline": "worker RSS before ingesting",
            "baseline_value": round(r["rss_before_mb"], 1),
            "target": RSS_TARGET_MB,
            "higher_is_better": False,
            "meets_target": r["rss_peak_mb"] < RSS_TARGET_MB,
        },
    ]


def main(argv: list[str]) -> int:
    if argv[:1] == ["--setup"]:
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        _setup()
        return 0
    if argv[:1] == ["--worker"]:
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        result = _worker(argv[1], argv[2])
        print(RESULT_MARKER + json.dumps(result))
        return 0
    for row in run():
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
