"""Mail demo data for ``manage.py seed_demo``: the demo tenants as customers a few
weeks after onboarding, built only through the portal's own services and the
Azure emulator (never by writing rows the services would not write).

* sakura: ACS ready, a verified custom domain with correct DNS, ``info@``, two
  device credentials (one expiring within a month), 30 days of simulated ACS
  history ingested for real, a recipient list and a bulk campaign.
* fuji: ACS ready, higher volume, a domain whose SPF was later edited without the
  ACS include (broken-DNS alert) and a monthly send cap at about 85 % (warning).
* minato: onboarding; ACS provisioning failed (the global host name is taken),
  so the progress page shows the error and the retry button.

Idempotent: each step looks for what it would create first. Emulator only
(``AZURE_TARGET=emulator``); the simulated history is written with
``emulator.simulate`` into the emulator's own log store, once per resource.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from tenants.accounts.audit import AuditContext
from tenants.models import Customer

SYSTEM = AuditContext.system("manage.py seed_demo")
# Simulated history ends this long before "now", past the ingestion lag.
HISTORY_END_MARGIN = timedelta(minutes=5)
HISTORY_DAYS = 30


@dataclass(frozen=True)
class DemoMail:
    slug: str
    domain: str = ""
    per_day: int = 0
    seed: int = 1
    break_spf: bool = False
    cap_percent: int = 0
    credentials: tuple[tuple[str, str, str, str, int], ...] = ()
    campaign: bool = False
    conflict: bool = False  # provisioning fails: the ACS name is taken
    invoice: bool = False  # last month closed and its invoice finalized
    # Sending quota staff recorded: (tier, per minute, per hour). "raised" is
    # what Microsoft approved on request (applied to the emulator's resource too).
    quota: tuple[str, int, int] = ("default", 30, 100)


DEMO_MAIL = (
    DemoMail(
        "sakura",
        domain="sakura-seiki.example.jp",
        per_day=120,
        seed=11,
        # (label, location, vendor, model, lifetime in months)
        credentials=(
            ("本社2F 複合機", "本社 2階 総務部", "ricoh", "IM C3010", 24),
            ("工場 受付 複合機", "第一工場 受付", "canon", "iR-ADV C3930", 1),
        ),
        campaign=True,
        invoice=True,
        # A modest raise: the bulk notice goes out within a minute.
        quota=("raised", 100, 1000),
    ),
    DemoMail(
        "fuji",
        domain="fuji-logistics.example.jp",
        per_day=400,
        seed=22,
        break_spf=True,
        cap_percent=85,
        quota=("raised", 1000, 20000),
    ),
    DemoMail("minato", conflict=True),
)


class EmulatorAdmin:
    """The emulator's admin API (``/_emulator/``), as the portal's settings see it."""

    def __init__(self) -> None:
        self.base = settings.AZURE_EMULATOR_URL.rstrip("/") + "/_emulator"
        self.verify = settings.AZURE_CA_BUNDLE

    def __call__(self, path: str, method: str = "GET", json: Any = None) -> Any:
        response = requests.request(
            method, self.base + path, json=json, verify=self.verify, timeout=10
        )
        response.raise_for_status()
        return response.json() if response.content else None


def seed_mail_demo(log: Callable[[str], None]) -> str:
    """Seed the demo tenants' mail data. Returns "" or why it was skipped."""
    if settings.AZURE_TARGET != "emulator":
        return "AZURE_TARGET is not 'emulator'"
    admin = EmulatorAdmin()
    try:
        info = admin("/info")
    except (OSError, ValueError) as exc:  # RequestException, or a missing CA file
        return f"the Azure emulator at {settings.AZURE_EMULATOR_URL} is unreachable ({exc.__class__.__name__})"
    state_dir = Path(info["caPath"]).parent
    for demo in DEMO_MAIL:
        tenant = Customer.objects.filter(schema_name=demo.slug).first()
        if tenant is None:
            continue
        with schema_context(tenant.schema_name):
            _seed_tenant(demo, tenant, admin, state_dir, log)
    from tenants.summaries import summary_refresh

    for demo in DEMO_MAIL:
        tenant = Customer.objects.filter(schema_name=demo.slug).first()
        if tenant is not None:
            summary_refresh(tenant)
    return ""


def _seed_tenant(
    demo: DemoMail,
    tenant: Customer,
    admin: EmulatorAdmin,
    state_dir: Path,
    log: Callable[[str], None],
) -> None:
    if demo.conflict:
        _failed_footprint(demo, log)
        return
    fp = _footprint()
    domain = _domain(demo, admin, log)
    _quota(demo, fp, admin, log)
    sender = _sender(domain)
    for spec in demo.credentials:
        _credential(sender, spec, log)
    _history(demo, fp, state_dir, log)
    if demo.campaign:
        _campaign(sender, log)
    if demo.cap_percent:
        _send_cap(tenant, demo.cap_percent, log)
    if demo.invoice:
        with schema_context("public"):
            seed_billing(tenant, log)


