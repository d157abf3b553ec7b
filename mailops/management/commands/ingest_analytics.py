"""``manage.py ingest_analytics [--tenant SLUG] [--since ISO] [--until ISO]``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from mailops.analytics.ingest import IngestError, ingest_tenant
from portal.integrations.azure.errors import AzureError
from tenants.models import Customer


def _parse(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"--{name}: not an ISO 8601 date/time: {value!r}") from None
    # A date or time without an offset is taken as UTC, like Log Analytics does.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Pull ACS Email logs (Log Analytics) into each tenant's analytics and the "
        "usage ledger, as the 5-minute beat task does. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="tenant slug (default: every active one)")
        parser.add_argument("--since", help="start (ISO 8601; default: watermark)")
        parser.add_argument("--until", help="end (ISO 8601; default: now - lag)")

    def handle(self, *args: Any, **options: Any) -> None:
        since = _parse(options["since"], "since")
        until = _parse(options["until"], "until")
        if since and until and until <= since:
            raise CommandError("--until must be after --since")
        tenants = Customer.objects.exclude(schema_name="public")
        if options["tenant"]:
            tenants = tenants.filter(schema_name=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"no tenant {options['tenant']!r}")
        else:
            tenants = tenants.filter(status=Customer.Status.ACTIVE)
        failed = 0
        for schema in tenants.order_by("schema_name").values_list(
            "schema_name", flat=True
        ):
            with schema_context(schema):
                try:
                    report = ingest_tenant(since=since, until=until)
                except (AzureError, IngestError) as exc:
                    failed += 1
                    self.stderr.write(f"{schema}: failed: {exc}")
                    continue
            if report.skipped:
                self.stdout.write(f"{schema}: skipped ({report.skipped})")
                continue
            parts = ", ".join(
                f"{t.table.removeprefix('ACSEmail').removesuffix('Operational')} "
                f"{t.rows}"
                for t in report.tables.values()
            )
            self.stdout.write(
                f"{schema}: {report.rows} rows ({parts}) in {report.seconds:.1f}s; "
                f"{report.hour_buckets} hour buckets, {report.usage_days} usage days"
            )
        if failed:
            raise CommandError(f"{failed} tenant(s) failed")
