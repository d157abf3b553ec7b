"""The Celery app. Tasks carry their schema (tenant-schemas-celery).

Every beat entry lives here. Per-tenant jobs fan out from one public-schema task.
"""

from __future__ import annotations

import os

from celery.schedules import crontab
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = CeleryApp("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["tenants.accounts", "tenants", "mailops", "billing"])
app.autodiscover_tasks(["mailops.analytics"])
app.autodiscover_tasks(["mailops.campaigns"])
# Recipient-list validation (large uploads) lives beside the list services.
app.autodiscover_tasks(["mailops.campaigns"], related_name="lists")
app.autodiscover_tasks(["tenants"], related_name="guardrail_tasks")

app.conf.beat_schedule = {
    # "17 */6 * * *": four times a day, re-run the DNS linter on every sending domain.
    "recheck-domains": {
        "task": "mailops.tasks.domains_recheck_all_task",
        "schedule": crontab(minute=17, hour="*/6"),
    },
    # "30 8 * * *": daily at 08:30 JST, retire old secrets and send expiry reminders.
    "credential-housekeeping": {
        "task": "mailops.tasks.credentials_housekeeping_all_task",
        "schedule": crontab(hour=8, minute=30),
    },
    # "0 3 * * *": every day at 03:00 JST, close invitations that have expired.
    "expire-invitations": {
        "task": "tenants.tasks.invitations_expire_all_task",
        "schedule": crontab(hour=3, minute=0),
    },
    # "*/5 * * * *": every 5 minutes, rebuild each tenant's staff-overview summary.
    "refresh-tenant-summaries": {
        "task": "tenants.tasks.summaries_refresh_all_task",
        "schedule": crontab(minute="*/5"),
    },
    # "0 6 * * *": daily at 06:00 JST; on the usage-closing day, close last month.
    "billing-close-month": {
        "task": "billing.tasks.close_month_scheduled_task",
        "schedule": crontab(hour=6, minute=0),
    },
    # "*/5 * * * *": every 5 minutes, pull new ACS Email logs for every tenant.
    "analytics-ingest": {
        "task": "mailops.tasks.analytics_ingest_all_task",
        "schedule": crontab(minute="*/5"),
    },
    # "40 4 * * *": daily at 04:40 JST, prune analytics past retention.
    "analytics-prune": {
        "task": "mailops.tasks.analytics_prune_all_task",
        "schedule": crontab(hour=4, minute=40),
    },
    # "*/5 * * * *": every 5 minutes, evaluate each tenant's send and spend caps.
    "evaluate-usage-caps": {
        "task": "tenants.guardrail_tasks.guardrails_evaluate_all_task",
        "schedule": crontab(minute="*/5"),
    },
    # "*/10 * * * *": every 10 minutes, evaluate delivery alert rules per tenant.
    "analytics-alerts": {
        "task": "mailops.analytics.tasks.analytics_alerts_all_task",
        "schedule": crontab(minute="*/10"),
    },
    # Every 30 seconds (finer than cron): start scheduled campaigns that are due,
    # re-queue recipients of workers that died, restart lapsed dispatcher slots.
    "campaigns-tick": {
        "task": "mailops.campaigns.tasks.campaigns_tick_all_task",
        "schedule": 30.0,
    },
}