# --- ACS resources ------------------------------------------------------------------


def _footprint() -> Any:
    from mailops.models import AcsFootprint
    from mailops.services import footprint

    fp = AcsFootprint.objects.first() or footprint.footprint_request(ctx=SYSTEM)
    if fp.state != AcsFootprint.State.READY:
        fp = footprint.footprint_provision(footprint_id=fp.pk)
    return fp


def _quota(
    demo: DemoMail, fp: Any, admin: EmulatorAdmin, log: Callable[[str], None]
) -> None:
    """The managed domain's 5/min is what provisioning records; with a custom
    domain linked, staff record the tenant's real quota."""
    from mailops.services import footprint

    tier, per_minute, per_hour = demo.quota
    if fp.quota_tier == tier:
        return
    if tier == "raised":
        admin(
            "/rate-tier",
            "POST",
            {
                "resourceId": fp.communication_service_id,
                "perMinute": per_minute,
                "perHour": per_hour,
            },
        )
    footprint.footprint_set_quota(
        ctx=_staff_ctx(), tier=tier, per_minute=per_minute, per_hour=per_hour
    )
    log(f"{demo.slug}: quota {tier} {per_minute}/min {per_hour}/h")


def _failed_footprint(demo: DemoMail, log: Callable[[str], None]) -> None:
    """Request ACS while another resource group holds the (global) ACS host name;
    as in the mailops task, the non-retryable refusal marks it failed and alerts."""
    from mailops.models import AcsFootprint
    from mailops.services import footprint
    from mailops.services.common import default_names
    from portal.integrations.azure import client
    from portal.integrations.azure.errors import AzureError

    if AcsFootprint.objects.exists():
        return
    names = default_names()
    # Someone else's resource already uses the host name (kept if the emulator
    # has it from an earlier demo; refused if this tenant's own exists there).
    with contextlib.suppress(AzureError):
        client.communication_service_ensure(
            client.ResourceGroupRef(
                subscription_id=names["subscription_id"],
                resource_group=f"rg-other-{demo.slug}",
            ),
            names["communication_service_name"],
        )
    fp = footprint.footprint_request(ctx=SYSTEM)
    try:
        footprint.footprint_provision(footprint_id=fp.pk)
    except AzureError as exc:
        if not exc.retryable:
            footprint.footprint_failed(footprint_id=fp.pk, error=str(exc))
    log(f"{demo.slug}: ACS provisioning failed (name taken), retry shown")


def publish_dns(
    admin: Callable[..., Any], domain: Any
) -> dict[tuple[str, str], list[str]]:
    """Stand in for the customer's DNS host: publish what ACS asked for."""
    admin("/dns/zones", "POST", {"zone": domain.name})
    grouped: dict[tuple[str, str], list[str]] = {}
    for record in domain.records:
        name = record["name"]
        fqdn = (
            domain.name if name in ("@", "", domain.name) else f"{name}.{domain.name}"
        )
        grouped.setdefault((fqdn, record["record_type"]), []).append(record["value"])
    for (fqdn, rtype), values in grouped.items():
        admin("/dns/records", "POST", {"name": fqdn, "type": rtype, "values": values})
    return grouped


def _domain(demo: DemoMail, admin: EmulatorAdmin, log: Callable[[str], None]) -> Any:
    from mailops.models import SendingDomain
    from mailops.services import domains

    domain = SendingDomain.objects.filter(name=demo.domain).first()
    if domain is None:
        domain = domains.domain_add(ctx=SYSTEM, name=demo.domain)
    if domain.state == SendingDomain.State.CREATING:
        domain = domains.domain_create(domain_id=domain.pk)
    if domain.checks.exists():  # seeded before
        return domain
    # The customer publishes what ACS asked for (again, if the emulator's DNS
    # kept an older demo's zone), ACS verifies it, the domain is linked and the
    # first DNS check passes.
    records = publish_dns(admin, domain)
    if not domain.is_verified:
        domain = domains.domain_run_verification(domain_id=domain.pk)
    if not domain.linked:
        domain = domains.domain_set_link(ctx=SYSTEM, domain=domain, linked=True)
    domains.domain_check_dns(domain_id=domain.pk)
    if demo.break_spf:
        # Later the customer rewrote SPF for a new mail host and dropped the ACS
        # include: the next re-check finds the records broken (and changed).
        for (fqdn, rtype), values in records.items():
            spf = [v for v in values if v.startswith("v=spf1")]
            if rtype == "TXT" and spf:
                rest = [v for v in values if v not in spf]
                rest.append("v=spf1 include:_spf.example-mailhost.jp -all")
                admin(
                    "/dns/records",
                    "POST",
                    {"name": fqdn, "type": rtype, "values": rest},
                )
        domains.domain_check_dns(domain_id=domain.pk)
    log(f"{demo.slug}: domain {demo.domain} {domain.state}")
    return domain


