"""Quota-increase readiness pack: each prerequisite failing in turn, computed
peaks, and the support-request document (DNS answers come from the emulator)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.models import UsageDay
from mailops.models import (
    AcsFootprint,
    DeliveryAggregate,
    DnsCheck,
    MessageRecord,
    SenderAddress,
    SendingDomain,
    SmtpCredential,
)
from tenants.readiness import JST, default_answers, readiness_build, readiness_document
from tests.conftest import client_for

pytestmark = pytest.mark.emulator

DOMAIN = "ready.alpha.example"
LISTING = f"{DOMAIN}.dbl.spamhaus.org"
GOOD_FINDINGS = [
    {"kind": "Domain", "severity": "ok", "code": "domain_txt_ok", "message": "ok"},
    {
        "kind": "SPF",
        "severity": "ok",
        "code": "spf_ok",
        "message": "ok",
        "found": "v=spf1 include:spf.protection.outlook.com -all",
    },
    {"kind": "DKIM", "severity": "ok", "code": "dkim_ok", "message": "ok"},
    {"kind": "DKIM2", "severity": "ok", "code": "dkim_ok", "message": "ok"},
    {"kind": "DMARC", "severity": "ok", "code": "dmarc_ok", "message": "ok"},
]
# 2 days ago, 09:01 JST: the busiest minute (5), hour (5 + 3) and day (8 + 4).
BASE = (
    (timezone.now() - dt.timedelta(days=2))
    .astimezone(JST)
    .replace(hour=9, minute=1, second=0, microsecond=0)
)


def _message(n: int, at: dt.datetime) -> None:
    MessageRecord.objects.create(message_id=f"rd-{n}", resource_id="r", sent_at=at)


def _day_counts(domain: str, **counts: int) -> None:
    """Day-bucket recipients of ``domain`` on BASE's day, per status."""
    for status, count in counts.items():
        DeliveryAggregate.objects.create(
            period=DeliveryAggregate.Period.DAY,
            bucket=BASE.replace(hour=0, minute=0),
            sender_domain=domain,
            status=status,
            count=count,
        )


@pytest.fixture
def dns(emulator_settings):
    emu = emulator_settings
    emu.admin("/dns/zones", "POST", {"zone": DOMAIN})
    emu.admin("/dns/zones", "POST", {"zone": "dbl.spamhaus.org"})
    emu.admin(
        "/dns/records",
        "POST",
        {"name": DOMAIN, "type": "MX", "values": [f"10 mx.{DOMAIN}."]},
    )
    yield emu
    emu.admin(f"/dns/records?name={LISTING}&type=A", "DELETE")


@pytest.fixture
def ready(personas, dns):
    """Alpha meets every prerequisite."""
    tenant = personas.tenant_a
    with schema_context("alpha"):
        AcsFootprint.objects.create(
            subscription_id="sub",
            resource_group="rg",
            email_service_name="es",
            communication_service_name="acs-alpha",
            communication_service_id="/subscriptions/sub/.../acs-alpha",
            state=AcsFootprint.State.READY,
        )
        domain = SendingDomain.objects.create(
            name=DOMAIN,
            display_name=DOMAIN,
            state=SendingDomain.State.VERIFIED,
            linked=True,
        )
        DnsCheck.objects.create(
            domain=domain, ok=True, report={"findings": GOOD_FINDINGS}
        )
        sender = SenderAddress.objects.create(
            domain=domain, username="info", state=SenderAddress.State.ACTIVE
        )
        SmtpCredential.objects.create(
            label="MFP",
            sender_domain=domain,
            sender=sender,
            username=f"mfp-0001@{DOMAIN}",
            smtp_username_resource="mfp-0001",
            state=SmtpCredential.State.ACTIVE,
        )
        _day_counts(DOMAIN, Delivered=990, Bounced=10)
        n = 0
        for i in range(5):  # five in the same minute
            _message(n := n + 1, BASE + dt.timedelta(seconds=i * 10))
        for minute in (10, 20, 30):  # three more in the same hour
            _message(n := n + 1, BASE + dt.timedelta(minutes=minute))
        for hour in (11, 13, 15, 17):  # four more the same day
            _message(n := n + 1, BASE.replace(hour=hour))
        _message(n + 1, BASE - dt.timedelta(days=40))  # outside the window
    month = BASE.date().replace(day=1)
    previous = (month - dt.timedelta(days=1)).replace(day=1)
    UsageDay.objects.create(
        tenant=tenant, day=previous, messages=4200, billable_emails=5000
    )
    UsageDay.objects.create(tenant=tenant, day=month, messages=12, billable_emails=12)
    return tenant


def _verdicts(tenant) -> dict[str, bool | None]:
    return {c.key: c.passed for c in readiness_build(tenant=tenant).checks}


ALL_PASS = {
    "custom_domain": True,
    "linked": True,
    "spf": True,
    "dkim": True,
    "dmarc": True,
    "mx": True,
    "dnsbl": True,
    "failure_rate": True,
}


def test_a_ready_tenant_meets_every_prerequisite(ready):
    pack = readiness_build(tenant=ready)
    assert {c.key: c.passed for c in pack.checks} == ALL_PASS
    assert (pack.passed, pack.total, pack.ready) == (8, 8, True)
    assert pack.on_default_limits is True
    assert (pack.sent_30d, pack.failed_30d, str(pack.failure_rate)) == (
        1000,
        10,
        "1.00",
    )


def _set_finding(kind: str, **changes) -> None:
    with schema_context("alpha"):
        check = DnsCheck.objects.get()
        findings = [
            {**f, **changes} if f["kind"] == kind else f
            for f in check.report["findings"]
        ]
        check.report = {"findings": findings}
        check.save()


