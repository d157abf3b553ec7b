"""Cost estimator and Exchange Online → ACS migration assessment.

Pure functions (``estimate_monthly``, ``exo_assess``, ``terrl``) plus a few
look-ups (``plan_terms``, ``current_rate``, ``current_prices``) that read the
billing tables when they have data and otherwise fall back to the documented
defaults below, so the public pages and CLI work on an empty database.

Money follows STYLE §2 rule 11: USD and rates are ``Decimal``, yen are
``int``, rounding is explicit (floor / ceil / half_up). The order is the
invoice's (reference §2.6): exact USD → convert once → round once → add the
plan fee → 10% consumption tax once on the total.

Size convention: ``avg_kb`` is the average size of one message **as delivered
to one recipient** (headers, body and attachments), in KB, and
**1 MB = 1,024 KB** (binary). ACS bills data per recipient (reference §3), so
billable MB = billable emails × avg_kb / 1,024. Microsoft does not document
whether its MB is 10^6 or 2^20 bytes (§3, UNCONFIRMED); invoices bill the
meter quantities from Azure's usage export, so this only affects estimates.
Worked example (a): 120,000 emails × 20.48 KB / 1,024 = 2,400 MB.

Limits and dates are those of reference ``japan-billing-exo.md`` (current as
of Sep–Oct 2026); each one carries its source and source date so the pages
can show them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import ROUND_FLOOR, Decimal, localcontext
from typing import Any

from django.db import DatabaseError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from billing.services.money import ROUNDING_MODES, to_yen

# --------------------------------------------------------------------------
# Defaults (used when the billing tables are empty)

#: ACS list prices (reference §3, Microsoft email-pricing.md). Price data
#: lives in billing.models.PriceVersion; these are the fallback only.
PRICE_PER_EMAIL_USD = Decimal("0.00025")
PRICE_PER_MB_USD = Decimal("0.00012")
#: Example rate of reference §6(a), used only when no FxRate is entered. It is
#: *not* a live rate (and per §2.5 probably a TTS, not a TTM).
FALLBACK_RATE = Decimal("150.99")
CONSUMPTION_TAX_RATE = Decimal("0.10")
KB_PER_MB = Decimal(1024)

#: Plan fees (JPY/month) when ``billing.models.Plan`` has no row for a code.
#: Fallback table for the estimator only; real plans are data in the Plan
#: model (fee, included emails).
FALLBACK_PLANS: dict[str, int] = {"lite": 10000, "standard": 30000, "premium": 80000}

#: Recommendation heuristic (editable): smallest plan whose ceiling covers
#: the monthly ACS recipients. Not a Microsoft limit — a sales rule of thumb.
PLAN_TIERS: tuple[tuple[str, int | None], ...] = (
    ("lite", 100_000),
    ("standard", 1_000_000),
    ("premium", None),
)
#: Days used to turn daily volumes into a monthly estimate.
DAYS_PER_MONTH = 30


# --------------------------------------------------------------------------
# Estimator


@dataclass(frozen=True)
class Estimate:
    """Breakdown of a monthly estimate (all amounts tax-exclusive unless noted)."""

    emails: int  # recipient-sends per month (one email per recipient)
    avg_kb: Decimal
    included_emails: int
    billable_emails: int  # emails beyond the plan's included volume
    megabytes: Decimal  # billable_emails × avg_kb / 1024
    price_per_email_usd: Decimal
    price_per_mb_usd: Decimal
    email_usd: Decimal
    data_usd: Decimal
    usage_usd: Decimal  # exact, not rounded
    rate: Decimal
    usage_jpy_exact: Decimal  # usage_usd × rate before rounding
    usage_jpy: int  # rounded once with ``rounding``
    plan_fee_jpy: int
    net_jpy: int
    tax_rate: Decimal
    tax_jpy: int  # once on net_jpy
    total_jpy: int  # tax-inclusive
    rounding: str  # FX conversion
    tax_rounding: str
    size_convention: str = "1 MB = 1024 KB; size counted per recipient"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict: Decimals as strings, ints as ints."""
        return jsonable(asdict(self))


