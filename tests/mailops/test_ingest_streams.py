"""Ingestion merged in side-by-side streams (one database connection each).

A run outside any transaction (a Celery worker, ``manage.py ingest_analytics``)
splits every window by message id over ``ANALYTICS_INGEST_MERGE_STREAMS``
connections; inside a caller's transaction (most tests) it keeps to one. These
tests commit for real, so the streams' own connections see the tenant's rows.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Sum
from django_tenants.utils import schema_context

from emulator.simulate import generate
from tests.mailops.test_ingest import _kql, _recipient_totals, _status_counts

pytestmark = [pytest.mark.emulator]


@pytest.fixture
def committed_history(personas, emulator_settings):
    """A day of simulated history for alpha's resource, provisioned and committed."""
    from mailops.models import AcsFootprint
    from mailops.services import footprint
    from tests.mailops.conftest import OWNER_CTX

    emu = emulator_settings
    emu.admin("/delays", "POST", {"send_delay_ms": 0, "delivery_delay_ms": 0})
    with schema_context("alpha"):
        fp = footprint.footprint_request(ctx=OWNER_CTX)
        footprint.footprint_provision(footprint_id=fp.pk)
        rid = AcsFootprint.objects.get().communication_service_id
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    generate(
        str(emu.state_dir / "logs.sqlite3"),
        resource_id=rid,
        days=2,
        per_day=400,
        seed=random.SystemRandom().randrange(1, 2**31),
        now=now,
    )
    return rid, now - timedelta(days=5), now + timedelta(minutes=10)


def _snapshot():
    from mailops.models import DeliveryAggregate, EngagementEvent, MessageRecord

    return (
        sorted(
            MessageRecord.objects.values_list(
                "message_id", "status", "sender_address", "unique_recipients"
            )
        ),
        _recipient_totals(),
        EngagementEvent.objects.count(),
        sorted(
            DeliveryAggregate.objects.values_list("period", "bucket", "status")
            .annotate(n=Sum("count"))
            .values_list("period", "bucket", "status", "n")
        ),
    )


@pytest.mark.django_db(transaction=True)
def test_streams_merge_what_the_emulator_holds(committed_history, settings):
    from billing.models import UsageDay
    from mailops.analytics.ingest import ingest_tenant, merge_streams
    from mailops.models import DeliveryAggregate, EngagementEvent, MessageRecord

    # given: no enclosing transaction, a small row budget (many windows)
    rid, start, end = committed_history
    settings.ANALYTICS_INGEST_MERGE_STREAMS = 2
    settings.ANALYTICS_INGEST_ROW_BUDGET = 300
    expected = _status_counts(rid, start, end)
    ((messages,),) = _kql(
        rid, "ACSEmailSendMailOperational | summarize dcount(CorrelationId)", start, end
    )
    ((engagements,),) = _kql(
        rid, "ACSEmailUserEngagementOperational | count", start, end
    )
    ((emails,),) = _kql(
        rid,
        "ACSEmailSendMailOperational | summarize sum(UniqueRecipientsCount)",
        start,
        end,
    )
    with schema_context("alpha"):
        assert merge_streams() == 2
        # when
        report = ingest_tenant(since=start, until=end, sleep=lambda _s: None)
        # then: every row once, whichever stream merged it
        assert report.skipped == ""
        assert report.tables["ACSEmailStatusUpdateOperational"].windows > 5
        assert _recipient_totals() == expected
        assert MessageRecord.objects.count() == messages
        assert not MessageRecord.objects.filter(status="").exists()
        assert EngagementEvent.objects.count() == engagements
        hours = DeliveryAggregate.objects.filter(period="hour").aggregate(
            n=Sum("count")
        )["n"]
        days = DeliveryAggregate.objects.filter(period="day").aggregate(n=Sum("count"))[
            "n"
        ]
        assert hours == days == sum(expected.values())
        first = _snapshot()
        # when: the same range again, then half of it (every row exists)
        ingest_tenant(since=start, until=end, sleep=lambda _s: None)
        ingest_tenant(since=end - timedelta(days=1), until=end, sleep=lambda _s: None)
        # then: nothing changes
        assert _snapshot() == first
    ledger = UsageDay.objects.filter(tenant__schema_name="alpha").aggregate(
        n=Sum("billable_emails")
    )["n"]
    assert ledger == emails


@pytest.mark.django_db(transaction=True)
def test_streams_merge_windows_of_new_and_known_rows(committed_history, settings):
    """A run over a range partly ingested before: windows that mix new rows with
    rows already stored take the general merge, the others the insert-only one;
    the result equals one run over the whole range on a single connection."""
    from mailops.analytics.ingest import ingest_tenant

    rid, start, end = committed_history
    settings.ANALYTICS_INGEST_ROW_BUDGET = 300
    mid = end - timedelta(hours=20)
    with schema_context("alpha"):
        # given: one connection over the whole range, as the reference
        settings.ANALYTICS_INGEST_MERGE_STREAMS = 1
        ingest_tenant(since=start, until=end, sleep=lambda _s: None)
        reference = _snapshot()
        from mailops.models import (
            DeliveryAggregate,
            EngagementEvent,
            MessageRecord,
            RecipientEvent,
        )

        for model in (
            DeliveryAggregate,
            EngagementEvent,
            MessageRecord,
            RecipientEvent,
        ):
            model.objects.all().delete()
        # when: streams over the first part, then over an overlapping range
        settings.ANALYTICS_INGEST_MERGE_STREAMS = 2
        ingest_tenant(since=start, until=mid, sleep=lambda _s: None)
        ingest_tenant(since=mid - timedelta(hours=6), until=end, sleep=lambda _s: None)
        # then
        assert _snapshot() == reference
        assert _recipient_totals() == _status_counts(rid, start, end)


def test_split_keeps_each_message_in_one_part():
    from mailops.analytics.ingest import _split

    rows = [
        ("2026-01-01T00:00:00Z", f"m{i % 37}", f"r{i}@example.jp") for i in range(500)
    ]
    parts = _split(rows, 3)
    assert sorted(r for p in parts for r in p) == sorted(rows)
    owner = {}
    for n, part in enumerate(parts):
        for row in part:
            assert owner.setdefault(row[1], n) == n
    assert all(parts)
    assert _split(rows, 1) == [rows]


def test_plan_spans_double_and_cover_the_range():
    from mailops.analytics.ingest import FIRST_PLAN_SPAN, _plan_spans

    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = start + timedelta(days=4, minutes=7)
    spans = _plan_spans(start, end)
    assert spans[0] == (start, start + FIRST_PLAN_SPAN)
    assert spans[-1][1] == end
    for (a, b), (c, d) in zip(spans, spans[1:], strict=False):
        assert b == c
        assert d - c <= 2 * (b - a)
    assert len(spans) == 7  # 1+2+4+8+16+32 hours, then the remaining 33 h 7 min
    assert _plan_spans(start, start) == []
