"""Bulk notifications: 100,000 recipients through the real sending pipeline.

A throw-away database (``portal_bench_campaigns``), a private emulator on loopback
with the resource's rate tier raised, Redis (the project's, database 11) as broker
and limiter, and two real ``celery -A portal worker --pool=solo`` processes. The
campaign is queued through ``campaign_queue`` (one INSERT … SELECT), then the
dispatchers claim, send (async SDK client, keep-alive) and record in bulk.

1. ``campaign_send_rate``: sustained messages per second, from the recipients'
   ``accepted_at`` between the 5th and the 95th percentile (ramp-up and the tail
   left out); the end-to-end rate (queue → last accept) is printed too.
2. Baseline: the naive path a user would write, one
   ``EmailClient.begin_send(msg).result()`` after the other: 300 messages with
   instant operations and a 20 ms polling hint (its best case), and 30 messages
   with the emulator's default, ACS-like timing (operation done after 300 ms,
   ``Retry-After: 1``), which the campaign run also used.
3. ``campaign_worker_peak_rss_mb``: the largest worker's peak resident memory
   (VmRSS of the process and its children, sampled every 200 ms).

    python bench/bench_campaigns.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MANAGE = str(ROOT / "manage.py")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from bench.common import (  # noqa: E402
    PG_SERVER,
    bench_env,
    cpu_seconds,
    drop_database,
    recreate_database,
    run_command,
    tree_rss_mb,
)

BENCH_DB = "portal_bench_campaigns"
REDIS = "redis://127.0.0.1:56379/11"
RECIPIENTS = int(os.environ.get("BENCH_CAMPAIGN_RECIPIENTS", "100000"))
WORKERS = int(os.environ.get("BENCH_CAMPAIGN_WORKERS", "2"))
NAIVE_MESSAGES = 300
NAIVE_ACS_TIMING = 30
RATE_TARGET = 560.0
SPEEDUP_TARGET = 20.0
RSS_TARGET_MB = 300.0
RESULT_MARKER = "BENCH_RESULT "
PER_MINUTE = 600_000
PER_HOUR = 36_000_000


# --- subprocess modes (inside Django) ---------------------------------------------------


def _setup() -> dict[str, Any]:
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from mailops.models import (
        AcsFootprint,
        Campaign,
        RecipientList,
        SenderAddress,
        SendingDomain,
    )
    from mailops.services import footprint
    from tenants.accounts.audit import AuditContext
    from tenants.services import tenant_create

    ctx = AuditContext.system("bench")
    tenant_create(ctx=ctx, name="Bench", slug="bench", owner_email="o@bench.example")
    connection.set_schema_to_public()
    with schema_context("bench"):
        fp = footprint.footprint_request(ctx=ctx)
        footprint.footprint_provision(footprint_id=fp.pk)
        fp = AcsFootprint.objects.get()
        AcsFootprint.objects.filter(pk=fp.pk).update(
            quota_tier="raised", quota_per_minute=PER_MINUTE, quota_per_hour=PER_HOUR
        )
        sender = SenderAddress.objects.get(
            domain__management=SendingDomain.Management.AZURE
        )
        recipient_list = RecipientList.objects.create(
            name="bench",
            state=RecipientList.State.READY,
            email_column="email",
            fields=["会社名", "担当者"],
            total_rows=RECIPIENTS,
            valid_count=RECIPIENTS,
            imported_at=timezone.now(),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO mailops_listrecipient
                    (recipient_list_id, row_number, email, email_key, data)
                SELECT %s, i + 1, 'user' || i || '@delivered.example',
                    'user' || i || '@delivered.example',
                    jsonb_build_object('会社名', '株式会社' || i, '担当者', '担当' || i)
                FROM generate_series(1, %s) AS i
                """,
                [recipient_list.pk, RECIPIENTS],
            )
            cursor.execute("ANALYZE mailops_listrecipient")
        campaign = Campaign.objects.create(
            name="bench",
            sender=sender,
            recipient_list=recipient_list,
            subject="{{ 会社名 }} 様 サービス停止のお知らせ",
            body_text="{{ 会社名 }}\n{{ 担当者 }} 様\n\n"
            + "メンテナンスのため、サービスを一時停止します。\n" * 20,
            body_html="<p>{{ 会社名 }}<br>{{ 担当者 }} 様</p>"
            + "<p>メンテナンスのため、サービスを一時停止します。</p>" * 20,
        )
        return {
            "campaign_id": campaign.pk,
            "resource_id": fp.communication_service_id,
            "sender": sender.address,
        }