def jsonable(value: Any) -> Any:
    """Make dataclass dicts JSON-ready: Decimal → str (exact), date → ISO."""
    if isinstance(value, Decimal | Promise):
        # Promise: lazily translated text, rendered in the active language.
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def estimate_monthly(
    emails: int,
    avg_kb: Decimal,
    plan_fee_jpy: int,
    included_emails: int,
    rate: Decimal,
    price_per_email: Decimal = PRICE_PER_EMAIL_USD,
    price_per_mb: Decimal = PRICE_PER_MB_USD,
    rounding: str = "floor",
    tax_rounding: str | None = None,
) -> Estimate:
    """Estimate one month's invoice.

    ``emails`` are recipient-sends (a message to 5 recipients is 5 emails).
    Emails up to ``included_emails`` are covered by the plan fee (both
    meters); the rest are billed at the USD unit prices. ``rounding`` (floor,
    ceil, half_up) is used for the FX conversion, and for the tax too unless
    ``tax_rounding`` is given (the issuer settings keep the two separately).
    """
    tax_mode = rounding if tax_rounding is None else tax_rounding
    for mode in (rounding, tax_mode):
        if mode not in ROUNDING_MODES:
            raise ValueError(f"unknown rounding mode {mode!r}")
    if emails < 0 or included_emails < 0 or plan_fee_jpy < 0:
        raise ValueError("emails, included emails and plan fee must be >= 0")
    avg_kb = Decimal(avg_kb)
    rate = Decimal(rate)
    if avg_kb < 0 or rate <= 0:
        raise ValueError("avg_kb must be >= 0 and rate > 0")
    billable = max(0, emails - included_emails)
    megabytes = Decimal(billable) * avg_kb / KB_PER_MB
    email_usd = Decimal(billable) * price_per_email
    data_usd = megabytes * price_per_mb
    usage_usd = email_usd + data_usd
    usage_exact = usage_usd * rate
    usage_jpy = to_yen(usage_exact, rounding)
    net = usage_jpy + plan_fee_jpy
    tax = to_yen(Decimal(net) * CONSUMPTION_TAX_RATE, tax_mode)
    return Estimate(
        emails=emails,
        avg_kb=avg_kb,
        included_emails=included_emails,
        billable_emails=billable,
        megabytes=megabytes,
        price_per_email_usd=price_per_email,
        price_per_mb_usd=price_per_mb,
        email_usd=email_usd,
        data_usd=data_usd,
        usage_usd=usage_usd,
        rate=rate,
        usage_jpy_exact=usage_exact,
        usage_jpy=usage_jpy,
        plan_fee_jpy=plan_fee_jpy,
        net_jpy=net,
        tax_rate=CONSUMPTION_TAX_RATE,
        tax_jpy=tax,
        total_jpy=net + tax,
        rounding=rounding,
        tax_rounding=tax_mode,
    )


# --------------------------------------------------------------------------
# Look-ups with fallbacks


@dataclass(frozen=True)
class PlanTerms:
    code: str
    name: str
    monthly_fee_jpy: int
    included_emails: int
    source: str  # "database" or "fallback table"


def plan_terms(code: str) -> PlanTerms:
    """Plan fee and included volume: ``billing.models.Plan`` if it has the
    code, else ``FALLBACK_PLANS`` (included volume 0). ``KeyError`` if
    neither knows it."""
    plan = None
    try:
        from billing.models import Plan

        plan = Plan.objects.filter(code=code).first()
    except DatabaseError:  # table not migrated yet: use the fallback
        plan = None
    if plan is not None:
        return PlanTerms(
            code=plan.code,
            name=plan.name_ja or plan.name,
            monthly_fee_jpy=int(plan.monthly_fee_jpy),
            included_emails=int(plan.included_emails),
            source="database",
        )
    if code not in FALLBACK_PLANS:
        raise KeyError(code)
    return PlanTerms(code, code, FALLBACK_PLANS[code], 0, "fallback table")


def plan_codes() -> list[str]:
    """Known plan codes: the Plan table's, else the fallback table's."""
    try:
        from billing.models import Plan

        codes = list(Plan.objects.values_list("code", flat=True))
    except DatabaseError:  # table not migrated yet
        codes = []
    return codes or list(FALLBACK_PLANS)


@dataclass(frozen=True)
class RateInfo:
    rate: Decimal
    rate_type: str
    rate_date: date | None
    source: str


