"""Commands ``ingest_analytics`` and ``eventgrid_url``; retention (``prune``)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context

from emulator.simulate import generate


def test_ingest_analytics_command_for_one_tenant(acs):
    from mailops.models import IngestWatermark, RecipientEvent

    emu, fp = acs
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    generate(
        str(emu.state_dir / "logs.sqlite3"),
        resource_id=fp.communication_service_id,
        days=1,
        per_day=40,
        seed=random.SystemRandom().randrange(1, 2**31),
        now=now,
    )
    out = StringIO()
    since = (now - timedelta(days=3)).isoformat()
    until = (now + timedelta(minutes=5)).isoformat()
    call_command(
        "ingest_analytics", "--tenant", "alpha", "--since", since, "--until", until,
        stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert text.startswith("alpha: ")
    assert "StatusUpdate" in text
    with schema_context("alpha"):
        assert RecipientEvent.objects.count() > 0
        assert IngestWatermark.objects.count() == 3


def test_ingest_analytics_command_all_tenants_skips_those_without_resources(personas):
    out = StringIO()
    call_command("ingest_analytics", stdout=out)
    assert "alpha: skipped (no communication service yet)" in out.getvalue()
    assert "beta: skipped (no communication service yet)" in out.getvalue()


def test_ingest_analytics_command_validates_arguments(personas):
    with pytest.raises(CommandError, match="no tenant"):
        call_command("ingest_analytics", "--tenant", "nope")
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("ingest_analytics", "--since", "yesterday")
    with pytest.raises(CommandError, match="after"):
        call_command(
            "ingest_analytics",
            "--since",
            "2026-11-02T00:00:00Z",
            "--until",
            "2026-11-01T00:00:00Z",
        )


def test_eventgrid_url_command(personas):
    from mailops.analytics.eventgrid import eventgrid_secret_matches

    out = StringIO()
    call_command("eventgrid_url", "--tenant", "alpha", stdout=out)
    url = out.getvalue().strip()
    assert "alpha.localhost" in url
    secret = url.rstrip("/").rsplit("/", 1)[1]
    assert url.endswith(f"/hooks/eventgrid/{secret}/")
    with schema_context("alpha"):
        assert eventgrid_secret_matches(secret)
        assert not eventgrid_secret_matches(secret + "x")
    with schema_context("beta"):
        assert not eventgrid_secret_matches(secret)


def test_prune_keeps_billing_and_recent_rows(personas):
    from billing.models import UsageDay
    from mailops.analytics.ingest import (
        JST,
        detail_cutoff,
        prune,
    )
    from mailops.models import DeliveryAggregate, MessageRecord, RecipientEvent

    now = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    with schema_context("alpha"):
        cutoff = detail_cutoff(now)
    # 90 days back, from the start of that JST day
    assert cutoff == datetime(2026, 9, 1, 0, 0, tzinfo=JST)
    old = cutoff - timedelta(hours=1)
    recent = cutoff + timedelta(hours=1)
    with schema_context("alpha"):
        for i, at in enumerate((old, recent)):
            MessageRecord.objects.create(
                message_id=f"m{i}",
                resource_id="r",
                sent_at=at,
                unique_recipients=2,
                size_mb=Decimal("0.5"),
            )
            RecipientEvent.objects.create(
                message_id=f"m{i}",
                recipient=f"a{i}@gmail.com",
                recipient_domain="gmail.com",
                domain_class="gmail",
                status="Delivered",
                status_at=at,
            )
        ancient = DeliveryAggregate.objects.create(
            period="day",
            bucket=datetime(2025, 9, 30, tzinfo=JST),
            status="Delivered",
            count=7,
        )
        kept = DeliveryAggregate.objects.create(
            period="day",
            bucket=datetime(2025, 11, 1, tzinfo=JST),
            status="Delivered",
            count=8,
        )
    tenant_days_before = UsageDay.objects.filter(tenant=personas.tenant_a).count()
    UsageDay.objects.create(
        tenant=personas.tenant_a,
        day=old.astimezone(JST).date(),
        messages=1,
        billable_emails=2,
        billable_megabytes=Decimal("1"),
    )
    with schema_context("alpha"):
        report = prune(now=now)
        assert report.messages == 1
        assert report.events == 1
        assert report.aggregates == 1
        assert list(MessageRecord.objects.values_list("message_id", flat=True)) == [
            "m1"
        ]
        assert not DeliveryAggregate.objects.filter(pk=ancient.pk).exists()
        assert DeliveryAggregate.objects.filter(pk=kept.pk).exists()
    # the ledger row of the pruned day is untouched
    row = UsageDay.objects.get(tenant=personas.tenant_a, day=old.astimezone(JST).date())
    assert (row.messages, row.billable_emails) == (1, 2)
    assert UsageDay.objects.filter(tenant=personas.tenant_a).count() == (
        tenant_days_before + 1
    )


def test_recompute_never_reaches_before_the_detail_cutoff(personas):
    from billing.models import UsageDay
    from mailops.analytics.ingest import JST, detail_cutoff, recompute_usage

    with schema_context("alpha"):
        cutoff = detail_cutoff()
    day = (cutoff - timedelta(days=2)).date()
    UsageDay.objects.create(
        tenant=personas.tenant_a,
        day=day,
        messages=5,
        billable_emails=9,
        billable_megabytes=Decimal("3"),
    )
    with schema_context("alpha"):
        # no MessageRecord is left for that day (pruned): recompute skips it
        recompute_usage(
            datetime(day.year, day.month, day.day, tzinfo=JST), cutoff + timedelta(1)
        )
    row = UsageDay.objects.get(tenant=personas.tenant_a, day=day)
    assert row.billable_emails == 9
