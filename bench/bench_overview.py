"""Staff overview of 1,000 tenants: server time per request, against a naive view.

Everything runs against a throw-away database (``portal_bench_overview`` on the
project-local PostgreSQL), created here and dropped at the end.

Setup: ``migrate_schemas --shared`` and ``portal_init``, then a worker process
creates 50 real tenants through ``tenants.services.tenant_create`` (cloned schemas),
fills each with mail-operations data (footprint, 3 domains, 4 credentials with
secrets, 7 days of hourly delivery aggregates in 4 statuses, 300 message records),
refreshes their ``TenantSummary`` with the real ``summary_refresh``, and adds 950
registry-only tenants (no schema; the overview never opens one) with summary rows:
1,000 tenants in all.

1. ``overview_p95_1000_tenants``: the real ``/staff/tenants/`` page (middleware,
   session, MFA check, template) through Django's test ``Client`` in-process, 50
   timed requests after 3 warm-ups, cycling through five variants (default, sorted
   by projected charge, has-alerts filter, search, page 7). p95 by nearest rank.
2. Baseline: a naive overview that opens every tenant's schema per request and
   counts live (the same reads ``summary_refresh`` does, plus the projected charge),
   then sorts and renders the page. Sorting or filtering by a live figure needs
   every tenant, so it cannot page first. It is timed over the 50 real schemas (10
   requests) and its p95 is **extrapolated linearly to 1,000 tenants (× 20)**; the
   950 registry-only tenants have no schema to open. It is called as a function
   (no middleware), which if anything flatters it.
3. ``overview_queries_per_request``: SQL statements per overview request (search
   path switches excluded), against the naive view's count extrapolated the same way.

Takes about 1-2 minutes on the 2-core dev machine (bounded: < 4 min).

    python bench/bench_overview.py
"""

from __future__ import annotations

import json
import math
import os
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

BENCH_DB = "portal_bench_overview"
# with schemas and data (baseline measured on these); smaller for a quick check
REAL_TENANTS = int(os.environ.get("BENCH_OVERVIEW_REAL_TENANTS", "50"))
TOTAL_TENANTS = 1000
REQUESTS = 50
WARMUP = 3
NAIVE_REQUESTS = 10
TARGET_MS = 150.0
QUERY_TARGET = 10
RESULT_MARKER = "BENCH_RESULT "


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


# --- worker (inside Django) ----------------------------------------------------------
def _seed_tenant_data(index: int, now: Any) -> None:
    """Mail-operations rows of one tenant (current schema)."""
    import datetime as dt

    from mailops.models import (
        AcsFootprint,
        CredentialSecret,
        DeliveryAggregate,
        MessageRecord,
        SenderAddress,
        SendingDomain,
        SmtpCredential,
    )

    AcsFootprint.objects.create(
        subscription_id="sub",
        resource_group="rg",
        email_service_name=f"es{index}",
        communication_service_name=f"cs{index}",
        state=AcsFootprint.State.READY,
    )
    domains = [
        SendingDomain.objects.create(
            name=f"d{n}.t{index}.example.jp",
            display_name=f"d{n}.t{index}.example.jp",
            state=SendingDomain.State.VERIFIED,
            dns_ok=(n + index) % 4 != 0,
        )
        for n in range(3)
    ]
    sender = SenderAddress.objects.create(
        domain=domains[0], username="scan", state=SenderAddress.State.ACTIVE
    )
    for n in range(4):
        cred = SmtpCredential.objects.create(
            label=f"MFP {n}",
            sender_domain=domains[0],
            sender=sender,
            username=f"t{index}-mfp{n}",
            smtp_username_resource=f"t{index}-mfp{n}",
            state=SmtpCredential.State.ACTIVE,
        )
        CredentialSecret.objects.create(
            credential=cred,
            key_id=f"t{index}-k{n}",
            expires_at=now + dt.timedelta(days=(index * 7 + n * 25) % 120 - 5),
        )
    hour = now.replace(minute=0, second=0, microsecond=0)
    rows = []
    for h in range(7 * 24):
        base = (index * 13 + h * 7) % 90 + 5
        for status, share in (
            ("Delivered", 0.9),
            ("Bounced", 0.04),
            ("Failed", 0.03),
            ("Suppressed", 0.03),
        ):
            rows.append(
                DeliveryAggregate(
                    period=DeliveryAggregate.Period.HOUR,
                    bucket=hour - dt.timedelta(hours=h),
                    sender_domain=domains[0].name,
                    status=status,
                    count=int(base * share) + 1,
                )
            )
    DeliveryAggregate.objects.bulk_create(rows)
    MessageRecord.objects.bulk_create(
        [
            MessageRecord(
                message_id=f"t{index}-m{m}",
                resource_id="r",
                sent_at=now - dt.timedelta(minutes=m * 30),
            )
            for m in range(300)
        ]
    )


