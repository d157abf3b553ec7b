"""Log Analytics ingestion against the emulator (real SDK over HTTPS, no patching).

History is generated into the running emulator's log store with
``emulator.simulate.generate`` (through SQLite's WAL), then compared with what a
direct KQL count over the same resource says.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django_tenants.utils import schema_context

from emulator.simulate import generate

START = datetime(2026, 1, 1, tzinfo=UTC)


def _simulate(emu, rid: str, *, now: datetime, days: int, per_day: int, seed: int):
    return generate(
        str(emu.state_dir / "logs.sqlite3"),
        resource_id=rid,
        days=days,
        per_day=per_day,
        seed=seed,
        now=now,
    )


def _kql(rid: str, query: str, start: datetime, end: datetime):
    from portal.integrations.azure import client

    return client.logs_query(resource_id=rid, query=query, start=start, end=end).rows


def _status_counts(rid: str, start: datetime, end: datetime) -> dict[str, int]:
    """The emulator's own count: latest status per (message, recipient)."""
    rows = _kql(
        rid,
        "ACSEmailStatusUpdateOperational | where isnotempty(RecipientId) "
        "| summarize arg_max(TimeGenerated, DeliveryStatus) by CorrelationId, "
        "RecipientId | summarize n = count() by DeliveryStatus",
        start,
        end,
    )
    return {status: int(n) for status, n in rows}


@pytest.fixture
def history(acs):
    """Two days of simulated history for alpha's resource, ending an hour ago."""
    emu, fp = acs
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    # Unique per test: the same seed and `now` twice would append identical rows
    # (same message ids) to the shared emulator.
    seed = random.SystemRandom().randrange(1, 2**31)
    counts = _simulate(
        emu, fp.communication_service_id, now=now, days=2, per_day=150, seed=seed
    )
    return emu, fp, now, counts


def _ingest(**kwargs):
    from mailops.analytics.ingest import ingest_tenant

    return ingest_tenant(sleep=lambda _s: None, **kwargs)


def _recipient_totals() -> dict[str, int]:
    from mailops.models import RecipientEvent

    out: dict[str, int] = {}
    for status in RecipientEvent.objects.values_list("status", flat=True):
        out[status] = out.get(status, 0) + 1
    return out


def _window(now: datetime) -> tuple[datetime, datetime]:
    # Ends well before the real clock: other tests of the session send bursts on
    # the same emulated resource at real time, which must not land in these windows
    # (a burst denser than the service row limit within MIN_WINDOW cannot be split).
    return now - timedelta(days=5), now + timedelta(minutes=10)


def test_totals_equal_the_emulator_counts(history, settings):
    from mailops.models import (
        DeliveryAggregate,
        EngagementEvent,
        IngestWatermark,
        MessageRecord,
    )

    # given
    emu, fp, now, counts = history
    rid = fp.communication_service_id
    start, end = _window(now)
    expected = _status_counts(rid, start, end)
    ((messages,),) = _kql(
        rid, "ACSEmailSendMailOperational | summarize dcount(CorrelationId)", start, end
    )
    ((engagements,),) = _kql(
        rid, "ACSEmailUserEngagementOperational | count", start, end
    )
    # when
    with schema_context("alpha"):
        report = _ingest(since=start, until=end)
        # then
        assert report.skipped == ""
        assert _recipient_totals() == expected
        assert MessageRecord.objects.count() == messages
        assert EngagementEvent.objects.count() == engagements
        hours = dict(
            DeliveryAggregate.objects.filter(period="hour")
            .values_list("status")
            .annotate(n=Sum("count"))
        )
        days = dict(
            DeliveryAggregate.objects.filter(period="day")
            .values_list("status")
            .annotate(n=Sum("count"))
        )
        assert hours == expected
        assert days == expected
        assert IngestWatermark.objects.count() == 3
        assert MessageRecord.objects.filter(sender_address="").count() == 0