def current_rate() -> RateInfo:
    """Latest entered USD→JPY rate, else the documented example rate."""
    try:
        from billing.models import FxRate

        row = FxRate.objects.order_by("-date").first()
    except DatabaseError:  # table not migrated yet
        row = None
    if row is not None:
        return RateInfo(Decimal(row.rate), row.rate_type, row.date, row.source)
    return RateInfo(
        FALLBACK_RATE, "example", None, "reference §6(a) example (not a live rate)"
    )


def issuer_rounding() -> tuple[str, str]:
    """(FX rounding, tax rounding) of the issuer settings, else floor/floor."""
    try:
        from billing.models import IssuerSettings

        row = IssuerSettings.objects.order_by("pk").first()
    except DatabaseError:  # table not migrated yet
        row = None
    if row is None:
        return "floor", "floor"
    return row.fx_rounding, row.tax_rounding


def current_prices(day: date | None = None) -> tuple[Decimal, Decimal]:
    """(USD per email, USD per MB) in effect on ``day`` (default: today)."""
    try:
        from django.utils import timezone

        from billing.models import PriceVersion

        on = day or timezone.localdate()
        row = (
            PriceVersion.objects.filter(effective_from__lte=on)
            .order_by("-effective_from")
            .first()
        )
    except DatabaseError:  # table not migrated yet
        row = None
    if row is not None:
        return Decimal(row.email_usd), Decimal(row.megabyte_usd)
    return PRICE_PER_EMAIL_USD, PRICE_PER_MB_USD


# --------------------------------------------------------------------------
# Exchange Online assessment


@dataclass(frozen=True)
class Limit:
    """One Exchange Online limit with where it comes from."""

    key: str
    name: str | Promise
    value: int | None
    unit: str | Promise
    status: str  # "in force", "cancelled", "unconfirmed"
    source: str
    source_date: str  # ISO date (or month) of the cited source
    note: str | Promise = ""


@dataclass(frozen=True)
class Check:
    """Whether current volumes hit a limit."""

    limit: str
    observed: int
    threshold: int
    exceeded: bool
    message: str | Promise


@dataclass(frozen=True)
class TimelineEntry:
    date: str  # ISO date or month of the event/announcement
    event: str | Promise
    source: str
    source_date: str