def _naive_overview(request: Any) -> Any:
    """What the page would cost without summaries: every schema, every request."""
    from django.core.paginator import Paginator
    from django.shortcuts import render
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from tenants.models import Alert, TenantSummary
    from tenants.selectors import OverviewQuery, served_tenants
    from tenants.summaries import (
        bounce_rate,
        projected_charge,
        read_tenant_figures,
    )

    now = timezone.now()
    rows = []
    for tenant in served_tenants().prefetch_related("domains"):
        with schema_context(tenant.schema_name):
            figures = read_tenant_figures(now)
        charge, basis = projected_charge(tenant, now)
        open_alerts = (
            Alert.objects.filter(tenant=tenant).exclude(state="resolved").count()
        )
        # The template reads ``tenant.summary``; hand it the live figures instead
        # (an unsaved row, never written).
        tenant.summary = TenantSummary(
            tenant=tenant,
            **figures.__dict__,
            bounce_rate=bounce_rate(figures.failed_7d, figures.volume_7d),
            open_alerts=open_alerts,
            projected_charge_jpy=charge,
            charge_basis=basis,
        )
        rows.append(tenant)
    rows.sort(key=lambda t: -(t.summary.projected_charge_jpy or 0))
    page = Paginator(rows, 50).get_page(1)
    return render(
        request,
        "tenants/tenant_list.html",
        {"page": page, "query": OverviewQuery(), "sort_links": {}, "page_params": ""},
    )


def _worker() -> dict[str, Any]:
    import django

    django.setup()

    from decimal import Decimal

    from django.conf import settings
    from django.db import connection
    from django.test import Client, RequestFactory
    from django.test.utils import CaptureQueriesContext
    from django.urls import set_urlconf
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from tenants.accounts.audit import AuditContext
    from tenants.accounts.models import User
    from tenants.models import Customer, TenantSummary
    from tenants.services import tenant_create
    from tenants.summaries import summary_refresh

    started = time.perf_counter()
    now = timezone.now()
    ctx = AuditContext.system("bench")
    real: list[Customer] = []
    for i in range(REAL_TENANTS):
        tenant, _invitation = tenant_create(
            ctx=ctx,
            name=f"Bench {i:03d}",
            slug=f"bench-{i:03d}",
            owner_email=f"owner@bench{i}.example.jp",
        )
        with schema_context(tenant.schema_name):
            _seed_tenant_data(i, now)
        connection.set_schema_to_public()
        summary_refresh(tenant, now=now)
        real.append(tenant)
        # A fresh session per creation, as separate requests would have (one
        # session reused for many schema clones gets slower with each clone).
        connection.close()
    created_s = time.perf_counter() - started
    print(f"created {REAL_TENANTS} tenants in {created_s:.1f}s", file=sys.stderr)
    registry = Customer.objects.bulk_create(
        [
            Customer(
                schema_name=f"reg-{i:04d}",
                name=f"Registry {i:04d}",
                plan=("lite", "standard", "premium")[i % 3],
            )
            for i in range(TOTAL_TENANTS - REAL_TENANTS)
        ]
    )
    TenantSummary.objects.bulk_create(
        [
            TenantSummary(
                tenant=t,
                domains_total=2,
                domains_verified=2,
                domains_dns_broken=i % 9 == 0,
                credentials_active=3,
                credentials_expiring_60=i % 4 == 0,
                volume_24h=i * 3,
                volume_7d=i * 21,
                failed_7d=i,
                bounce_rate=Decimal(i % 500) / 100,
                quota_tier="default",
                quota_per_minute=30,
                quota_per_hour=100,
                peak_per_hour=i % 120,
                peak_per_minute=i % 31,
                open_alerts=i % 5 == 0,
                projected_charge_jpy=i * 137,
                charge_basis="fallback",
                provisioning_state="ready",
                refreshed_at=now,
            )
            for i, t in enumerate(registry)
        ]
    )
    tenants_total = (
        Customer.objects.exclude(schema_name="public")
        .exclude(status="template")
        .count()
    )
    staff = User.objects.create_user(
        "bench-staff@msp.example", "Bench-password-123", role="viewer", is_staff=True
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    variants = [
        {},
        {"sort": "-charge"},
        {"alerts": "1", "sort": "-volume"},
        {"q": "registry 01"},
        {"page": "7"},
    ]

    def overview(params: dict[str, str]) -> float:
        t0 = time.perf_counter()
        response = client.get("/staff/tenants/", params)
        elapsed = (time.perf_counter() - t0) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"overview answered {response.status_code}")
        return elapsed

    for i in range(WARMUP):
        overview(variants[i % len(variants)])
    timings = [overview(variants[i % len(variants)]) for i in range(REQUESTS)]
    connection.queries_log.clear()  # a full log (9,000) would hide the capture
    with CaptureQueriesContext(connection) as queries:
        overview({"sort": "-charge"})
    overview_queries = len(
        [q for q in queries.captured_queries if not q["sql"].startswith("SET search")]
    )

    # Naive baseline over the real schemas only (registry-only rows have none).
    Customer.objects.filter(schema_name__startswith="reg-").update(
        status=Customer.Status.TEMPLATE  # hidden from served_tenants() for this part
    )
    factory = RequestFactory(HTTP_HOST="localhost")

    set_urlconf(settings.PUBLIC_SCHEMA_URLCONF)  # what the tenant middleware does

    def naive() -> float:
        request = factory.get("/staff/tenants/")
        request.user = staff
        request.htmx = False
        connection.set_schema_to_public()
        t0 = time.perf_counter()
        response = _naive_overview(request)
        elapsed = (time.perf_counter() - t0) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"naive view answered {response.status_code}")
        return elapsed

    naive()
    naive_timings = [naive() for _ in range(NAIVE_REQUESTS)]
    connection.set_schema_to_public()
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as queries:
        naive()
    naive_queries = len(
        [q for q in queries.captured_queries if not q["sql"].startswith("SET search")]
    )
    if os.environ.get("BENCH_OVERVIEW_DEBUG"):
        for q in queries.captured_queries:
            print(q["sql"][:160], file=sys.stderr)
    return {
        "tenants": tenants_total,
        "real_tenants": len(real),
        "setup_s": round(created_s, 1),
        "overview_ms": timings,
        "overview_queries": overview_queries,
        "naive_ms": naive_timings,
        "naive_queries": naive_queries,
    }