def test_running_twice_changes_nothing(history):
    from mailops.models import DeliveryAggregate, MessageRecord, RecipientEvent

    emu, fp, now, _counts = history
    start, end = _window(now)
    with schema_context("alpha"):
        _ingest(since=start, until=end)
        first = (
            MessageRecord.objects.count(),
            sorted(RecipientEvent.objects.values_list("message_id", "status")),
            sorted(
                DeliveryAggregate.objects.values_list("period", "bucket", "status")
                .annotate(n=Sum("count"))
                .values_list("period", "bucket", "status", "n")
            ),
        )
        # when: the same range again, then an overlapping one
        _ingest(since=start, until=end)
        _ingest(since=now - timedelta(days=1), until=end)
        # then
        again = (
            MessageRecord.objects.count(),
            sorted(RecipientEvent.objects.values_list("message_id", "status")),
            sorted(
                DeliveryAggregate.objects.values_list("period", "bucket", "status")
                .annotate(n=Sum("count"))
                .values_list("period", "bucket", "status", "n")
            ),
        )
        assert again == first


def test_usage_ledger_counts_per_recipient(history):
    from billing.models import UsageDay
    from mailops.analytics.ingest import JST
    from mailops.models import MessageRecord

    emu, fp, now, _counts = history
    rid = fp.communication_service_id
    start, end = _window(now)
    rows = _kql(
        rid,
        "ACSEmailSendMailOperational | project t = tostring(TimeGenerated), "
        "Size, UniqueRecipientsCount",
        start,
        end,
    )
    expected: dict = {}
    for t, size, uniq in rows:
        day = datetime.fromisoformat(t.replace("Z", "+00:00")).astimezone(JST).date()
        e = expected.setdefault(day, [0, 0, Decimal(0)])
        e[0] += 1
        e[1] += uniq
        # Size is stored with 6 decimals (MessageRecord.size_mb).
        e[2] += Decimal(repr(size)).quantize(Decimal("0.000001")) * uniq
    with schema_context("alpha"):
        _ingest(since=start, until=end)
        _ingest(since=start, until=end)  # reproducible
        assert MessageRecord.objects.count() == len(rows)
    ledger = {
        u.day: [u.messages, u.billable_emails, u.billable_megabytes]
        for u in UsageDay.objects.filter(tenant__schema_name="alpha")
    }
    assert ledger == expected
    # Per recipient: more billable emails than messages (some have 2+ recipients).
    assert sum(v[1] for v in ledger.values()) > sum(v[0] for v in ledger.values())


def test_watermark_resumes_with_overlap(history, settings):
    from mailops.models import IngestWatermark, RecipientEvent

    emu, fp, now, _counts = history
    rid = fp.communication_service_id
    start, end = _window(now)
    expected = _status_counts(rid, start, end)
    settings.ANALYTICS_INGEST_LAG_SECONDS = 0
    with schema_context("alpha"):
        # first run: no watermark -> detail retention back; stop an hour early
        _ingest(now=end, until=now - timedelta(hours=6))
        partial = RecipientEvent.objects.count()
        marks = set(IngestWatermark.objects.values_list("ingested_until", flat=True))
        assert marks == {now - timedelta(hours=6)}
        # second run resumes at the watermark minus the overlap
        report = _ingest(now=end)
        assert report.tables["ACSEmailStatusUpdateOperational"].start == (
            now - timedelta(hours=6, minutes=30)
        )
        assert _recipient_totals() == expected
        assert RecipientEvent.objects.count() > partial


def test_late_row_is_counted_once(history):
    from mailops.models import DeliveryAggregate, MessageRecord, RecipientEvent

    emu, fp, now, _counts = history
    rid = fp.communication_service_id
    start, end = _window(now)
    with schema_context("alpha"):
        _ingest(since=start, until=end)
        before = RecipientEvent.objects.count()
    # given: a message whose rows reach Log Analytics late (older TimeGenerated)
    late_now = now - timedelta(hours=3)
    _simulate(
        emu, rid, now=late_now, days=1, per_day=1,
        seed=random.SystemRandom().randrange(1, 2**31),
    )  # fmt: skip
    ((late_rcpts,),) = _kql(
        rid,
        "ACSEmailStatusUpdateOperational | where isnotempty(RecipientId) "
        "| summarize dcount(strcat(CorrelationId, RecipientId))",
        start,
        end,
    )
    with schema_context("alpha"):
        # when: the overlapping re-run and another one
        _ingest(since=now - timedelta(days=2), until=end)
        _ingest(since=start, until=end)
        # then
        assert RecipientEvent.objects.count() == late_rcpts
        assert RecipientEvent.objects.count() > before
        total = DeliveryAggregate.objects.filter(period="hour").aggregate(
            n=Sum("count")
        )["n"]
        assert total == late_rcpts
        assert MessageRecord.objects.filter(unique_recipients=0).count() == 0


