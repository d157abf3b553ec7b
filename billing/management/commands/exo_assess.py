"""``manage.py exo_assess --licenses N [--trial] [--daily-external N]`` → JSON.

Exchange Online → ACS assessment: TERRL, the per-mailbox limits with their
source dates, volume checks, the SMTP AUTH Basic timeline, a recommended plan
and its monthly JPY estimate. Decimals are printed as strings.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing import estimator
from billing.management.commands.estimate import decimal_arg


class Command(BaseCommand):
    help = "Assess Exchange Online sending limits and estimate the ACS cost."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--licenses", type=int, required=True)
        parser.add_argument("--trial", action="store_true")
        parser.add_argument("--mailboxes", type=int, default=0)
        parser.add_argument("--devices", type=int, default=0)
        parser.add_argument("--daily-external", type=int, default=0)
        parser.add_argument("--smtp-auth", action="store_true")
        parser.add_argument("--avg-kb", type=decimal_arg, default=None)
        parser.add_argument("--rate", type=decimal_arg, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        rate = options["rate"]
        if rate is None:
            rate = estimator.current_rate().rate
        email_price, mb_price = estimator.current_prices()
        fx_rounding, tax_rounding = estimator.issuer_rounding()
        kwargs: dict[str, Any] = {
            "rate": rate,
            "rounding": fx_rounding,
            "tax_rounding": tax_rounding,
            "price_per_email": email_price,
            "price_per_mb": mb_price,
        }
        if options["avg_kb"] is not None:
            kwargs["avg_kb"] = options["avg_kb"]
        try:
            result = estimator.exo_assess(
                options["licenses"],
                options["trial"],
                options["mailboxes"],
                options["devices"],
                options["daily_external"],
                options["smtp_auth"],
                **kwargs,
            )
        except (ValueError, KeyError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
