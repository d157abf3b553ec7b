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
}