def _queue(campaign_id: int) -> dict[str, Any]:
    import django

    django.setup()
    from django_tenants.utils import schema_context

    from mailops.campaigns.services import campaign_queue
    from mailops.models import Campaign
    from tenants.accounts.audit import AuditContext

    with schema_context("bench"):
        started = time.time()
        campaign = campaign_queue(
            Campaign.objects.get(pk=campaign_id), AuditContext.system("bench")
        )
        return {
            "queued_at": started,
            "queue_seconds": time.time() - started,
            "total": campaign.total_recipients,
        }


def _naive(sender: str, count: int) -> dict[str, Any]:
    """The loop a user would write: one blocking send after the other."""
    import django

    django.setup()
    from azure.communication.email import EmailClient
    from django.conf import settings
    from django_tenants.utils import schema_context

    from mailops.campaigns.services import _connection_string, ready_footprint_or_none

    with schema_context("bench"):
        fp = ready_footprint_or_none()
        assert fp is not None
        conn = _connection_string(fp)
    started = time.perf_counter()
    for i in range(count):
        client = EmailClient.from_connection_string(
            conn, connection_verify=settings.AZURE_CA_BUNDLE
        )
        message = {
            "senderAddress": sender,
            "recipients": {"to": [{"address": f"naive{i}@delivered.example"}]},
            "content": {"subject": f"株式会社{i} 様", "plainText": "お知らせ"},
        }
        result = client.begin_send(message).result()
        assert result["status"] == "Succeeded", result
    seconds = time.perf_counter() - started
    return {"messages": count, "seconds": seconds}


def _subprocess_main(mode: str, args: list[str]) -> None:
    if mode == "--setup":
        out = _setup()
    elif mode == "--queue":
        out = _queue(int(args[0]))
    else:
        out = _naive(args[0], int(args[1]))
    print(RESULT_MARKER + json.dumps(out))  # noqa: T201


# --- driver -----------------------------------------------------------------------------


def _result(stdout: str) -> dict[str, Any]:
    line = next(
        ln for ln in reversed(stdout.splitlines()) if ln.startswith(RESULT_MARKER)
    )
    return dict(json.loads(line[len(RESULT_MARKER) :]))


def _counts() -> tuple[int, int]:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/{BENCH_DB}") as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE state = 'accepted'), "
            "count(*) FILTER (WHERE state IN ('queued', 'sending')) "
            "FROM bench.mailops_campaignrecipient"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _accept_spread() -> dict[str, float]:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/{BENCH_DB}") as conn:
        row = conn.execute(
            """
            SELECT extract(epoch FROM min(accepted_at)),
                extract(epoch FROM max(accepted_at)),
                extract(epoch FROM percentile_disc(0.05) WITHIN GROUP (ORDER BY accepted_at)),
                extract(epoch FROM percentile_disc(0.95) WITHIN GROUP (ORDER BY accepted_at)),
                count(*), max(attempts)
            FROM bench.mailops_campaignrecipient WHERE state = 'accepted'
            """
        ).fetchone()
    assert row is not None
    first, last, p05, p95, n, attempts = (float(v) for v in row)
    return {
        "first": first,
        "last": last,
        "p05": p05,
        "p95": p95,
        "accepted": n,
        "max_attempts": attempts,
    }


