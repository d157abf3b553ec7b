"""TenantSummary: figures computed from a tenant schema on known data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from billing.models import FxRate, IssuerSettings, RateType, UsageDay
from mailops.models import (
    AcsFootprint,
    CredentialSecret,
    DeliveryAggregate,
    MessageRecord,
    SenderAddress,
    SendingDomain,
    SmtpCredential,
)
from tenants.alerts import alert_raise, alert_resolve
from tenants.models import TenantSummary
from tenants.summaries import summary_refresh
from tenants.tasks import summaries_refresh_all_task, summaries_refresh_task

# 12:00 JST on the 15th of a 30-day month: month-to-date usage × 2 projects the month.
NOW = dt.datetime(2026, 11, 15, 3, 0, tzinfo=dt.UTC)


def _credential(domain, sender, n: int, expiries: list[dt.timedelta | None]):
    cred = SmtpCredential.objects.create(
        label=f"MFP {n}",
        sender_domain=domain,
        sender=sender,
        username=f"mfp{n}",
        smtp_username_resource=f"mfp{n}",
        state=SmtpCredential.State.ACTIVE,
    )
    for i, delta in enumerate(expiries):
        CredentialSecret.objects.create(
            credential=cred,
            key_id=f"key-{n}-{i}",
            expires_at=NOW + (delta or dt.timedelta(days=1)),
            state=(
                CredentialSecret.State.REVOKED
                if delta is None
                else CredentialSecret.State.ACTIVE
            ),
        )
    return cred


def _hour(hours_ago: int, status: str, count: int, domain: str = "alpha.example"):
    bucket = NOW.replace(minute=0) - dt.timedelta(hours=hours_ago)
    DeliveryAggregate.objects.create(
        period=DeliveryAggregate.Period.HOUR,
        bucket=bucket,
        sender_domain=domain,
        status=status,
        count=count,
    )


@pytest.fixture
def alpha_data(personas):
    with schema_context(personas.tenant_a.schema_name):
        AcsFootprint.objects.create(
            subscription_id="sub",
            resource_group="rg",
            email_service_name="es",
            communication_service_name="cs",
            state=AcsFootprint.State.READY,
            quota_per_minute=30,
            quota_per_hour=100,
        )
        ok = SendingDomain.objects.create(
            name="alpha.example",
            display_name="alpha.example",
            state=SendingDomain.State.VERIFIED,
            dns_ok=True,
        )
        SendingDomain.objects.create(
            name="mail.alpha.example",
            display_name="mail.alpha.example",
            state=SendingDomain.State.VERIFIED,
            dns_ok=False,
        )
        SendingDomain.objects.create(
            name="new.alpha.example",
            display_name="new.alpha.example",
            state=SendingDomain.State.CREATED,
        )
        sender = SenderAddress.objects.create(
            domain=ok, username="scan", state=SenderAddress.State.ACTIVE
        )
        days = dt.timedelta
        _credential(ok, sender, 1, [days(days=5)])  # within 7 (and 30, 60)
        _credential(ok, sender, 2, [days(days=20)])  # within 30 and 60
        # rotated: the newest live secret (45 d) counts, not the old one (2 d)
        _credential(ok, sender, 3, [days(days=2), days(days=45)])
        _credential(ok, sender, 4, [days(days=90)])  # not expiring
        _credential(ok, sender, 5, [-days(days=1)])  # expired
        _credential(ok, sender, 6, [None])  # only a revoked secret: not live
        # 24 h: 90 delivered + 10 bounced in the hour before; older: 250 + 50 failed
        _hour(1, "Delivered", 90)
        _hour(1, "Bounced", 10)
        _hour(2, "Delivered", 40)
        _hour(24, "Delivered", 999)  # 24 hours ago: outside the 24-hour window
        _hour(72, "Delivered", 150)
        _hour(72, "Failed", 50)
        _hour(24 * 8, "Delivered", 5000)  # older than 7 days: ignored
        for i, second in enumerate((1, 20, 40, 59)):
            MessageRecord.objects.create(
                message_id=f"m{i}",
                resource_id="r",
                sent_at=NOW.replace(minute=10, second=second) - dt.timedelta(hours=1),
            )
        MessageRecord.objects.create(
            message_id="m-other", resource_id="r", sent_at=NOW - dt.timedelta(hours=5)
        )
    UsageDay.objects.create(
        tenant=personas.tenant_a,
        day=dt.date(2026, 11, 1),
        billable_emails=1000,
        billable_megabytes=Decimal("10"),
    )
    UsageDay.objects.create(  # last month: not part of this month's projection
        tenant=personas.tenant_a,
        day=dt.date(2026, 10, 31),
        billable_emails=7777,
        billable_megabytes=Decimal("1"),
    )
    IssuerSettings.objects.all().delete()
    return personas


def test_summary_figures_on_known_data(alpha_data):
    # when
    summary = summary_refresh(alpha_data.tenant_a, now=NOW)
    # then
    row = TenantSummary.objects.get(tenant=alpha_data.tenant_a)
    assert row.pk == summary.pk
    assert (row.domains_total, row.domains_verified, row.domains_dns_broken) == (
        3,
        2,
        1,
    )
    assert row.credentials_active == 5
    assert (
        row.credentials_expiring_60,
        row.credentials_expiring_30,
        row.credentials_expiring_7,
        row.credentials_expired,
    ) == (3, 2, 1, 1)
    assert row.volume_24h == 140
    assert row.volume_7d == 140 + 999 + 200
    assert row.failed_7d == 60
    assert row.bounce_rate == Decimal("4.48")  # 60 / 1339
    assert row.peak_per_hour == 999
    assert row.peak_per_minute == 4
    assert (row.quota_tier, row.quota_per_minute, row.quota_per_hour) == (
        "default",
        30,
        100,
    )
    assert row.peak_hour_percent == 999
    assert row.provisioning_state == "ready"
    assert row.open_alerts == 0
    # fallback: 2,000 emails × $0.00025 + 20 MB × $0.00012 = $0.5024 × ¥150 → ¥75
    assert row.charge_basis == TenantSummary.ChargeBasis.FALLBACK
    assert row.projected_charge_jpy == 75
    assert row.refreshed_at == NOW


def test_summary_uses_billing_price_book_when_complete(alpha_data, settings):
    # given: issuer settings and a TTM rate for the previous month's last business day
    from billing.services.close import compute_invoice

    issuer = IssuerSettings.objects.create(
        name="MSP", registration_number="T1234567890123"
    )
    FxRate.objects.create(
        date=dt.date(2026, 10, 30),
        rate=Decimal("150.00"),
        rate_type=RateType.TTM,
        source="test",
    )
    # when
    row = summary_refresh(alpha_data.tenant_a, now=NOW)
    # then: billing's own computation of the projected usage (2,000 emails, 20 MB)
    expected = compute_invoice(
        tenant=alpha_data.tenant_a,
        period=dt.date(2026, 11, 1),
        issuer=issuer,
        days=[(dt.date(2026, 11, 15), 2000, Decimal("20.000000"))],
    ).total_jpy
    assert row.charge_basis == TenantSummary.ChargeBasis.PRICE_BOOK
    assert row.projected_charge_jpy == expected


def test_summary_reads_tenant_schema_once_and_upserts(alpha_data, monkeypatch):
    # given: a first refresh, and a counter around the schema switch
    from tenants import summaries

    summary_refresh(alpha_data.tenant_a, now=NOW)
    opened: list[str] = []
    real = summaries.schema_context

    def counting(schema_name):
        opened.append(schema_name)
        return real(schema_name)

    monkeypatch.setattr(summaries, "schema_context", counting)
    # when: a second refresh
    with CaptureQueriesContext(connection) as ctx:
        summary_refresh(alpha_data.tenant_a, now=NOW)
    # then: one row; the schema was opened once, for five aggregate reads
    assert TenantSummary.objects.filter(tenant=alpha_data.tenant_a).count() == 1
    assert opened == ["alpha"]
    in_tenant = [
        q
        for q in ctx.captured_queries
        if q["sql"].startswith('SET search_path = "alpha"')
    ]
    assert len(in_tenant) == 5


def test_empty_tenant_summary(personas):
    row = summary_refresh(personas.tenant_b, now=NOW)
    assert (row.domains_total, row.volume_7d, row.peak_per_hour) == (0, 0, 0)
    assert row.bounce_rate is None
    assert row.provisioning_state == ""
    assert row.quota_per_hour is None
    assert row.peak_hour_percent is None


def test_alert_changes_refresh_open_alert_count(personas):
    # given
    summary_refresh(personas.tenant_a, now=NOW)
    # when: two causes raised, one of them twice
    with schema_context(personas.tenant_a.schema_name):
        alert_raise(
            kind="dns.drift", cause_key="a.example", severity="warning", title="x"
        )
        alert_raise(
            kind="dns.drift", cause_key="a.example", severity="warning", title="y"
        )
        alert_raise(kind="secret.expiring", cause_key="k1", severity="info", title="z")
    # then
    assert TenantSummary.objects.get(tenant=personas.tenant_a).open_alerts == 2
    # when: one resolves
    with schema_context(personas.tenant_a.schema_name):
        assert alert_resolve(kind="dns.drift", cause_key="a.example") == 1
    # then
    assert TenantSummary.objects.get(tenant=personas.tenant_a).open_alerts == 1


def test_refresh_tasks(personas, settings):
    # given: eager Celery (unit test); the fan-out queues one task per active tenant
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # when
    count = summaries_refresh_all_task()
    # then
    assert count >= 2
    assert (
        TenantSummary.objects.filter(
            tenant__in=[personas.tenant_a, personas.tenant_b]
        ).count()
        == 2
    )
    with schema_context(personas.tenant_b.schema_name):
        pk = summaries_refresh_task()
    assert TenantSummary.objects.get(pk=pk).tenant_id == personas.tenant_b.pk