def _sender(domain: Any) -> Any:
    from mailops.models import SenderAddress
    from mailops.services import domains

    sender = SenderAddress.objects.filter(domain=domain, username="info").first()
    return sender or domains.sender_add(
        ctx=SYSTEM, domain=domain, username="info", display_name=""
    )


def _credential(
    sender: Any, spec: tuple[str, str, str, str, int], log: Callable[[str], None]
) -> None:
    from mailops.models import SmtpCredential
    from mailops.services import credentials

    label, location, vendor, model, months = spec
    if SmtpCredential.objects.filter(label=label).exists():
        return
    issued = credentials.credential_create(
        ctx=SYSTEM,
        label=label,
        sender=sender,
        location=location,
        vendor=vendor,
        model=model,
        owner_name="総務部",
        months=months,
    )
    # The password is shown once to whoever creates it; the demo has no one.
    log(f"credential {issued.credential.label}: {issued.credential.username}")


# --- delivery history ---------------------------------------------------------------


def _history_exists(resource_id: str, now: datetime) -> bool:
    from portal.integrations.azure import client

    result = client.logs_query(
        resource_id=resource_id,
        query="ACSEmailSendMailOperational | take 1",
        start=now - timedelta(days=HISTORY_DAYS + 2),
        end=now,
    )
    return bool(result.rows)


def _history(
    demo: DemoMail, fp: Any, state_dir: Path, log: Callable[[str], None]
) -> None:
    """Simulate the resource's history in the emulator once, then ingest it the
    way the 5-minute beat task does (idempotent)."""
    from emulator.simulate import generate
    from mailops.analytics.ingest import ingest_tenant

    now = datetime.now(UTC)
    rid = fp.communication_service_id
    if demo.per_day and not _history_exists(rid, now):
        counts = generate(
            str(state_dir / "logs.sqlite3"),
            resource_id=rid,
            days=HISTORY_DAYS,
            per_day=demo.per_day,
            seed=demo.seed,
            sender_domain=demo.domain,
            now=now - HISTORY_END_MARGIN,
            workspace_id=settings.AZURE_LOG_WORKSPACE_ID,
        )
        log(f"{demo.slug}: simulated {counts} log rows")
    report = ingest_tenant()
    log(f"{demo.slug}: ingested {report.rows} rows {report.skipped}".rstrip())


# --- bulk mail ----------------------------------------------------------------------

LIST_NAME = "2026年 取引先 連絡先"
CAMPAIGN_NAME = "年末年始休業のお知らせ"
COMPANIES = ["東京商事", "大阪電機", "名古屋精機", "横浜物産", "京都工業", "福岡運輸"]


def _list_csv() -> bytes:
    rows = ["メールアドレス,会社名,氏名"]
    for i in range(30):
        company = COMPANIES[i % len(COMPANIES)]
        rows.append(
            f"contact{i + 1:02d}@partner{i % 6 + 1}.example.jp,{company},担当者{i + 1}"
        )
    # Excel on Japanese Windows saves CSV as Shift_JIS (cp932).
    return ("\r\n".join(rows) + "\r\n").encode("cp932")


def _campaign(sender: Any, log: Callable[[str], None]) -> None:
    from mailops.campaigns import lists
    from mailops.campaigns.drafts import campaign_draft_save
    from mailops.campaigns.services import campaign_queue
    from mailops.models import Campaign, RecipientList

    recipient_list = RecipientList.objects.filter(name=LIST_NAME).first()
    if recipient_list is None:
        upload = SimpleUploadedFile("torihikisaki.csv", _list_csv(), "text/csv")
        recipient_list = lists.recipient_list_upload(
            ctx=SYSTEM, name=LIST_NAME, upload=upload
        )
        recipient_list = lists.recipient_list_confirm(
            ctx=SYSTEM,
            recipient_list=recipient_list,
            encoding=recipient_list.encoding,
            email_column=recipient_list.email_column,
        )
        recipient_list = lists.recipient_list_import(
            ctx=SYSTEM, recipient_list=recipient_list
        )
    if Campaign.objects.filter(name=CAMPAIGN_NAME).exists():
        return
    campaign = campaign_draft_save(
        ctx=SYSTEM,
        campaign=None,
        data={
            "name": CAMPAIGN_NAME,
            "sender": sender,
            "subject": "【株式会社さくら精機】年末年始休業のお知らせ",
            "body_text": (
                "{{ 会社名 }}\n{{ 氏名 }} 様\n\n平素より格別のお引き立てを賜り、"
                "厚く御礼申し上げます。\n誠に勝手ながら、12月28日から1月4日まで"
                "休業とさせていただきます。\n\n株式会社さくら精機"
            ),
            "recipient_list": recipient_list,
        },
    )
    # Sent by the Celery worker that `make run` starts (the dispatcher is queued
    # on commit); the campaign completes a few seconds after start-up.
    campaign = campaign_queue(campaign, SYSTEM)
    log(
        f"campaign {campaign.name}: {campaign.state}, {campaign.total_recipients} recipients"
    )


