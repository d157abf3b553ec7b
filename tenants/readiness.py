"""Quota-increase readiness pack: one tenant scored against Microsoft's
prerequisites for raising ACS Email limits, and the support-request answers
filled in from its data (azure-facts §3; ``concepts/email/email-quota-increase``).

Prerequisites checked: a verified custom domain linked to the Communication
Service; SPF, DKIM (both selectors) and DMARC as the latest ``DnsCheck`` found
them; an MX record and no DNS blocklist listing (live lookups); a failure rate
under 2% over 30 days on every sending domain. The page reads ONE tenant's
schema (``schema_context``), so the per-minute peak may scan 30 days of
``MessageRecord`` rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate, TruncHour, TruncMinute, TruncMonth
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from tenants.models import Customer
from tenants.summaries import JST, bounce_rate

WINDOW_DAYS = 30
TREND_MONTHS = 6
FAILURE_LIMIT = Decimal("2")  # email-quota-increase.md: "below 2%"
HIGH_VOLUME_LIMIT = Decimal("1")  # service-limits.md: high quota needs < 1%
DNSBL_ZONE = "dbl.spamhaus.org"
DNS_TIMEOUT = 2.0
DKIM_KINDS = ("DKIM", "DKIM2")
# DMARC verdicts that mean "a policy is published" (p=none still counts; the
# parent's policy applies to a subdomain).
DMARC_PRESENT = frozenset({"dmarc_ok", "dmarc_policy_none", "dmarc_inherited"})


@dataclass(frozen=True)
class Check:
    """One prerequisite. ``passed`` is None when it could not be checked."""

    key: str
    label: str
    passed: bool | None
    evidence: list[str]
    fix: str = ""


@dataclass(frozen=True)
class Peak:
    value: int = 0
    at: str = ""  # when, in JST, as text


@dataclass(frozen=True)
class MonthVolume:
    month: dt.date
    messages: int
    emails: int
    partial: bool


@dataclass
class ReadinessPack:
    tenant: Customer
    generated_at: dt.datetime
    quota_tier: str = ""
    quota_label: str = ""
    quota_per_minute: int | None = None
    quota_per_hour: int | None = None
    communication_service: str = ""
    resource_id: str = ""
    custom_domains: list[Any] = field(default_factory=list)
    # Raw evidence, scored by ``score()`` in whichever language is active.
    latest_checks: dict[str, tuple[dt.datetime, list[dict[str, Any]]]] = field(
        default_factory=dict
    )
    mx: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    dnsbl: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    per_domain: dict[str, list[int]] = field(default_factory=dict)
    sent_30d: int = 0
    failed_30d: int = 0
    failure_rate: Decimal | None = None
    peak_minute: Peak = field(default_factory=Peak)
    peak_hour: Peak = field(default_factory=Peak)
    peak_day: Peak = field(default_factory=Peak)
    recipients_peak_day: Peak = field(default_factory=Peak)
    months: list[MonthVolume] = field(default_factory=list)
    sender_domains: list[str] = field(default_factory=list)
    sender_addresses: list[str] = field(default_factory=list)
    devices: int = 0
    applications: int = 0
    campaigns: int = 0

    @property
    def verified_domains(self) -> list[Any]:
        return [d for d in self.custom_domains if d.is_verified]

    @property
    def checks(self) -> list[Check]:
        """The prerequisites, scored in the active language (no queries)."""
        return score(self)

    @property
    def passed(self) -> int:
        return sum(1 for c in self.checks if c.passed)

    @property
    def total(self) -> int:
        return len(self.checks)

    @property
    def ready(self) -> bool:
        """Every prerequisite met (one that could not be checked does not block)."""
        return all(c.passed is not False for c in self.checks)

    @property
    def on_default_limits(self) -> bool:
        return self.quota_tier in ("", "default", "managed")

    @property
    def projected_month(self) -> int:
        """This month's messages so far, extrapolated to the whole month."""
        current = next((m for m in self.months if m.partial), None)
        if current is None:
            return 0
        today = self.generated_at.astimezone(JST).date()
        nxt = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        days = (nxt - today.replace(day=1)).days
        return current.messages * days // today.day


