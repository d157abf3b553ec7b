"""``manage.py close_month YYYY-MM``: draft invoices for every active tenant."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing.services import close
from billing.services.pricing import BillingDataMissing
from tenants.accounts.audit import AuditContext


class Command(BaseCommand):
    help = "Create or replace the draft invoices of a month (never touches final ones)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("month", help="YYYY-MM")
        parser.add_argument("--pdf", action="store_true", help="render preview PDFs")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            period = close.parse_period(options["month"])
        except ValueError as exc:
            raise CommandError("month must be YYYY-MM") from exc
        try:
            result = close.close_month(
                period=period,
                ctx=AuditContext.system("close_month"),
                render_pdfs=options["pdf"],
            )
        except BillingDataMissing as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            json.dumps(
                {
                    "month": f"{period:%Y-%m}",
                    "created": result.created,
                    "skipped_final": result.skipped_final,
                    "errors": result.errors,
                },
                ensure_ascii=False,
            )
        )