# --- guardrails ---------------------------------------------------------------------


def _send_cap(tenant: Customer, percent: int, log: Callable[[str], None]) -> None:
    """Staff set a monthly send cap the month already stands at ``percent`` of
    (the console shows the threshold warning)."""
    from tenants.guardrails import guardrail_set_caps
    from tenants.models import Guardrail

    with schema_context("public"):
        if (
            Guardrail.objects.filter(tenant=tenant)
            .exclude(monthly_send_cap=None)
            .exists()
        ):
            return
        ctx = _staff_ctx()
        cap = max(10, round(_month_emails(tenant) * 100 / percent))
        guardrail = guardrail_set_caps(
            ctx=ctx,
            tenant=tenant,
            monthly_send_cap=cap,
            monthly_spend_cap_jpy=None,
            hard_action=Guardrail.HardAction.NONE,
        )
        log(f"{tenant.schema_name}: send cap {cap} ({guardrail.send_percent}% used)")


def _month_emails(tenant: Customer) -> int:
    from django.db.models import Sum

    from billing.models import UsageDay
    from tenants.summaries import JST

    today = datetime.now(UTC).astimezone(JST).date()
    total = UsageDay.objects.filter(
        tenant=tenant, day__gte=today.replace(day=1), day__lte=today
    ).aggregate(n=Sum("billable_emails"))["n"]
    return int(total or 0)


# --- billing ------------------------------------------------------------------------

ISSUER = {
    "name": "株式会社かけはしマネージドサービス",
    "registration_number": "T9010401234567",
    "address": "〒105-0011 東京都港区芝公園1-2-3",
    "contact": "billing@kakehashi.example",
    "bank_account": "みずほ銀行 芝支店 普通 1234567 カ）カケハシマネージドサービス",
}


def _month_start(day: date, back: int) -> date:
    month = day.month - 1 - back
    return date(day.year + month // 12, month % 12 + 1, 1)


def seed_billing(tenant: Customer, log: Callable[[str], None]) -> None:
    """Staff enter the issuer and month-end TTM rates (if nobody has), close last
    month and finalize ``tenant``'s invoice, so its owner sees a PDF."""
    from billing.models import FxRate, Invoice, IssuerSettings, RateType
    from billing.services.close import close_month
    from billing.services.finalize import invoice_finalize
    from billing.services.settings import fx_rate_create, issuer_save
    from tenants.summaries import JST

    ctx = _staff_ctx()
    today = datetime.now(UTC).astimezone(JST).date()
    period = _month_start(today, 1)
    if Invoice.objects.filter(tenant=tenant, period=period).exists():
        return
    if not IssuerSettings.objects.exists():
        issuer_save(data=ISSUER, ctx=ctx)
    # The month-end rates the default contract (previous month end, TTM) uses.
    for back, rate in ((1, "149.85"), (0, "151.20")):
        day = _month_start(today, back) - timedelta(days=1)
        if not FxRate.objects.filter(
            date__lte=day, date__gt=day - timedelta(days=7), rate_type=RateType.TTM
        ).exists():
            fx_rate_create(
                day=day,
                rate=Decimal(rate),
                rate_type=RateType.TTM,
                source="MUFG TTM",
                ctx=ctx,
            )
    result = close_month(period=period, ctx=ctx, tenant_ids=[tenant.pk])
    invoice = Invoice.objects.filter(tenant=tenant, period=period).first()
    if invoice is None:
        log(f"{tenant.schema_name}: no invoice for {period:%Y-%m}: {result.errors}")
        return
    invoice = invoice_finalize(invoice_id=invoice.pk, ctx=ctx)
    log(f"{tenant.schema_name}: invoice {invoice.number} for {period:%Y-%m} final")


def _staff_ctx() -> AuditContext:
    from tenants.accounts.models import User

    with schema_context("public"):
        staff = User.objects.filter(is_staff=True).order_by("pk").first()
    if staff is None:
        return AuditContext(actor_kind="staff", is_staff=True)
    return AuditContext(
        actor_id=staff.pk, actor_email=staff.email, actor_kind="staff", is_staff=True
    )
