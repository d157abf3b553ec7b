"""Delivery alert rules for the current tenant schema.

``evaluate_alerts()`` reads the analytics tables and returns the conditions that
hold now; ``alerts_run()`` raises each one through ``tenants.alerts.alert_raise``
(one open alert per cause, refreshed rather than duplicated), resolves the
tenant's analytics alerts whose condition has cleared, and emails owners and
admins once per newly opened alert. Thresholds come from ``AnalyticsSettings``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection
from django.db.models import Count, Exists, Max, OuterRef, Sum
from django.db.models.functions import TruncHour, TruncMinute
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from mailops.analytics import selectors
from mailops.models import (
    AcsFootprint,
    AnalyticsSettings,
    DeliveryAggregate,
    IngestWatermark,
    MessageRecord,
    RecipientEvent,
    SmtpCredential,
)
from portal.integrations.azure.errors import AzureError
from tenants.alerts import alert_raise, alert_resolve
from tenants.models import Alert

if TYPE_CHECKING:
    from mailops.analytics.ingest import CrossCheck

logger = logging.getLogger(__name__)

BOUNCE_RATE = "analytics.bounce_rate"
FAILURE_SPIKE = "analytics.failure_spike"
DEVICE_SILENT = "analytics.device_silent"
RATE_LIMIT = "analytics.rate_limit"
STUCK = "analytics.stuck"
NO_LOGS = "analytics.no_logs"
INGEST_STALLED = "analytics.ingest_stalled"
# Raised and cleared by ingestion (it needs Azure Monitor, which evaluate_alerts
# never calls), so it is not among the KINDS that alerts_run resolves.
METRICS_MISMATCH = "analytics.metrics_mismatch"
KINDS = (
    BOUNCE_RATE,
    FAILURE_SPIKE,
    DEVICE_SILENT,
    RATE_LIMIT,
    STUCK,
    NO_LOGS,
    INGEST_STALLED,
)

# Below these volumes a rate says nothing (2 bounces of 10 mails is not 20%).
BOUNCE_MIN_VOLUME = 50
SPIKE_MIN_FAILURES = 10
# Devices that sent within this window can fall silent; older ones already have.
SILENT_LOOKBACK = dt.timedelta(days=30)
# Log Analytics usually lags a few minutes; an hour without the log row of an
# Event Grid status means the diagnostic setting or workspace is gone.
LOG_GRACE = dt.timedelta(minutes=60)
NO_LOGS_MIN_EVENTS = 5
INGEST_STALE = dt.timedelta(hours=2)
PENDING_STATUSES = ("OutForDelivery", "outfordelivery", "OUTFORDELIVERY")


@dataclass(frozen=True)
class Finding:
    """A condition that holds now; ``cause_key`` identifies it within its kind."""

    kind: str
    cause_key: str
    severity: str
    title: str
    detail: str = ""


@dataclass
class AlertRun:
    findings: list[Finding] = field(default_factory=list)
    opened: list[Alert] = field(default_factory=list)
    resolved: int = 0
    emailed: int = 0


def _hour_floor(moment: dt.datetime) -> dt.datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _pct(value: float) -> str:
    return f"{value:.1f}%"


def _hour_counts(start: dt.datetime, end: dt.datetime) -> selectors.Counts:
    counts = selectors.Counts()
    for row in (
        DeliveryAggregate.objects.filter(
            period=DeliveryAggregate.Period.HOUR, bucket__gte=start, bucket__lt=end
        )
        .values("status")
        .annotate(n=Sum("count"))
    ):
        counts.add(row["status"], row["n"])
    return counts


def _bounce_rate(cfg: AnalyticsSettings, now: dt.datetime) -> list[Finding]:
    counts = _hour_counts(now - dt.timedelta(hours=24), now + dt.timedelta(hours=1))
    if counts.sent < BOUNCE_MIN_VOLUME or counts.failure_rate is None:
        return []
    threshold = float(Decimal(cfg.bounce_rate_threshold))
    rate = counts.failure_rate
    if rate <= threshold:
        return []
    return [
        Finding(
            BOUNCE_RATE,
            "24h",
            Alert.Severity.CRITICAL
            if rate >= 2 * threshold
            else Alert.Severity.WARNING,
            _("Bounce rate %(rate)s over the last 24 hours (limit %(limit)s)")
            % {"rate": _pct(rate), "limit": _pct(threshold)},
            _(
                "%(failed)d of %(sent)d recipients were not delivered. Microsoft "
                "expects under 2%% for quota increases; open the dashboard to see "
                "the causes by recipient domain."
            )
            % {"failed": counts.failed_total, "sent": counts.sent},
        )
    ]


def _failure_spike(cfg: AnalyticsSettings, now: dt.datetime) -> list[Finding]:
    hour = _hour_floor(now)
    recent = max(
        _hour_counts(hour - dt.timedelta(hours=1), hour).failed_total,
        _hour_counts(hour, hour + dt.timedelta(hours=1)).failed_total,
    )
    if recent < SPIKE_MIN_FAILURES:
        return []
    week = _hour_counts(
        hour - dt.timedelta(days=7, hours=1), hour - dt.timedelta(hours=1)
    )
    average = week.failed_total / (7 * 24)
    factor = float(Decimal(cfg.failure_spike_factor))
    if recent <= average * factor:
        return []
    return [
        Finding(
            FAILURE_SPIKE,
            "hour",
            Alert.Severity.WARNING,
            _("Failures spiked: %(n)d in the last hour") % {"n": recent},
            _(
                "The 7-day average is %(avg).1f failures per hour; the alert fires "
                "above %(factor).1f times that."
            )
            % {"avg": average, "factor": factor},
        )
    ]


def _silent_devices(cfg: AnalyticsSettings, now: dt.datetime) -> list[Finding]:
    last_seen = selectors.last_activity_by_device(now - SILENT_LOOKBACK)
    limit = dt.timedelta(hours=cfg.silent_device_hours)
    findings = []
    for credential in SmtpCredential.objects.filter(
        state=SmtpCredential.State.ACTIVE
    ).order_by("pk"):
        seen = [t for t in (last_seen.get(credential.pk), credential.last_used_at) if t]
        if not seen:
            continue
        last = max(seen)
        # An hour bucket covers up to its end.
        if now - (last + dt.timedelta(hours=1)) <= limit:
            continue
        findings.append(
            Finding(
                DEVICE_SILENT,
                f"credential:{credential.pk}",
                Alert.Severity.WARNING,
                _("%(device)s has not sent mail for %(hours)d hours")
                % {"device": credential.label, "hours": cfg.silent_device_hours},
                _(
                    "Last mail at %(last)s. Check that the device is on and that "
                    "its SMTP password has not been changed or expired."
                )
                % {
                    "last": timezone.localtime(last, selectors.JST).strftime(
                        "%Y-%m-%d %H:%M"
                    )
                },
            )
        )
    return findings


def _rate_limit(cfg: AnalyticsSettings, now: dt.datetime) -> list[Finding]:
    footprint = AcsFootprint.objects.order_by("pk").first()
    if footprint is None:
        return []
    since = now - dt.timedelta(hours=24)
    recent = MessageRecord.objects.filter(sent_at__gte=since, sent_at__lte=now)
    findings = []
    for cause, trunc, quota, unit in (
        ("minute", TruncMinute, footprint.quota_per_minute, _("per minute")),
        ("hour", TruncHour, footprint.quota_per_hour, _("per hour")),
    ):
        if not quota:
            continue
        peak = (
            recent.annotate(slot=trunc("sent_at"))
            .values("slot")
            .annotate(n=Count("pk"))
            .aggregate(peak=Max("n"))["peak"]
            or 0
        )
        if peak * 100 < quota * cfg.quota_warning_percent:
            continue
        findings.append(
            Finding(
                RATE_LIMIT,
                cause,
                Alert.Severity.CRITICAL if peak >= quota else Alert.Severity.WARNING,
                _("Sending peaked at %(peak)d of %(quota)d messages %(unit)s")
                % {"peak": peak, "quota": quota, "unit": unit},
                _(
                    "Azure refuses mail above the resource's limit (HTTP 429). Spread "
                    "sends over time or ask your MSP to request a higher quota."
                ),
            )
        )
    return findings


def _stuck(cfg: AnalyticsSettings, now: dt.datetime) -> list[Finding]:
    cutoff = now - dt.timedelta(minutes=cfg.stuck_minutes)
    pending = RecipientEvent.objects.filter(
        status__in=PENDING_STATUSES,
        status_at__lt=cutoff,
        status_at__gte=now - dt.timedelta(days=7),
    ).count()
    silent = (
        MessageRecord.objects.filter(
            sent_at__gte=now - dt.timedelta(hours=24), sent_at__lt=cutoff
        )
        .exclude(
            Exists(RecipientEvent.objects.filter(message_id=OuterRef("message_id")))
        )
        .count()
    )
    total = pending + silent
    if not total:
        return []
    return [
        Finding(
            STUCK,
            "pending",
            Alert.Severity.WARNING,
            _("%(n)d recipients have had no final status for over %(m)d minutes")
            % {"n": total, "m": cfg.stuck_minutes},
            _(
                "%(pending)d are still out for delivery and %(silent)d messages have "
                "no recipient status at all. Delivery logs or Event Grid events may "
                "not be arriving."
            )
            % {"pending": pending, "silent": silent},
        )
    ]


def _telemetry(now: dt.datetime) -> list[Finding]:
    findings = []
    orphans = RecipientEvent.objects.filter(
        source="eventgrid",
        status_at__gte=now - dt.timedelta(hours=24),
        status_at__lt=now - LOG_GRACE,
    ).count()
    if orphans >= NO_LOGS_MIN_EVENTS:
        findings.append(
            Finding(
                NO_LOGS,
                "logs",
                Alert.Severity.CRITICAL,
                _("Delivery logs are not arriving from Azure Monitor"),
                _(
                    "%(n)d delivery events came from Event Grid over an hour ago "
                    "without the matching Log Analytics rows. Check the diagnostic "
                    "setting of the Communication Service and its workspace."
                )
                % {"n": orphans},
            )
        )
    if AcsFootprint.objects.filter(state=AcsFootprint.State.READY).exists():
        for mark in IngestWatermark.objects.filter(
            last_run_at__lt=now - INGEST_STALE
        ).order_by("table"):
            findings.append(
                Finding(
                    INGEST_STALLED,
                    mark.table,
                    Alert.Severity.WARNING,
                    _("Delivery data has not been collected since %(when)s")
                    % {
                        "when": timezone.localtime(
                            mark.last_run_at, selectors.JST
                        ).strftime("%Y-%m-%d %H:%M")
                    },
                    mark.last_error[:500],
                )
            )
    return findings


def metrics_mismatch_record(check: CrossCheck) -> None:
    """Telemetry watchdog, metrics side: open (or refresh) the alert while the
    ingested delivery statuses disagree with Azure Monitor's metric; resolve it
    once they agree again."""
    if not check.mismatch:
        alert_resolve(kind=METRICS_MISMATCH, cause_key="DeliveryStatusUpdate")
        return
    start = timezone.localtime(check.start, selectors.JST).strftime("%Y-%m-%d %H:%M")
    end = timezone.localtime(check.end, selectors.JST).strftime("%Y-%m-%d %H:%M")
    alert_raise(
        kind=METRICS_MISMATCH,
        cause_key="DeliveryStatusUpdate",
        severity=Alert.Severity.WARNING,
        title=_("Delivery logs and Azure Monitor metrics disagree"),
        detail=_(
            "From %(start)s to %(end)s Azure Monitor counted %(metric)d delivery "
            "status updates, but %(ingested)d arrived through Log Analytics. "
            "Log records may be lost: check the diagnostic setting of the "
            "Communication Service and the workspace's daily cap."
        )
        % {
            "start": start,
            "end": end,
            "metric": check.metric,
            "ingested": check.ingested,
        },
    )


def evaluate_alerts(*, now: dt.datetime | None = None) -> list[Finding]:
    """The alert conditions that hold now in the current schema (reads only)."""
    now = now or timezone.now()
    cfg = selectors.settings_for_tenant()
    return [
        *_bounce_rate(cfg, now),
        *_failure_spike(cfg, now),
        *_silent_devices(cfg, now),
        *_rate_limit(cfg, now),
        *_stuck(cfg, now),
        *_telemetry(now),
    ]


def _recipients() -> list[str]:
    from tenants.accounts.models import User
    from tenants.accounts.roles import Role

    return sorted(
        User.objects.filter(role__in=[Role.OWNER, Role.ADMIN], is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )


def _email(alert: Alert, to: list[str]) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("[Mail alert] %(title)s") % {"title": alert.title}
        body = "\n\n".join(
            part
            for part in (
                alert.title,
                alert.detail,
                _("Open the portal's alerts page to see and acknowledge it."),
            )
            if part
        )
    send_mail(subject, body, None, to)


def alerts_run(*, now: dt.datetime | None = None) -> AlertRun:
    """Evaluate, raise, resolve and notify for the current tenant schema.

    Returns what happened. Safe to run again at any time: an open alert is
    refreshed, never duplicated, and mail goes out only when an alert opens.
    """
    run = AlertRun(findings=evaluate_alerts(now=now))
    open_before = {
        (a.kind, a.cause_key)
        for a in Alert.objects.filter(
            tenant__schema_name=connection.schema_name, kind__in=KINDS
        ).exclude(state=Alert.State.RESOLVED)
    }
    firing = set()
    for finding in run.findings:
        firing.add((finding.kind, finding.cause_key))
        alert = alert_raise(
            kind=finding.kind,
            cause_key=finding.cause_key,
            severity=finding.severity,
            title=finding.title[:200],
            detail=finding.detail,
        )
        if (finding.kind, finding.cause_key) not in open_before:
            run.opened.append(alert)
    for kind, cause_key in sorted(open_before - firing):
        run.resolved += alert_resolve(kind=kind, cause_key=cause_key)
    cfg = selectors.settings_for_tenant()
    if run.opened and cfg.alert_emails_enabled:
        to = _recipients()
        for alert in run.opened if to else []:
            try:
                _email(alert, to)
            except (
                OSError,
                AzureError,
            ):  # the alert stays visible; mail is best effort
                logger.exception("alert mail failed for %s", alert.pk)
            else:
                run.emailed += 1
    return run


__all__ = [
    "KINDS",
    "AlertRun",
    "Finding",
    "alerts_run",
    "evaluate_alerts",
    "metrics_mismatch_record",
]
