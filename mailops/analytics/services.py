"""Writes of delivery analytics made from the tenant pages (audited)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from mailops.models import AnalyticsSettings
from tenants.accounts.audit import AuditContext, audit_record

EDITABLE_FIELDS = (
    "bounce_rate_threshold",
    "failure_spike_factor",
    "silent_device_hours",
    "quota_warning_percent",
    "stuck_minutes",
    "alert_emails_enabled",
)


def _snapshot(cfg: AnalyticsSettings) -> dict[str, Any]:
    return {name: str(getattr(cfg, name)) for name in EDITABLE_FIELDS}


@transaction.atomic
def analytics_settings_update(
    *, ctx: AuditContext, values: dict[str, Any]
) -> AnalyticsSettings:
    """Store the alert thresholds (only ``EDITABLE_FIELDS``) with an audit row.

    Creates the tenant's single settings row on first save. Returns it.
    """
    cfg = AnalyticsSettings.objects.select_for_update().order_by("pk").first()
    if cfg is None:
        cfg = AnalyticsSettings()
    before = _snapshot(cfg)
    for name in EDITABLE_FIELDS:
        if name in values:
            setattr(cfg, name, values[name])
    cfg.save()
    cfg.refresh_from_db()  # Decimals as stored (2 places), for the audit row
    after = _snapshot(cfg)
    audit_record(
        ctx=ctx,
        action="analytics.settings_update",
        target=cfg,
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v},
    )
    return cfg
