"""``manage.py eventgrid_url --tenant SLUG``: issue the Event Grid webhook URL."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from mailops.analytics.eventgrid import eventgrid_secret_issue, eventgrid_url
from tenants.accounts.audit import AuditContext
from tenants.models import Customer


class Command(BaseCommand):
    help = (
        "Issue a new Event Grid webhook secret for a tenant and print the "
        "subscription URL (shown once; the previous URL stops working)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["tenant"]
        if (
            not Customer.objects.filter(schema_name=slug)
            .exclude(schema_name="public")
            .exists()
        ):
            raise CommandError(f"no tenant {slug!r}")
        with schema_context(slug):
            secret = eventgrid_secret_issue(ctx=AuditContext.system("eventgrid_url"))
            url = eventgrid_url(secret)
        self.stdout.write(url)