def run() -> list[dict[str, Any]]:
    import redis

    from emulator.testing import start_emulator

    me = str(Path(__file__).resolve())
    env = bench_env(BENCH_DB, AZURE_TARGET="emulator", REDIS_URL=REDIS)
    recreate_database(BENCH_DB)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-campaigns-") as tmp:
            run_command(
                [PYTHON, MANAGE, "migrate_schemas", "--shared", "--noinput"],
                env,
                "migrate_schemas",
                timeout=900,
            )
            run_command(
                [PYTHON, MANAGE, "portal_init"], env, "portal_init", timeout=600
            )
            emu = start_emulator(Path(tmp) / "emulator")
            try:
                worker_env = bench_env(
                    BENCH_DB,
                    AZURE_TARGET="emulator",
                    AZURE_EMULATOR_URL=emu.url,
                    AZURE_CA_BUNDLE=emu.ca_path,
                    REDIS_URL=REDIS,
                    CELERY_TASK_ALWAYS_EAGER="0",
                )
                _t, out = run_command(
                    [PYTHON, me, "--setup"], worker_env, "set-up", timeout=900
                )
                setup = _result(out)
                emu.admin(
                    "/rate-tier",
                    "POST",
                    {
                        "resourceId": setup["resource_id"],
                        "perMinute": PER_MINUTE,
                        "perHour": PER_HOUR,
                        "applyToManaged": True,
                    },
                )
                broker = redis.Redis.from_url(REDIS)
                broker.delete("celery")
                for key in broker.scan_iter("kk:*"):
                    broker.delete(key)
                for i in range(WORKERS):
                    log = open(Path(tmp) / f"worker{i}.log", "wb")  # noqa: SIM115
                    workers.append(
                        subprocess.Popen(
                            [
                                PYTHON,
                                "-m",
                                "celery",
                                "-A",
                                "portal",
                                "worker",
                                "--pool=solo",
                                "--loglevel=WARNING",
                                "-n",
                                f"bench{i}-{uuid.uuid4().hex[:6]}@%h",
                                "--without-heartbeat",
                                "--without-gossip",
                                "--without-mingle",
                            ],
                            cwd=ROOT,
                            env=worker_env,
                            stdout=log,
                            stderr=subprocess.STDOUT,
                        )
                    )
                    log.close()
                time.sleep(3)  # workers up before the clock starts
                peak = {w.pid: 0.0 for w in workers}
                sampling = threading.Event()

                def sample() -> None:
                    while not sampling.wait(0.2):
                        for w in workers:
                            peak[w.pid] = max(peak[w.pid], tree_rss_mb(w.pid))

                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()
                cpu_pids = {
                    "workers": [w.pid for w in workers],
                    "emulator": [emu.proc.pid],
                }
                cpu_before = {
                    k: sum(cpu_seconds(p) for p in pids) for k, pids in cpu_pids.items()
                }
                _t, out = run_command(
                    [PYTHON, me, "--queue", str(setup["campaign_id"])],
                    worker_env,
                    "queue",
                    timeout=900,
                )
                queued = _result(out)
                deadline = time.time() + 1200
                accepted = remaining = 0
                while time.time() < deadline:
                    accepted, remaining = _counts()
                    if not remaining:
                        break
                    time.sleep(0.5)
                finished = time.time()
                cpu = {
                    k: sum(cpu_seconds(p) for p in pids) - cpu_before[k]
                    for k, pids in cpu_pids.items()
                }
                sampling.set()
                sampler.join()
                if remaining:
                    raise RuntimeError(f"{remaining} recipients still unsent")
                counters = emu.admin("/counters")
                spread = _accept_spread()
                for w in workers:
                    w.kill()
                # The naive loop with the emulator's ACS-like timing (operation
                # done after 300 ms, Retry-After: 1), then with instant operations
                # and a 20 ms polling hint (its best case).
                _t, out = run_command(
                    [PYTHON, me, "--naive", setup["sender"], str(NAIVE_ACS_TIMING)],
                    worker_env,
                    "naive loop",
                    timeout=900,
                )
                naive_acs = _result(out)
                emu.admin(
                    "/config",
                    "POST",
                    {"send_delay_ms": 0, "delivery_delay_ms": 0, "retry_after_ms": 20},
                )
                _t, out = run_command(
                    [PYTHON, me, "--naive", setup["sender"], str(NAIVE_MESSAGES)],
                    worker_env,
                    "naive loop",
                    timeout=900,
                )
                naive = _result(out)
            finally:
                for w in workers:
                    w.kill()
                    w.wait(timeout=10)
                emu.stop()
    finally:
        drop_database(BENCH_DB)
    if accepted != RECIPIENTS or spread["accepted"] != RECIPIENTS:
        raise RuntimeError(f"{accepted} of {RECIPIENTS} accepted")
    if counters["accepted_sends"] != RECIPIENTS + 0:
        raise RuntimeError(f"emulator accepted {counters['accepted_sends']} sends")
    sustained = 0.9 * RECIPIENTS / max(spread["p95"] - spread["p05"], 1e-6)
    end_to_end = RECIPIENTS / (spread["last"] - queued["queued_at"])
    naive_rate = naive["messages"] / naive["seconds"]
    naive_acs_rate = naive_acs["messages"] / naive_acs["seconds"]
    rss = max(peak.values())
    print(
        f"  {RECIPIENTS:,} recipients, {WORKERS} workers: queued in "
        f"{queued['queue_seconds']:.1f}s; sustained {sustained:,.0f} msg/s "
        f"(5th-95th percentile of accepted_at), end to end {end_to_end:,.0f} msg/s "
        f"({spread['last'] - queued['queued_at']:.1f}s from queue to last accept, "
        f"poll saw completion after {finished - queued['queued_at']:.1f}s); "
        f"max attempts {spread['max_attempts']:.0f}; emulator accepted "
        f"{counters['accepted_sends']:,}, duplicates {counters.get('duplicate_operation_ids', 0)}, "
        f"429s {counters.get('throttled_429', 0)}"
    )
    print(
        "  CPU per message: "
        + ", ".join(f"{k} {v / RECIPIENTS * 1000:.2f} ms" for k, v in cpu.items())
        + f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    print(
        f"  naive begin_send().result() loop, instant operations + 20 ms polling: "
        f"{naive['messages']} in {naive['seconds']:.1f}s = {naive_rate:.1f} msg/s "
        f"(speed-up {sustained / naive_rate:.1f}x); with the emulator's ACS-like "
        f"timing: {naive_acs['messages']} in {naive_acs['seconds']:.1f}s = "
        f"{naive_acs_rate:.2f} msg/s (speed-up {sustained / naive_acs_rate:.0f}x); "
        "worker peak RSS " + ", ".join(f"{v:.0f} MB" for v in peak.values())
    )
    return [
        {
            "name": "campaign_send_rate",
            "value": round(sustained, 1),
            "unit": "msg/s",
            "baseline": "naive: EmailClient.begin_send(msg).result() one at a time",
            "baseline_value": round(naive_rate, 1),
            "target": RATE_TARGET,
            "higher_is_better": True,
            "meets_target": sustained >= RATE_TARGET,
        },
        {
            "name": "campaign_speedup_vs_naive",
            "value": round(sustained / naive_rate, 1),
            "unit": "x",
            "baseline": "naive loop, instant operations and 20 ms polling hint",
            "baseline_value": round(naive_rate, 1),
            "target": SPEEDUP_TARGET,
            "higher_is_better": True,
            "meets_target": sustained / naive_rate >= SPEEDUP_TARGET,
        },
        {
            "name": "campaign_speedup_vs_naive_acs_timing",
            "value": round(sustained / naive_acs_rate, 1),
            "unit": "x",
            "baseline": "naive loop, emulator default timing (done after 300 ms, "
            "Retry-After 1 s)",
            "baseline_value": round(naive_acs_rate, 2),
            "target": SPEEDUP_TARGET,
            "higher_is_better": True,
            "meets_target": sustained / naive_acs_rate >= SPEEDUP_TARGET,
        },
        {
            "name": "campaign_worker_peak_rss_mb",
            "value": round(rss, 1),
            "unit": "MB",
            "target": RSS_TARGET_MB,
            "higher_is_better": False,
            "meets_target": rss <= RSS_TARGET_MB,
        },
    ]


if __name__ == "__main__":
    if len(sys.argv) > 1:
        _subprocess_main(sys.argv[1], sys.argv[2:])
    else:
        for row in run():
            print(row)  # noqa: T201
