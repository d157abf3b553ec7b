"""``manage.py estimate --emails N --avg-kb K --plan CODE [--rate R]`` → JSON.

Plan fee and included volume come from ``billing.models.Plan`` when it has
the code, else from ``billing.estimator.FALLBACK_PLANS``; the rate defaults to
the latest entered FxRate (else the reference example rate) and unit prices
to the PriceVersion in effect today (else the 2025 list prices). The JSON
says which source was used. Decimals are printed as strings.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing import estimator


def decimal_arg(value: str) -> Decimal:
    """argparse type: parse straight from the string (never via binary float)."""
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ValueError(value) from None
    if not result.is_finite():
        raise ValueError(value)
    return result


class Command(BaseCommand):
    help = "Estimate a monthly invoice (JPY) from email volume, size, plan and rate."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--emails", type=int, required=True, help="per recipient")
        parser.add_argument("--avg-kb", type=decimal_arg, required=True)
        parser.add_argument("--plan", required=True, help="plan code")
        parser.add_argument("--rate", type=decimal_arg, help="JPY per USD")
        parser.add_argument(
            "--rounding",
            choices=["floor", "ceil", "half_up"],
            help="FX and tax rounding (default: the issuer settings, else floor)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            plan = estimator.plan_terms(options["plan"])
        except KeyError:
            known = ", ".join(estimator.plan_codes())
            raise CommandError(
                f"unknown plan {options['plan']!r} (known: {known})"
            ) from None
        if options["rate"] is not None:
            rate = estimator.RateInfo(options["rate"], "given", None, "--rate")
        else:
            rate = estimator.current_rate()
        email_price, mb_price = estimator.current_prices()
        if options["rounding"]:
            fx_rounding = tax_rounding = options["rounding"]
        else:
            fx_rounding, tax_rounding = estimator.issuer_rounding()
        try:
            result = estimator.estimate_monthly(
                options["emails"],
                options["avg_kb"],
                plan.monthly_fee_jpy,
                plan.included_emails,
                rate.rate,
                price_per_email=email_price,
                price_per_mb=mb_price,
                rounding=fx_rounding,
                tax_rounding=tax_rounding,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        payload = {
            "plan": estimator.jsonable(asdict(plan)),
            "rate_source": estimator.jsonable(asdict(rate)),
            "estimate": result.as_dict(),
        }
        self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