@dataclass(frozen=True)
class Answers:
    """What staff expect (defaults from the data; editable on the page)."""

    expected_monthly: int
    expected_peak_minute: int
    expected_peak_hour: int
    use_case: str


def _jst(moment: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(JST).strftime(fmt) if moment else ""


def _peak(rows: Any, fmt: str) -> Peak:
    row = rows.order_by("-n", "slot").first()
    if not row or not row["n"]:
        return Peak()
    slot = row["slot"]
    at = (
        slot.strftime(fmt)
        if isinstance(slot, dt.date) and not isinstance(slot, dt.datetime)
        else _jst(slot, fmt)
    )
    return Peak(int(row["n"]), at)


# --- checks -----------------------------------------------------------------------------


def _dns_check(
    pack: ReadinessPack,
    key: str,
    label: str,
    domains: list[Any],
    kinds: tuple[str, ...],
    ok: Any,
    fix: str,
) -> Check:
    """Score one DNS record kind from each domain's latest linter run."""
    if not domains:
        return Check(key, label, False, [_("No verified custom domain.")], fix)
    evidence: list[str] = []
    passed = True
    fixes: list[str] = []
    for domain in domains:
        latest = pack.latest_checks.get(domain.name)
        if latest is None:
            passed = False
            evidence.append(_("%(domain)s: no DNS check yet") % {"domain": domain.name})
            continue
        findings = latest[1]
        for kind in kinds:
            rows = [f for f in findings if f.get("kind", "").upper() == kind.upper()]
            good = bool(rows) and ok(rows)
            passed = passed and good
            codes = ", ".join(f["code"] for f in rows) or _("not checked")
            found = next((f.get("found") for f in rows if f.get("found")), "")
            evidence.append(
                f"{domain.name} {kind}: {codes}"
                + (f" ({found})" if found else "")
                + f" — {_jst(latest[0])}"
            )
            if not good:
                fixes += [
                    f.get("suggestion") or f.get("message", "")
                    for f in rows
                    if f.get("severity") != "ok"
                ]
    detail = "; ".join(dict.fromkeys(x for x in fixes if x))
    return Check(key, label, passed, evidence, "" if passed else (detail or fix))


def _no_errors(rows: list[dict[str, Any]]) -> bool:
    return not any(f.get("severity") == "error" for f in rows)


def _dmarc_present(rows: list[dict[str, Any]]) -> bool:
    return any(f.get("code") in DMARC_PRESENT for f in rows) and _no_errors(rows)


def lookup(name: str, rtype: str) -> tuple[str, list[str]]:
    from mailops.dnslint import dns_lookup

    return dns_lookup(
        name,
        rtype,
        nameservers=settings.DNS_NAMESERVERS,
        port=settings.DNS_PORT,
        timeout=DNS_TIMEOUT,
    )


def _mx_check(pack: ReadinessPack, domains: list[Any]) -> Check:
    label = _("MX record published")
    fix = _(
        "Publish an MX record for the sending domain (the host that receives its "
        "mail, e.g. Exchange Online), so replies and bounces can be delivered."
    )
    if not domains:
        return Check("mx", label, False, [_("No verified custom domain.")], fix)
    evidence, passed = [], True
    for domain in domains:
        status, values = pack.mx.get(domain.name, ("error", []))
        if status == "ok":
            evidence.append(f"{domain.name} MX: {', '.join(sorted(values))}")
        else:
            passed = False
            evidence.append(f"{domain.name} MX: {status}")
    return Check("mx", label, passed, evidence, "" if passed else fix)


def _blocklist_check(pack: ReadinessPack, domains: list[Any]) -> Check:
    label = _("Not on a DNS blocklist")
    fix = _(
        "The domain is listed on %(zone)s. Find and stop the source of the spam "
        "reports, then request delisting before asking for a higher quota."
    ) % {"zone": DNSBL_ZONE}
    if not domains:
        return Check("dnsbl", label, False, [_("No verified custom domain.")], fix)
    evidence: list[str] = []
    verdicts: list[bool | None] = []
    for domain in domains:
        status, values = pack.dnsbl.get(domain.name, ("error", []))
        listed = status == "ok" and any(v.startswith("127.0.1.") for v in values)
        if listed:
            verdicts.append(False)
            evidence.append(
                _("%(domain)s is listed (%(codes)s)")
                % {"domain": domain.name, "codes": ", ".join(values)}
            )
        elif status in ("nxdomain", "nodata"):
            verdicts.append(True)
            evidence.append(_("%(domain)s: not listed") % {"domain": domain.name})
        else:
            verdicts.append(None)
            evidence.append(
                _(
                    "%(domain)s: the blocklist could not be queried (%(status)s); check it by hand"
                )
                % {"domain": domain.name, "status": status}
            )
    passed: bool | None = True
    if False in verdicts:
        passed = False
    elif None in verdicts:
        passed = None
    return Check("dnsbl", label, passed, evidence, fix if passed is False else "")


def _failure_check(pack: ReadinessPack) -> Check:
    label = _("Failure rate under 2%% (last %(days)d days)") % {"days": WINDOW_DAYS}
    fix = _(
        "Remove addresses that bounce (suppression list), fix the recipients with "
        "the most failures on the delivery dashboard, and keep the rate under 2% "
        "(under 1% for the high-volume tier) for a few weeks before asking."
    )
    if not pack.sent_30d:
        return Check(
            "failure_rate",
            label,
            False,
            [_("No mail was sent in the last %(days)d days.") % {"days": WINDOW_DAYS}],
            _("Send real traffic for 2–4 weeks first: Microsoft looks at the history."),
        )
    evidence, passed = [], True
    for name, (sent, failed) in sorted(pack.per_domain.items()):
        rate = bounce_rate(failed, sent)
        if rate is not None and rate >= FAILURE_LIMIT:
            passed = False
        evidence.append(
            _("%(domain)s: %(rate)s%% (%(failed)s of %(sent)s recipients)")
            % {
                "domain": name or "—",
                "rate": rate,
                "failed": f"{failed:,}",
                "sent": f"{sent:,}",
            }
        )
    if pack.failure_rate is not None and pack.failure_rate >= HIGH_VOLUME_LIMIT:
        evidence.append(
            _("The high-volume tier (1–2 million per hour) needs under 1%.")
        )
    return Check("failure_rate", label, passed, evidence, "" if passed else fix)


# --- data ---------------------------------------------------------------------------------


def _failure_counts(since: dt.datetime) -> tuple[int, int, dict[str, list[int]]]:
    from mailops.analytics.selectors import Counts
    from mailops.models import DeliveryAggregate

    overall = Counts()
    domains: dict[str, Counts] = {}
    for row in (
        DeliveryAggregate.objects.filter(
            period=DeliveryAggregate.Period.DAY, bucket__gte=since
        )
        .values("sender_domain", "status")
        .annotate(n=Sum("count"))
    ):
        overall.add(row["status"], row["n"])
        domains.setdefault(row["sender_domain"], Counts()).add(row["status"], row["n"])
    per_domain = {name: [c.sent, c.failed_total] for name, c in domains.items()}
    return overall.sent, overall.failed_total, per_domain


def _peaks(pack: ReadinessPack, since: dt.datetime) -> None:
    from mailops.models import DeliveryAggregate, MessageRecord

    recent = MessageRecord.objects.filter(sent_at__gte=since)
    by = {
        "peak_minute": (TruncMinute("sent_at", tzinfo=JST), "%Y-%m-%d %H:%M"),
        "peak_hour": (TruncHour("sent_at", tzinfo=JST), "%Y-%m-%d %H:00"),
        "peak_day": (TruncDate("sent_at", tzinfo=JST), "%Y-%m-%d"),
    }
    for name, (trunc, fmt) in by.items():
        rows = recent.annotate(slot=trunc).values("slot").annotate(n=Count("pk"))
        setattr(pack, name, _peak(rows, fmt))
    days = (
        DeliveryAggregate.objects.filter(
            period=DeliveryAggregate.Period.DAY, bucket__gte=since
        )
        .values(slot=TruncDate("bucket", tzinfo=JST))
        .annotate(n=Sum("count"))
    )
    pack.recipients_peak_day = _peak(days, "%Y-%m-%d")


def _months(tenant: Customer, now: dt.datetime) -> list[MonthVolume]:
    from billing.models import UsageDay

    this_month = now.astimezone(JST).date().replace(day=1)
    first = this_month
    for _i in range(TREND_MONTHS - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    rows = {
        row["month"]: row
        for row in UsageDay.objects.filter(tenant=tenant, day__gte=first)
        .annotate(month=TruncMonth("day"))
        .values("month")
        .annotate(messages=Sum("messages"), emails=Sum("billable_emails"))
    }
    months, month = [], first
    while month <= this_month:
        row = rows.get(month, {})
        months.append(
            MonthVolume(
                month,
                int(row.get("messages") or 0),
                int(row.get("emails") or 0),
                partial=month == this_month,
            )
        )
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def readiness_build(
    *, tenant: Customer, now: dt.datetime | None = None
) -> ReadinessPack:
    """Score ``tenant`` and gather the request's figures (reads only).

    Opens the tenant's schema once; MX and blocklist lookups go to the configured
    DNS servers with a short timeout (a failed blocklist lookup is "check by hand",
    not a failure).
    """
    from mailops.models import (
        AcsFootprint,
        SenderAddress,
        SendingDomain,
        SmtpCredential,
    )

    now = now or timezone.now()
    since = now - dt.timedelta(days=WINDOW_DAYS)
    pack = ReadinessPack(tenant=tenant, generated_at=now)
    pack.months = _months(tenant, now)
    with schema_context(tenant.schema_name):
        fp = AcsFootprint.objects.order_by("pk").first()
        if fp is not None:
            pack.quota_tier = fp.quota_tier
            pack.quota_label = fp.get_quota_tier_display()
            pack.quota_per_minute = fp.quota_per_minute
            pack.quota_per_hour = fp.quota_per_hour
            pack.communication_service = fp.communication_service_name
            pack.resource_id = fp.communication_service_id
        pack.custom_domains = list(
            SendingDomain.objects.filter(
                management=SendingDomain.Management.CUSTOMER
            ).exclude(state=SendingDomain.State.DELETING)
        )
        verified = pack.verified_domains
        for domain in verified:
            check = domain.checks.order_by("-checked_at", "-pk").first()
            if check is not None:
                pack.latest_checks[domain.name] = (
                    check.checked_at,
                    check.report.get("findings", []),
                )
        pack.sender_domains = [d.name for d in verified]
        pack.sender_addresses = sorted(
            s.address
            for s in SenderAddress.objects.filter(
                state=SenderAddress.State.ACTIVE, domain__in=verified
            ).select_related("domain")
        )
        kinds = dict(
            SmtpCredential.objects.filter(state=SmtpCredential.State.ACTIVE)
            .values("kind")
            .annotate(n=Count("pk"))
            .values_list("kind", "n")
        )
        pack.devices = kinds.get(SmtpCredential.Kind.MFP, 0)
        pack.applications = sum(
            n for kind, n in kinds.items() if kind != SmtpCredential.Kind.MFP
        )
        pack.campaigns = _campaign_count(since)
        pack.sent_30d, pack.failed_30d, pack.per_domain = _failure_counts(since)
        pack.failure_rate = bounce_rate(pack.failed_30d, pack.sent_30d)
        _peaks(pack, since)
    for domain in verified:
        pack.mx[domain.name] = lookup(domain.name, "MX")
        pack.dnsbl[domain.name] = lookup(f"{domain.name}.{DNSBL_ZONE}", "A")
    return pack


def _campaign_count(since: dt.datetime) -> int:
    try:
        from mailops.models import Campaign
    except ImportError:  # bulk notifications not built in this checkout
        return 0
    return Campaign.objects.filter(created_at__gte=since).count()


def score(pack: ReadinessPack) -> list[Check]:
    """Score the pack's evidence against the prerequisites (no queries)."""
    custom, verified = pack.custom_domains, pack.verified_domains
    domain_fix = _(
        "Add the company's own domain under Mail → Domains, publish the records "
        "shown there and verify it. Higher limits apply only to verified custom "
        "domains, not to the Azure-managed domain."
    )
    linked = [d for d in verified if d.linked]
    return [
        Check(
            "custom_domain",
            _("Custom domain verified"),
            bool(verified),
            [f"{d.name}: {d.get_state_display()}" for d in custom]
            or [_("No custom domain.")],
            "" if verified else domain_fix,
        ),
        Check(
            "linked",
            _("Custom domain linked to the Communication Service"),
            bool(verified) and len(linked) == len(verified),
            [
                f"{d.name}: " + (_("linked") if d.linked else _("not linked"))
                for d in verified
            ]
            or [_("No verified custom domain.")],
            ""
            if verified and len(linked) == len(verified)
            else _("Link every verified custom domain under Mail → Domains."),
        ),
        _dns_check(
            pack,
            "spf",
            _("SPF"),
            verified,
            ("SPF",),
            _no_errors,
            _("Publish the SPF record ACS shows, with -all."),
        ),
        _dns_check(
            pack,
            "dkim",
            _("DKIM (both selectors)"),
            verified,
            DKIM_KINDS,
            _no_errors,
            _("Publish both DKIM CNAME records ACS shows (selector1 and selector2)."),
        ),
        _dns_check(
            pack,
            "dmarc",
            _("DMARC"),
            verified,
            ("DMARC",),
            _dmarc_present,
            _("Publish a DMARC record at _dmarc.<domain>, e.g. v=DMARC1; p=none;"),
        ),
        _mx_check(pack, verified),
        _blocklist_check(pack, verified),
        _failure_check(pack),
    ]


# --- the request document -----------------------------------------------------------------


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step if value > 0 else 0


def default_answers(pack: ReadinessPack) -> Answers:
    """Expected figures from the data: the busiest recent month or this month's
    projection, and the observed peaks (staff adjust them on the page)."""
    busiest = max([m.messages for m in pack.months] + [pack.projected_month])
    parts = []
    if pack.devices:
        parts.append(
            _("scan-to-email from %(n)d multifunction printers") % {"n": pack.devices}
        )
    if pack.applications:
        parts.append(
            _("notifications from %(n)d business applications")
            % {"n": pack.applications}
        )
    if pack.campaigns:
        parts.append(
            _("bulk notices to customers (%(n)d campaigns in 30 days)")
            % {"n": pack.campaigns}
        )
    use_case = _(
        "Transactional business mail of %(company)s sent through Azure "
        "Communication Services: %(parts)s. Recipients are customers and business "
        "partners who expect these messages; bounces are suppressed automatically."
    ) % {
        "company": pack.tenant.name,
        "parts": ", ".join(parts) or _("business notifications"),
    }
    return Answers(
        expected_monthly=_round_up(busiest, 1000),
        expected_peak_minute=max(pack.peak_minute.value, 1),
        expected_peak_hour=max(pack.peak_hour.value, 1),
        use_case=use_case,
    )


def readiness_document(pack: ReadinessPack, answers: Answers, *, language: str) -> str:
    """The support-request text (Markdown) in ``language`` ("ja" or "en")."""
    with translation.override(language):
        return (
            render_to_string(
                "tenants/readiness_document.txt",
                {"pack": pack, "answers": answers, "language": language},
            ).strip()
            + "\n"
        )
