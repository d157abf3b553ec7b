"""Month close for 1,000 tenants: drafts plus PDFs, against a naive close.

Runs against a throw-away database (``portal_bench_close`` on the project-local
PostgreSQL), created here and dropped at the end.

1. ``close_1000_tenants_drafts_pdfs``: 1,000 active tenants (``Customer`` rows with
   ``auto_create_schema=False``: the real close never opens a tenant schema, it reads
   only the public ``UsageDay`` ledger), each with 30 ``UsageDay`` rows for April
   2025.  ``billing.services.close.close_month(render_pdfs=True)`` computes every
   invoice (exact USD → one conversion → tax per rate group), writes drafts and lines
   in chunks of 200, and renders a preview PDF per draft (IPAexGothic embedded).
   ``close_1000_tenants_drafts_only`` is the same without PDFs, and
   ``close_rerun_idempotent`` a second run that replaces the drafts.
2. Baseline ``naive_close_extrapolated_1000``: the approach the ledger replaces —
   loop over tenant schemas and re-aggregate raw events (``MessageRecord`` ⨝
   ``RecipientEvent`` per day) before computing and storing the invoice and its PDF,
   one tenant per transaction.  Creating 1,000 real schemas takes far longer than the
   close itself, so this runs on a SAMPLE of real tenant schemas (``NAIVE_SAMPLE``,
   each with ``NAIVE_MESSAGES`` one-recipient messages in the month) and the mean
   per-tenant time is multiplied by 1,000 (extrapolated, stated in the figure name).

    python bench/bench_close.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MANAGE = str(ROOT / "manage.py")
if str(ROOT) not in sys.path:  # bench/common.py lives beside this module
    sys.path.insert(0, str(ROOT))
from bench.common import (  # noqa: E402
    bench_env,
    drop_database,
    recreate_database,
    run_command,
)

BENCH_DB = "portal_bench_close"
TENANTS = 1000
NAIVE_SAMPLE = 4
NAIVE_MESSAGES = 20_000
TARGET_SECONDS = 60.0
RESULT_MARKER = "BENCH_RESULT "


def _worker() -> dict[str, Any]:
    import django

    django.setup()
    from datetime import UTC, date, datetime, timedelta
    from decimal import Decimal

    from django.db import connection, transaction
    from django_tenants.utils import schema_context

    from billing.models import FxRate, Invoice, IssuerSettings, UsageDay
    from billing.services import close
    from billing.services.documents import attach_preview_pdfs
    from mailops.models import MessageRecord, RecipientEvent
    from tenants.accounts.audit import AuditContext
    from tenants.models import Customer

    april = date(2025, 4, 1)
    ctx = AuditContext.system("bench")
    IssuerSettings.objects.create(
        name="株式会社ベンチ", registration_number="T7000012050002", bank_account="銀行"
    )
    FxRate.objects.create(
        date=date(2025, 3, 31), rate=Decimal("150.99"), rate_type="TTM", source="MUFG"
    )
    # 1,000 registry rows without schemas (bulk_create never calls save()).
    Customer.objects.bulk_create(
        [
            Customer(schema_name=f"bench_{i:04d}", name=f"ベンチ株式会社 {i:04d}")
            for i in range(TENANTS)
        ]
    )
    tenant_ids = list(
        Customer.objects.filter(schema_name__startswith="bench_").values_list(
            "pk", flat=True
        )
    )
    rows = []
    for n, pk in enumerate(tenant_ids):
        for d in range(30):
            rows.append(
                UsageDay(
                    tenant_id=pk,
                    day=april + timedelta(days=d),
                    messages=1000 + n,
                    billable_emails=4000 + n,
                    billable_megabytes=Decimal("80.123456"),
                )
            )
    UsageDay.objects.bulk_create(rows, batch_size=5000)
    connection.close()

    started = time.perf_counter()
    result = close.close_month(period=april, ctx=ctx, render_pdfs=True)
    with_pdfs = time.perf_counter() - started
    drafts = Invoice.objects.filter(period=april, status="draft")
    count = drafts.count()
    pdfs = drafts.exclude(pdf=None).count()
    sample = drafts.order_by("tenant_id").first()

    started = time.perf_counter()
    close.close_month(period=april, ctx=ctx, render_pdfs=False)
    drafts_only = time.perf_counter() - started
    started = time.perf_counter()
    close.close_month(period=april, ctx=ctx, render_pdfs=False)
    rerun = time.perf_counter() - started
    assert Invoice.objects.filter(period=april).count() == count

    # Naive path on a sample of real tenant schemas.
    naive_times: list[float] = []
    naive_match = True
    for s in range(NAIVE_SAMPLE):
        tenant = Customer(schema_name=f"naive_{s}", name=f"ナイーブ {s}")
        tenant.save()  # real schema, cloned from the template
        connection.set_schema_to_public()
        with schema_context(tenant.schema_name):
            msgs, events = [], []
            for m in range(NAIVE_MESSAGES):
                sent = datetime(2025, 4, 1 + m % 30, 3, 0, tzinfo=UTC)
                mid = f"n{s}-{m}"
                msgs.append(
                    MessageRecord(
                        message_id=mid,
                        resource_id="r",
                        sent_at=sent,
                        size_mb=Decimal("0.020000"),
                        to_count=1,
                        unique_recipients=1,
                        status="Delivered",
                    )
                )
                events.append(
                    RecipientEvent(
                        message_id=mid,
                        recipient=f"u{m}@example.jp",
                        recipient_domain="example.jp",
                        status="Delivered",
                        status_at=sent,
                    )
                )
            MessageRecord.objects.bulk_create(msgs, batch_size=5000)
            RecipientEvent.objects.bulk_create(events, batch_size=5000)
        connection.close()
        issuer = close.get_issuer()
        started = time.perf_counter()
        with schema_context(tenant.schema_name), connection.cursor() as cur:
            cur.execute(
                """
                SELECT (m.sent_at AT TIME ZONE 'Asia/Tokyo')::date AS day,
                       count(*), coalesce(sum(m.size_mb), 0)
                FROM mailops_recipientevent e
                JOIN mailops_messagerecord m ON m.message_id = e.message_id
                WHERE m.sent_at >= %s AND m.sent_at < %s
                GROUP BY 1 ORDER BY 1
                """,
                [
                    datetime(2025, 3, 31, 15, tzinfo=UTC),
                    datetime(2025, 4, 30, 15, tzinfo=UTC),
                ],
            )
            days = [(d, int(c), Decimal(mb)) for d, c, mb in cur.fetchall()]
        with transaction.atomic():
            Invoice.objects.filter(tenant=tenant, period=april, status="draft").delete()
            comp = close.compute_invoice(
                tenant=tenant,
                period=april,
                issuer=issuer,
                days=days,
                billed={},
                prior_usage={},
            )
            inv = close.store_computation(comp, issuer)
            attach_preview_pdfs([inv])
        naive_times.append(time.perf_counter() - started)
        naive_match = naive_match and sum(d[1] for d in days) == NAIVE_MESSAGES
    per_tenant = sum(naive_times) / len(naive_times)
    return {
        "with_pdfs": with_pdfs,
        "drafts_only": drafts_only,
        "rerun": rerun,
        "count": count,
        "pdfs": pdfs,
        "errors": result.errors,
        "sample_total": sample.total_jpy if sample else None,
        "naive_per_tenant": per_tenant,
        "naive_times": naive_times,
        "naive_match": naive_match,
    }


def _figure(
    name: str, value: float, baseline: str, baseline_value: float | None
) -> dict[str, Any]:
    return {
        "name": name,
        "value": round(value, 2),
        "unit": "s",
        "baseline": baseline,
        "baseline_value": None if baseline_value is None else round(baseline_value, 2),
        "target": TARGET_SECONDS,
        "higher_is_better": False,
        "meets_target": value < TARGET_SECONDS,
    }


def run() -> list[dict[str, Any]]:
    env = bench_env(BENCH_DB)
    recreate_database(BENCH_DB)
    try:
        run_command(
            [PYTHON, MANAGE, "migrate_schemas", "--shared", "--noinput"],
            env,
            "migrate",
            timeout=1800,
        )
        run_command([PYTHON, MANAGE, "portal_init"], env, "portal_init", timeout=1800)
        _elapsed, out = run_command(
            [PYTHON, str(Path(__file__).resolve()), "--worker"],
            env,
            "worker",
            timeout=1800,
        )
        line = next(
            ln for ln in reversed(out.splitlines()) if ln.startswith(RESULT_MARKER)
        )
        r = json.loads(line[len(RESULT_MARKER) :])
    finally:
        drop_database(BENCH_DB)
    if r["count"] != TENANTS or r["pdfs"] != TENANTS or r["errors"]:
        raise RuntimeError(f"close incomplete: {r}")
    naive_total = r["naive_per_tenant"] * TENANTS
    print(
        f"  close {TENANTS} tenants: drafts+PDFs {r['with_pdfs']:.1f}s, drafts only "
        f"{r['drafts_only']:.1f}s, re-run {r['rerun']:.1f}s; naive per tenant "
        f"{r['naive_per_tenant']:.3f}s over {NAIVE_SAMPLE} real schemas x "
        f"{NAIVE_MESSAGES} messages (extrapolated {naive_total:.0f}s); sample total "
        f"¥{r['sample_total']:,}"
    )
    baseline = (
        f"naive: per-schema raw-event re-aggregation + PDF, {NAIVE_SAMPLE} real "
        f"schemas x {NAIVE_MESSAGES} msgs, extrapolated to {TENANTS}"
    )
    return [
        _figure(
            f"close_{TENANTS}_tenants_drafts_pdfs",
            r["with_pdfs"],
            baseline,
            naive_total,
        ),
        _figure(f"close_{TENANTS}_tenants_drafts_only", r["drafts_only"], "", None),
        _figure("close_rerun_idempotent", r["rerun"], "", None),
        _figure(f"naive_close_extrapolated_{TENANTS}", naive_total, "", None),
    ]


if __name__ == "__main__":
    if "--worker" in sys.argv:
        sys.path.insert(0, str(ROOT))
        print(RESULT_MARKER + json.dumps(_worker(), default=str))
    else:
        for fig in run():
            print(json.dumps(fig, ensure_ascii=False))