def _unverify():
    SendingDomain.objects.update(state=SendingDomain.State.CREATED)


def _unlink():
    SendingDomain.objects.update(linked=False)


def _break_spf():
    _set_finding("SPF", severity="error", code="spf_softfail_all", suggestion="-all")


def _break_dkim2():
    _set_finding("DKIM2", severity="error", code="dkim_missing")


def _no_dmarc():
    _set_finding("DMARC", severity="warning", code="dmarc_missing")


def _bounce_more():
    DeliveryAggregate.objects.filter(status="Bounced").update(count=30)


@pytest.mark.parametrize(
    ("breaker", "failing"),
    [
        (_unverify, {"custom_domain", "linked", "spf", "dkim", "dmarc", "mx", "dnsbl"}),
        (_unlink, {"linked"}),
        (_break_spf, {"spf"}),
        (_break_dkim2, {"dkim"}),
        (_no_dmarc, {"dmarc"}),
        (_bounce_more, {"failure_rate"}),
    ],
    ids=["unverified", "unlinked", "spf", "dkim2", "dmarc", "failure-rate"],
)
def test_each_prerequisite_fails_in_turn(ready, breaker, failing):
    with schema_context("alpha"):
        breaker()
    verdicts = _verdicts(ready)
    assert {k for k, v in verdicts.items() if v is False} == failing
    assert readiness_build(tenant=ready).ready is False


def test_missing_mx_fails(ready, dns):
    dns.admin(f"/dns/records?name={DOMAIN}&type=MX", "DELETE")
    verdicts = _verdicts(ready)
    assert {k for k, v in verdicts.items() if v is False} == {"mx"}


def test_blocklisted_domain_fails(ready, dns):
    dns.admin(
        "/dns/records", "POST", {"name": LISTING, "type": "A", "values": ["127.0.1.2"]}
    )
    pack = readiness_build(tenant=ready)
    check = next(c for c in pack.checks if c.key == "dnsbl")
    assert check.passed is False
    assert "127.0.1.2" in check.evidence[0]
    assert "dbl.spamhaus.org" in check.fix


def test_failure_rate_is_per_domain(ready):
    # a second domain at 5% fails the check although the total is under 2%
    with schema_context("alpha"):
        _day_counts("other.alpha.example", Failed=1, Delivered=19)
    pack = readiness_build(tenant=ready)
    check = next(c for c in pack.checks if c.key == "failure_rate")
    assert check.passed is False
    assert any(
        "other.alpha.example" in line and "5.00" in line for line in check.evidence
    )


def test_peaks_and_monthly_trend(ready):
    pack = readiness_build(tenant=ready)
    assert (pack.peak_minute.value, pack.peak_minute.at) == (
        5,
        BASE.strftime("%Y-%m-%d %H:%M"),
    )
    assert (pack.peak_hour.value, pack.peak_hour.at) == (
        8,
        BASE.strftime("%Y-%m-%d 09:00"),
    )
    assert (pack.peak_day.value, pack.peak_day.at) == (12, BASE.strftime("%Y-%m-%d"))
    assert pack.recipients_peak_day.value == 1000
    assert len(pack.months) == 6
    assert [m.messages for m in pack.months[-2:]] == [4200, 12]
    assert pack.months[-1].partial is True
    assert pack.sender_addresses == [f"info@{DOMAIN}"]
    assert pack.devices == 1


def test_document_contains_the_computed_peaks_in_both_languages(ready):
    pack = readiness_build(tenant=ready)
    answers = default_answers(pack)
    assert answers.expected_monthly == 5000  # the busiest month, rounded up
    assert (answers.expected_peak_minute, answers.expected_peak_hour) == (5, 8)
    english = readiness_document(pack, answers, language="en")
    assert "- Peak per minute: 5 (" + BASE.strftime("%Y-%m-%d %H:%M") in english
    assert "- Peak per hour: 8" in english
    assert "- Peak per day: 12" in english
    assert "- [x] MX record published" in english
    assert f"| {pack.months[-2].month:%Y-%m} | 4,200 | 5,000 |" in english
    assert "株式会社アルファ" in english
    japanese = readiness_document(pack, answers, language="ja")
    assert "- 1 分あたりのピーク: 5" in japanese
    assert "- [x] MX レコードの公開" in japanese
    assert "複合機 1 台からのスキャン送信" in japanese


def test_staff_page_textarea_toggle_and_download(ready, staff_client):
    url = f"/staff/tenants/{ready.pk}/readiness/"
    page = staff_client.get(url).content.decode()
    assert 'id="readiness-doc"' in page
    assert "前提条件 8 項目中 8 項目を満たしています" in page
    assert "1 分あたりのピーク: 5" in page
    assert 'data-copy="#readiness-doc"' in page
    english = staff_client.get(
        url,
        {
            "lang": "en",
            "expected_monthly": "20000",
            "expected_peak_minute": "60",
            "expected_peak_hour": "2000",
            "use_case": "Invoices to customers",
        },
    ).content.decode()
    assert "- Emails per month: 20,000" in english
    assert "Invoices to customers" in english
    download = staff_client.get(url, {"lang": "en", "format": "txt"})
    assert download["Content-Type"] == "text/plain; charset=utf-8"
    assert "quota-increase-alpha-en.txt" in download["Content-Disposition"]
    assert "- Peak per minute: 5" in download.content.decode()
    detail = staff_client.get(f"/staff/tenants/{ready.pk}/").content.decode()
    assert url in detail


def test_customers_never_reach_the_readiness_page(ready, owner_a_client, personas):
    url = f"/staff/tenants/{ready.pk}/readiness/"
    assert owner_a_client.get(url).status_code == 404
    anonymous = client_for(personas.public_host)
    assert anonymous.get(url).status_code == 302
