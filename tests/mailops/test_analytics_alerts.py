"""Alert rules: each condition raises once, refreshes, resolves, and mails once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import schema_context

from mailops.analytics import alerts
from tests.conftest import TENANT_A, TENANT_B
from tests.mailops.analytics_data import add_message, clear_analytics, make_credential

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_leftover_rows(personas):
    """Rows committed by transactional tests elsewhere must not skew exact counts."""
    clear_analytics(TENANT_A)
    clear_analytics(TENANT_B)


NOW = timezone.now().replace(minute=30, second=0, microsecond=0)


def _hour_rows(hours_ago: int, counts: dict[str, int], credential_id=None) -> None:
    from mailops.models import DeliveryAggregate

    bucket = NOW.replace(minute=0) - dt.timedelta(hours=hours_ago)
    DeliveryAggregate.objects.bulk_create(
        DeliveryAggregate(
            period="hour",
            bucket=bucket,
            status=status,
            count=n,
            credential_id=credential_id,
        )
        for status, n in counts.items()
    )


def _open() -> list[tuple[str, str, str]]:
    from tenants.models import Alert

    return sorted(
        Alert.objects.filter(tenant__schema_name=TENANT_A)
        .exclude(state="resolved")
        .values_list("kind", "cause_key", "state")
    )


def _run():
    with schema_context(TENANT_A):
        return alerts.alerts_run(now=NOW)


def _footprint(**kwargs):
    from mailops.models import AcsFootprint

    return AcsFootprint.objects.create(
        subscription_id="sub",
        resource_group="rg",
        email_service_name="alpha-email",
        communication_service_name="alpha-acs",
        state=AcsFootprint.State.READY,
        **kwargs,
    )


def test_no_data_no_alerts(personas):
    run = _run()
    assert run.findings == []
    assert _open() == []
    assert mail.outbox == []


def test_bounce_rate_raises_once_mails_once_and_resolves(personas):
    # given: 3% of 200 recipients bounced in the last 24 hours
    with schema_context(TENANT_A):
        _hour_rows(3, {"Delivered": 194, "Bounced": 4, "Failed": 2})
    # when
    first = _run()
    second = _run()
    # then
    assert [(f.kind, f.severity) for f in first.findings] == [
        ("analytics.bounce_rate", "warning")
    ]
    assert len(first.opened) == 1 and second.opened == []
    assert _open() == [("analytics.bounce_rate", "24h", "open")]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["owner@alpha.example"]
    assert "3.0%" in mail.outbox[0].subject
    # when the bounces age out of the window
    with schema_context(TENANT_A):
        from mailops.models import DeliveryAggregate

        DeliveryAggregate.objects.filter(status__in=["Bounced", "Failed"]).delete()
    third = _run()
    # then
    assert third.resolved == 1
    assert _open() == []
    assert len(mail.outbox) == 1


def test_bounce_rate_needs_volume_and_threshold(personas):
    from mailops.models import AnalyticsSettings

    with schema_context(TENANT_A):
        _hour_rows(1, {"Delivered": 21, "Bounced": 9})  # 30%, but only 30 mails
    assert _run().findings == []
    with schema_context(TENANT_A):
        _hour_rows(2, {"Delivered": 300})  # now 330 mails, 3.0%
        AnalyticsSettings.objects.create(bounce_rate_threshold=5)
    assert _run().findings == []
    with schema_context(TENANT_A):
        AnalyticsSettings.objects.update(bounce_rate_threshold=1)
    assert [(f.kind, f.severity) for f in _run().findings] == [
        ("analytics.bounce_rate", "critical")
    ]


def test_failure_spike_against_weekly_average(personas):
    with schema_context(TENANT_A):
        for h in range(2, 7 * 24, 12):  # 14 hours with 3 failures: avg 0.25/h
            _hour_rows(h, {"Failed": 3, "Delivered": 1000})
        _hour_rows(1, {"Failed": 12, "Delivered": 5000})
    kinds = [f.kind for f in _run().findings]
    assert kinds == ["analytics.failure_spike"]
    assert _open() == [("analytics.failure_spike", "hour", "open")]


def test_failure_spike_ignores_small_numbers(personas):
    with schema_context(TENANT_A):
        _hour_rows(0, {"Failed": 9, "Delivered": 5000})
    assert _run().findings == []


def test_silent_device_and_its_recovery(personas):
    with schema_context(TENANT_A):
        device = make_credential("受付 複合機")
        quiet = make_credential("never used")
        _hour_rows(80, {"Delivered": 5}, credential_id=device.pk)
    run = _run()
    assert [(f.kind, f.cause_key) for f in run.findings] == [
        ("analytics.device_silent", f"credential:{device.pk}")
    ]
    assert "受付 複合機" in run.findings[0].title
    assert quiet.pk != device.pk
    with schema_context(TENANT_A):
        _hour_rows(2, {"Delivered": 1}, credential_id=device.pk)
    assert _run().resolved == 1
    assert _open() == []


def test_rate_limit_warning_and_critical(personas):
    with schema_context(TENANT_A):
        _footprint(quota_per_minute=30, quota_per_hour=100)
        base = NOW - dt.timedelta(hours=2)
        for i in range(85):  # 85 in one hour (85% of 100), at most 25 a minute
            add_message(
                f"rl-{i}",
                base + dt.timedelta(minutes=i // 25, seconds=i % 25),
                [{"recipient": f"r{i}@x.jp"}],
            )
    run = _run()
    assert [(f.kind, f.cause_key, f.severity) for f in run.findings] == [
        ("analytics.rate_limit", "minute", "warning"),
        ("analytics.rate_limit", "hour", "warning"),
    ]
    with schema_context(TENANT_A):
        for i in range(20):  # 105 in that hour, 20 in another minute
            add_message(
                f"rl2-{i}",
                base + dt.timedelta(minutes=10),
                [{"recipient": f"s{i}@x.jp"}],
            )
    assert [(f.cause_key, f.severity) for f in _run().findings] == [
        ("minute", "warning"),
        ("hour", "critical"),
    ]


def test_stuck_messages_watchdog(personas, english):
    with schema_context(TENANT_A):
        add_message(
            "stuck-1",
            NOW - dt.timedelta(hours=3),
            [{"recipient": "a@x.jp", "status": "OutForDelivery"}],
        )
        add_message("no-status-2", NOW - dt.timedelta(hours=2), [])
        add_message("fresh-3", NOW - dt.timedelta(minutes=5), [])
    run = _run()
    assert [(f.kind, f.cause_key) for f in run.findings] == [
        ("analytics.stuck", "pending")
    ]
    assert run.findings[0].title.startswith("2 recipients")


def test_no_logs_watchdog_from_event_grid_only_statuses(personas):
    with schema_context(TENANT_A):
        for i in range(5):
            add_message(
                f"eg-{i}",
                NOW - dt.timedelta(hours=3),
                [{"recipient": f"r{i}@x.jp", "source": "eventgrid"}],
            )
    assert [f.kind for f in _run().findings] == ["analytics.no_logs"]


def test_ingestion_stalled_watchdog(personas):
    from mailops.models import IngestWatermark

    with schema_context(TENANT_A):
        _footprint()
        IngestWatermark.objects.create(
            table="ACSEmailStatusUpdateOperational",
            ingested_until=NOW - dt.timedelta(hours=5),
            last_run_at=NOW - dt.timedelta(hours=5),
            last_error="429 Too Many Requests",
        )
        IngestWatermark.objects.create(
            table="ACSEmailSendMailOperational",
            ingested_until=NOW,
            last_run_at=NOW - dt.timedelta(minutes=5),
        )
    run = _run()
    assert [(f.kind, f.cause_key, f.detail) for f in run.findings] == [
        (
            "analytics.ingest_stalled",
            "ACSEmailStatusUpdateOperational",
            "429 Too Many Requests",
        )
    ]


def test_emails_can_be_switched_off(personas):
    from mailops.models import AnalyticsSettings

    with schema_context(TENANT_A):
        AnalyticsSettings.objects.create(alert_emails_enabled=False)
        _hour_rows(1, {"Delivered": 92, "Bounced": 8})
    run = _run()
    assert len(run.opened) == 1 and run.emailed == 0
    assert mail.outbox == []


def test_acknowledged_alert_stays_acknowledged_and_is_not_mailed_again(
    owner_a_client, personas
):
    from tenants.accounts.models import AuditEvent

    with schema_context(TENANT_A):
        _hour_rows(1, {"Delivered": 92, "Bounced": 8})
    alert = _run().opened[0]
    # when
    response = owner_a_client.post(f"/mail/analytics/alerts/{alert.pk}/acknowledge/")
    # then
    assert response.status_code == 302
    assert _open() == [("analytics.bounce_rate", "24h", "acknowledged")]
    with schema_context(TENANT_A):
        event = AuditEvent.objects.get(action="alert.acknowledge")
    assert event.target_id == str(alert.pk)
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None
    assert event.actor_email == "owner@alpha.example"
    # when the rule runs again while the cause persists
    _run()
    assert _open() == [("analytics.bounce_rate", "24h", "acknowledged")]
    assert len(mail.outbox) == 1
    # a second acknowledge is a no-op, a resolved alert is gone (404)
    assert (
        owner_a_client.post(
            f"/mail/analytics/alerts/{alert.pk}/acknowledge/"
        ).status_code
        == 302
    )
    with schema_context(TENANT_A):
        assert AuditEvent.objects.filter(action="alert.acknowledge").count() == 1
        from mailops.models import DeliveryAggregate

        DeliveryAggregate.objects.all().delete()
    _run()
    assert (
        owner_a_client.post(
            f"/mail/analytics/alerts/{alert.pk}/acknowledge/"
        ).status_code
        == 404
    )


def test_alerts_page_lists_open_alerts(owner_a_client, personas):
    with schema_context(TENANT_A):
        _hour_rows(1, {"Delivered": 92, "Bounced": 8})
    _run()
    html = owner_a_client.get("/mail/analytics/alerts/").content.decode()
    assert 'data-alert-kind="analytics.bounce_rate"' in html
    assert "/acknowledge/" in html


def test_settings_are_saved_with_an_audit_row(owner_a_client, personas):
    from mailops.models import AnalyticsSettings
    from tenants.accounts.models import AuditEvent

    data = {
        "bounce_rate_threshold": "1.5",
        "failure_spike_factor": "4",
        "silent_device_hours": "24",
        "quota_warning_percent": "90",
        "stuck_minutes": "30",
    }
    response = owner_a_client.post("/mail/analytics/alerts/settings/", data)
    assert response.status_code == 302
    with schema_context(TENANT_A):
        cfg = AnalyticsSettings.objects.get()
        event = AuditEvent.objects.get(action="analytics.settings_update")
    assert (str(cfg.bounce_rate_threshold), cfg.silent_device_hours) == ("1.50", 24)
    assert cfg.alert_emails_enabled is False  # unchecked box
    assert event.after["bounce_rate_threshold"] == "1.50"
    assert event.before["bounce_rate_threshold"] == "2"


def test_invalid_settings_change_nothing(owner_a_client, personas):
    from mailops.models import AnalyticsSettings

    response = owner_a_client.post(
        "/mail/analytics/alerts/settings/", {"bounce_rate_threshold": "abc"}
    )
    assert response.status_code == 400
    with schema_context(TENANT_A):
        assert AnalyticsSettings.objects.count() == 0


def test_fan_out_task_runs_every_active_tenant(personas):
    from mailops.analytics.tasks import analytics_alerts_all_task

    with schema_context(TENANT_A):
        _hour_rows(1, {"Delivered": 92, "Bounced": 8})
    # when (eager Celery in unit tests)
    count = analytics_alerts_all_task()
    # then
    assert count >= 2
    assert _open() == [("analytics.bounce_rate", "24h", "open")]
    from tenants.models import Alert

    assert not Alert.objects.filter(tenant__schema_name=TENANT_B).exists()