@dataclass(frozen=True)
class Assessment:
    licenses: int
    trial: bool
    mailboxes: int
    devices: int
    daily_external: int
    uses_smtp_auth: bool
    terrl: int
    terrl_formula: str
    limits: tuple[Limit, ...]
    checks: tuple[Check, ...]
    smtp_auth_timeline: tuple[TimelineEntry, ...]
    smtp_auth_affected: bool
    actions: tuple[str | Promise, ...]
    recommended_plan: str
    monthly_emails: int
    estimate: Estimate
    as_of: str = "2026-10"
    unconfirmed: tuple[str | Promise, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return jsonable(asdict(self))


#: Recipient rate limit per mailbox (reference §4.1).
RRL_PER_MAILBOX = 10_000
#: SMTP client-submission message rate per mailbox (reference §4.1).
MESSAGES_PER_MINUTE = 30
RECIPIENTS_PER_MESSAGE = 500
#: Cancelled per-mailbox external limit, shown as history only (§4.2).
MERRL_CANCELLED = 2_000
TRIAL_TERRL = 5_000


def terrl(licenses: int, trial: bool = False) -> int:
    """Tenant External Recipient Rate Limit per rolling 24 h (reference §4.3).

    Paid: ``500 × L^0.7 + 9,500`` rounded down (Microsoft's rounding is
    UNCONFIRMED; §4.3 shows floor). Computed with Decimal, whose ``**``
    accepts a fractional exponent, so no binary floating point is involved.
    Trial tenants: 5,000 regardless of licences (a 2026-09 note says 500;
    UNCONFIRMED).
    """
    if licenses < 0:
        raise ValueError("licenses must be >= 0")
    if trial:
        return TRIAL_TERRL
    # A local context pins the precision, so a caller's context cannot change
    # the result (28 digits is far more than the integer result needs).
    with localcontext() as ctx:
        ctx.prec = 28
        value = Decimal(500) * (Decimal(licenses) ** Decimal("0.7")) + Decimal(9500)
        return int(value.to_integral_value(rounding=ROUND_FLOOR))


LIMIT_SOURCES: tuple[Limit, ...] = (
    Limit(
        "rrl",
        _("Recipient rate limit (per mailbox)"),
        RRL_PER_MAILBOX,
        _("recipients / rolling 24 h"),
        "in force",
        "Microsoft Japan support blog 'TERRL と MERRL について' (jpmessaging)",
        "2025-12-25",
        _("Internal and external recipients both count; cannot be raised."),
    ),
    Limit(
        "message_rate",
        _("Message rate limit (SMTP client submission, per mailbox)"),
        MESSAGES_PER_MINUTE,
        _("messages / minute"),
        "in force",
        "MicrosoftDocs/OfficeDocs-Support PR #1488 smtp-submission-improvements.md",
        "2026-10",
        _(
            "Above this, sending is throttled or delayed. Source date: reference "
            "check date (the PR date is not given)."
        ),
    ),
    Limit(
        "recipients_per_message",
        _("Recipients per message (default)"),
        RECIPIENTS_PER_MESSAGE,
        _("recipients / message"),
        "in force",
        "third-party note citing Microsoft Learn 'Exchange Online limits'",
        "2026-09-21",
        _("Customisable 1–1,000."),
    ),
    Limit(
        "terrl",
        _("Tenant external recipient rate limit (TERRL)"),
        None,
        _("external recipients / rolling 24 h / tenant"),
        "in force",
        "Exchange Team blog techcommunity 4372797 (updated 2025-07-14); MC1023294",
        "2025-07-14",
        _(
            "500 × licences^0.7 + 9,500 for purchased EXO/EOP licences; "
            "enforcement for tenants with more than 500 licences was paused "
            "(unconfirmed today). Mail sent via ACS does not count. Rounded down "
            "here as the reference does; Microsoft's published examples "
            "(10 → 12,006; 10,000 → 324,979) look rounded to nearest, so the "
            "value shown may be 1 lower."
        ),
    ),
    Limit(
        "terrl_trial",
        _("TERRL for trial tenants"),
        TRIAL_TERRL,
        _("external recipients / rolling 24 h / tenant"),
        "unconfirmed",
        "petri.com (Feb 25 2025); a third-party note of 2026-09-21 reports 500",
        "2025-02-25",
        _(
            "Microsoft announced TERRL changes for new and trial tenants from "
            "mid-September 2026 (MC1454397); read the live value with "
            "Get-LimitsEnforcementStatus."
        ),
    ),
    Limit(
        "merrl",
        _("Mailbox external recipient rate limit (ERR/MERRL)"),
        MERRL_CANCELLED,
        _("external recipients / rolling 24 h / mailbox"),
        "cancelled",
        "Exchange Team blog 'Exchange Online canceling the Mailbox External "
        "Recipient Rate Limit' (techcommunity 4483498)",
        "2026-01-06",
        _("Cancelled indefinitely; shown as history, not enforced."),
    ),
)

SMTP_AUTH_TIMELINE: tuple[TimelineEntry, ...] = (
    TimelineEntry(
        "2025-09",
        _("Original plan: remove Basic auth for SMTP AUTH in September 2025."),
        "MC786329",
        "2024-04",
    ),
    TimelineEntry(
        "2026-03-01",
        _(
            "Delayed plan: gradual rejections from 2026-03-01, 100% by 2026-04-30 "
            "(later put on hold)."
        ),
        "MC786329 update",
        "2025-06-12",
    ),
    TimelineEntry(
        "2026-12",
        _(
            "Now to December 2026: behaviour unchanged. End of December 2026: "
            "Basic auth for SMTP AUTH disabled by default for existing tenants; "
            "administrators can still enable it. New tenants created after "
            "December 2026: unavailable by default (OAuth supported)."
        ),
        "Exchange Team blog 'Updated Exchange Online SMTP AUTH Basic "
        "Authentication Deprecation Timeline' (techcommunity 4489835)",
        "2026-01-27",
    ),
    TimelineEntry(
        "2027-H2",
        _("Microsoft will announce the final removal date in the second half of 2027."),
        "techcommunity 4489835",
        "2026-01-27",
    ),
)


def recommend_plan(monthly_emails: int) -> str:
    for code, ceiling in PLAN_TIERS:
        if ceiling is None or monthly_emails <= ceiling:
            return code
    return PLAN_TIERS[-1][0]


def exo_assess(
    licenses: int,
    trial: bool = False,
    mailboxes: int = 0,
    devices: int = 0,
    daily_external: int = 0,
    uses_smtp_auth: bool = False,
    *,
    avg_kb: Decimal = Decimal(100),
    rate: Decimal = FALLBACK_RATE,
    plan: PlanTerms | None = None,
    price_per_email: Decimal = PRICE_PER_EMAIL_USD,
    price_per_mb: Decimal = PRICE_PER_MB_USD,
    rounding: str = "floor",
    tax_rounding: str | None = None,
) -> Assessment:
    """Assess an Exchange Online tenant's sending against its limits.

    ``daily_external``: external recipients per day across the tenant (the
    mail that would move to ACS). ``mailboxes`` / ``devices``: mailboxes and
    devices/applications that send (devices usually submit via SMTP AUTH).
    The per-mailbox check uses the average ``daily_external / mailboxes``;
    the busiest mailbox matters, so the message says so.

    The monthly estimate assumes the external mail moves to ACS
    (``daily_external × 30`` recipient-sends, ``avg_kb`` per recipient) on the
    recommended plan (or ``plan`` if given).
    """
    for name, number in (
        ("licenses", licenses),
        ("mailboxes", mailboxes),
        ("devices", devices),
        ("daily_external", daily_external),
    ):
        if number < 0:
            raise ValueError(f"{name} must be >= 0")
    limit_value = terrl(licenses, trial)
    checks: list[Check] = [
        Check(
            "terrl",
            daily_external,
            limit_value,
            daily_external > limit_value,
            _(
                "Tenant external volume exceeds TERRL: sends are rejected with "
                "NDR 550 5.7.233. Move application and bulk mail to ACS, which "
                "does not count."
            )
            if daily_external > limit_value
            else _("Tenant external volume is within TERRL."),
        )
    ]
    if mailboxes > 0:
        average = -(-daily_external // mailboxes)  # ceiling division
        over = average > RRL_PER_MAILBOX
        checks.append(
            Check(
                "rrl",
                average,
                RRL_PER_MAILBOX,
                over,
                _("Average per mailbox exceeds 10,000 recipients per 24 h: NDR.")
                if over
                else _(
                    "Average per mailbox is within 10,000 recipients per 24 h; "
                    "check the busiest mailbox (internal recipients count too)."
                ),
            )
        )
    actions: list[str | Promise] = []
    if daily_external > limit_value:
        actions.append(_("Move external application and bulk mail to ACS Email."))
    if uses_smtp_auth:
        actions.append(
            _(
                "SMTP AUTH Basic is disabled by default at the end of December "
                "2026: move devices and applications to OAuth, to ACS Email "
                "(external recipients) or to HVE (internal recipients only)."
            )
        )
    if devices > 0 and not uses_smtp_auth:
        actions.append(
            _(
                "Confirm how the sending devices authenticate (EAC SMTP AUTH "
                "Clients Submission report)."
            )
        )
    monthly = daily_external * DAYS_PER_MONTH
    code = plan.code if plan is not None else recommend_plan(monthly)
    terms = plan if plan is not None else plan_terms(code)
    estimate = estimate_monthly(
        monthly,
        avg_kb,
        terms.monthly_fee_jpy,
        terms.included_emails,
        rate,
        price_per_email=price_per_email,
        price_per_mb=price_per_mb,
        rounding=rounding,
        tax_rounding=tax_rounding,
    )
    unconfirmed: list[str | Promise] = [
        _("Microsoft's rounding of TERRL (rounded down here)."),
        _("Which licence SKUs count towards TERRL."),
        _("Whether TERRL is enforced for tenants with more than 500 licences."),
    ]
    if trial:
        unconfirmed.append(
            _("Trial TERRL: 5,000 per petri.com; 500 per a September 2026 note.")
        )
    return Assessment(
        licenses=licenses,
        trial=trial,
        mailboxes=mailboxes,
        devices=devices,
        daily_external=daily_external,
        uses_smtp_auth=uses_smtp_auth,
        terrl=limit_value,
        terrl_formula="trial: 5,000"
        if trial
        else f"500 × {licenses}^0.7 + 9,500 (rounded down)",
        limits=LIMIT_SOURCES,
        checks=tuple(checks),
        smtp_auth_timeline=SMTP_AUTH_TIMELINE,
        smtp_auth_affected=uses_smtp_auth,
        actions=tuple(actions),
        recommended_plan=code,
        monthly_emails=monthly,
        estimate=estimate,
        unconfirmed=tuple(unconfirmed),
    )