def test_truncated_results_split_the_window(history, settings):
    emu, fp, now, _counts = history
    rid = fp.communication_service_id
    start, end = _window(now)
    expected = _status_counts(rid, start, end)
    # The planner would avoid truncation; a large budget forces the service limit
    # (lowered to 40 rows) to truncate and the window to be split.
    settings.ANALYTICS_INGEST_ROW_BUDGET = 10_000
    emu.admin("/logstore", "POST", {"max_rows": 40})
    try:
        with schema_context("alpha"):
            report = _ingest(since=start, until=end)
            assert report.tables["ACSEmailStatusUpdateOperational"].splits > 0
            assert _recipient_totals() == expected
    finally:
        emu.admin("/logstore", "POST", {"max_rows": 500_000})


def test_small_row_budget_plans_many_windows(history, settings):
    emu, fp, now, _counts = history
    rid = fp.communication_service_id
    start, end = _window(now)
    expected = _status_counts(rid, start, end)
    settings.ANALYTICS_INGEST_ROW_BUDGET = 25
    with schema_context("alpha"):
        report = _ingest(since=start, until=end)
        status = report.tables["ACSEmailStatusUpdateOperational"]
        assert status.windows > 10
        assert status.splits == 0
        assert _recipient_totals() == expected


@pytest.mark.parametrize("kind", ["429", "503"])
def test_throttling_and_server_errors_are_retried(history, kind):
    emu, fp, now, _counts = history
    rid = fp.communication_service_id
    start, end = _window(now)
    expected = _status_counts(rid, start, end)
    emu.admin("/faults", "POST", {"endpoint": "logs", "kind": kind, "count": 2})
    sleeps: list[float] = []
    from mailops.analytics.ingest import ingest_tenant

    with schema_context("alpha"):
        report = ingest_tenant(since=start, until=end, sleep=sleeps.append)
        assert sum(t.retries for t in report.tables.values()) == 2
        assert len(sleeps) == 2
        assert _recipient_totals() == expected


def test_persistent_errors_give_up_and_keep_the_watermark(history, settings):
    from mailops.analytics.ingest import MAX_ATTEMPTS
    from mailops.models import IngestWatermark
    from portal.integrations.azure.errors import AzureError

    emu, fp, now, _counts = history
    emu.admin(
        "/faults", "POST", {"endpoint": "logs", "kind": "500", "count": MAX_ATTEMPTS}
    )
    try:
        with schema_context("alpha"):
            with pytest.raises(AzureError):
                _ingest(until=now)
            mark = IngestWatermark.objects.get(table="ACSEmailSendMailOperational")
            assert mark.last_error != ""
            assert IngestWatermark.objects.count() == 1
    finally:
        emu.admin("/faults", "DELETE")


def test_no_footprint_is_skipped(personas):
    with schema_context("beta"):
        report = _ingest()
    assert report.skipped == "no communication service yet"
    assert report.tables == {}


@pytest.mark.parametrize(
    ("domain", "klass"),
    [
        ("docomo.ne.jp", "docomo"),
        ("ezweb.ne.jp", "au"),
        ("au.com", "au"),
        ("biz.ezweb.ne.jp", "au"),
        ("softbank.ne.jp", "softbank"),
        ("i.softbank.jp", "softbank"),
        ("d.vodafone.ne.jp", "softbank"),
        ("gmail.com", "gmail"),
        ("GoogleMail.com", "gmail"),
        ("outlook.jp", "outlook"),
        ("hotmail.co.jp", "outlook"),
        ("live.jp", "outlook"),
        ("msn.com", "outlook"),
        ("yahoo.co.jp", "yahoo_jp"),
        ("ymail.ne.jp", "yahoo_jp"),
        ("yahoo.com", "other"),
        ("notdocomo.ne.jp", "other"),
        ("example.co.jp", "other"),
    ],
)
def test_classify_domain(domain, klass):
    from mailops.analytics.ingest import classify_domain

    assert classify_domain(domain) == klass


def test_sql_and_python_classification_agree(history):
    from mailops.analytics.ingest import classify_domain
    from mailops.models import RecipientEvent

    emu, fp, now, _counts = history
    start, end = _window(now)
    with schema_context("alpha"):
        _ingest(since=start, until=end)
        pairs = set(
            RecipientEvent.objects.values_list("recipient_domain", "domain_class")
        )
    assert len(pairs) >= 10
    assert all(classify_domain(d) == k for d, k in pairs)