def run() -> list[dict[str, Any]]:
    env = bench_env(
        BENCH_DB,
        PORTAL_MFA_REQUIRED="false",
        # Production-like request path: no debug toolbar/query log per request.
        DJANGO_DEBUG="false",
    )
    recreate_database(BENCH_DB)
    try:
        run_command(
            [PYTHON, MANAGE, "migrate_schemas", "--shared", "--noinput"],
            env,
            "migrate_schemas --shared",
            timeout=230,
        )
        run_command([PYTHON, MANAGE, "portal_init"], env, "portal_init", timeout=230)
        _elapsed, out = run_command(
            [PYTHON, str(Path(__file__).resolve()), "--worker"],
            env,
            "worker",
            timeout=230,
        )
    finally:
        drop_database(BENCH_DB)
    line = next(ln for ln in reversed(out.splitlines()) if ln.startswith(RESULT_MARKER))
    result: dict[str, Any] = json.loads(line[len(RESULT_MARKER) :])
    p95 = _p95(result["overview_ms"])
    naive_p95_50 = _p95(result["naive_ms"])
    factor = TOTAL_TENANTS / result["real_tenants"]
    naive_p95 = naive_p95_50 * factor
    print(
        f"  {result['tenants']} tenants ({result['real_tenants']} with schemas, "
        f"setup {result['setup_s']}s); overview p95 {p95:.1f} ms, median "
        f"{sorted(result['overview_ms'])[len(result['overview_ms']) // 2]:.1f} ms, "
        f"{result['overview_queries']} queries; naive p95 over "
        f"{result['real_tenants']} schemas {naive_p95_50:.0f} ms "
        f"({result['naive_queries']} queries) → × {factor:g} = {naive_p95:.0f} ms"
    )
    return [
        {
            "name": "overview_p95_1000_tenants",
            "value": round(p95, 1),
            "unit": "ms",
            "baseline": (
                f"naive view opening every tenant schema per request: p95 measured "
                f"over {result['real_tenants']} schemas ({naive_p95_50:.0f} ms), "
                f"extrapolated linearly to {TOTAL_TENANTS}"
            ),
            "baseline_value": round(naive_p95, 1),
            "target": TARGET_MS,
            "higher_is_better": False,
            "meets_target": p95 < TARGET_MS,
        },
        {
            "name": "overview_queries_per_request",
            "value": result["overview_queries"],
            "unit": "queries",
            "baseline": (
                f"naive view: {result['naive_queries']} over "
                f"{result['real_tenants']} schemas, extrapolated to {TOTAL_TENANTS}"
            ),
            "baseline_value": round(result["naive_queries"] * factor),
            "target": QUERY_TARGET,
            "higher_is_better": False,
            "meets_target": result["overview_queries"] <= QUERY_TARGET,
        },
    ]


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        print(RESULT_MARKER + json.dumps(_worker()))
        return 0
    for row in run():
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
