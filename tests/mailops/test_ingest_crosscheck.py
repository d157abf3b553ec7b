"""Ingestion cross-checks its counts against Azure Monitor metrics (emulator)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_tenants.utils import schema_context

from tests.mailops.test_ingest import history  # noqa: F401 (fixture)

MISMATCH = "analytics.metrics_mismatch"


def _ingest(now):
    from mailops.analytics.ingest import ingest_tenant

    return ingest_tenant(now=now, sleep=lambda _s: None)


def _open_alerts():
    from tenants.models import Alert

    return list(Alert.objects.filter(kind=MISMATCH).exclude(state=Alert.State.RESOLVED))


@pytest.fixture
def no_lag(settings):
    settings.ANALYTICS_INGEST_LAG_SECONDS = 0


def test_counts_that_agree_raise_nothing(history, no_lag):  # noqa: F811
    emu, fp, now, _counts = history
    with schema_context("alpha"):
        report = _ingest(now + timedelta(hours=1))
        check = report.cross_check
        assert check is not None
        assert check.end <= now + timedelta(minutes=30)
        assert check.metric > 0
        assert check.ingested == check.metric
        assert not check.mismatch
        assert _open_alerts() == []


def test_log_rows_lost_raise_a_telemetry_warning_that_clears(history, no_lag):  # noqa: F811
    emu, fp, now, _counts = history
    # given: Log Analytics misses every third record; the metric still counts it
    emu.admin("/logstore", "POST", {"drop_every": 3})
    try:
        with schema_context("alpha"):
            report = _ingest(now + timedelta(hours=1))
            check = report.cross_check
            assert check.mismatch
            assert check.ingested < check.metric
            (alert,) = _open_alerts()
            assert alert.severity == "warning"
            assert str(check.metric) in alert.detail
            assert str(check.ingested) in alert.detail
            # a second run refreshes the same alert, never a duplicate
            _ingest(now + timedelta(hours=1))
            assert len(_open_alerts()) == 1
    finally:
        emu.admin("/logstore", "POST", {"drop_every": 0})
    # when: the records are back (a re-read of the whole range picks them up)
    with schema_context("alpha"):
        from mailops.models import IngestWatermark

        IngestWatermark.objects.all().delete()
        report = _ingest(now + timedelta(hours=1))
        # then
        assert not report.cross_check.mismatch
        assert _open_alerts() == []


def test_metrics_errors_skip_the_check(history, no_lag):  # noqa: F811
    emu, fp, now, _counts = history
    emu.admin("/faults", "POST", {"endpoint": "metrics", "kind": "500", "count": 10})
    try:
        with schema_context("alpha"):
            report = _ingest(now + timedelta(hours=1))
            assert report.cross_check is None
            assert report.tables["ACSEmailStatusUpdateOperational"].rows > 0
    finally:
        emu.admin("/faults", "DELETE")
