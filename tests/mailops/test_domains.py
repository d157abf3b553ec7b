from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from mailops.models import DnsCheck, SenderAddress, SendingDomain
from mailops.services import domains
from portal.errors import ServiceError
from tenants.accounts.models import AuditEvent
from tenants.models import Alert
from tests.mailops.conftest import OWNER_CTX, publish

pytestmark = pytest.mark.emulator


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Mail.Example.CO.JP.", ("mail.example.co.jp", "mail.example.co.jp")),
        ("メール.例え.jp", ("xn--r8jz45g.xn--r8jz45g.jp", "メール.例え.jp")),
        (
            "お知らせ。example．jp",
            ("xn--r8jz45g8a1d0cz7a.example.jp", "お知らせ.example.jp"),
        ),
    ],
)
def test_domain_names_are_normalised(raw, expected):
    ascii_name, display = domains.normalise_domain(raw)
    assert display == expected[1]
    assert ascii_name.startswith("xn--") == expected[0].startswith("xn--")
    assert ascii_name == display.encode("idna").decode()


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "localhost",
        "taro@example.jp",
        "-bad.example.jp",
        "a..b.jp",
        "x.123",
        "foo.azurecomm.net",
    ],
)
def test_invalid_domain_names_are_refused(raw):
    with pytest.raises(ServiceError):
        domains.normalise_domain(raw)


def test_add_verify_link_flow(verified_domain):
    domain = verified_domain
    assert domain.state == "verified"
    assert domain.linked is True
    assert {r["kind"] for r in domain.records} == {
        "Domain",
        "SPF",
        "DKIM",
        "DKIM2",
        "DMARC",
    }
    with schema_context("alpha"):
        actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"domain.add", "domain.created", "domain.verified", "domain.link"} <= actions


def test_duplicate_domain_is_refused(verified_domain):
    with schema_context("alpha"), pytest.raises(ServiceError) as info:
        domains.domain_add(ctx=OWNER_CTX, name="MAIL.alpha.example")
    assert info.value.field == "name"
    with schema_context("alpha"):
        assert SendingDomain.objects.filter(name="mail.alpha.example").count() == 1


def test_softfail_spf_fails_verification_and_lint_explains(acs):
    emu, _fp = acs
    with schema_context("alpha"):
        domain = domains.domain_add(ctx=OWNER_CTX, name="soft.alpha.example")
        domain = domains.domain_create(domain_id=domain.pk)
        publish(emu, domain)
        spf = next(r for r in domain.records if r["kind"] == "SPF")
        emu.admin(
            "/dns/records",
            "POST",
            {
                "name": domain.name,
                "type": "TXT",
                "values": [
                    next(r["value"] for r in domain.records if r["kind"] == "Domain"),
                    spf["value"].replace("-all", "~all"),
                ],
            },
        )
        domain = domains.domain_run_verification(domain_id=domain.pk)
        assert domain.verification["SPF"] == "VerificationFailed"
        assert domain.state == "created"
        check = domains.domain_check_dns(domain_id=domain.pk)
        codes = {f["code"] for f in check.report["findings"]}
        assert "spf_softfail_all" in codes
        assert check.ok is False


def test_dns_drift_on_a_verified_domain_raises_one_alert(verified_domain, acs):
    emu, _fp = acs
    with schema_context("alpha"):
        first = domains.domain_check_dns(domain_id=verified_domain.pk)
        assert first.ok is True
        # the customer's DNS host loses the DKIM record
        emu.admin(
            "/dns/records?name=selector1-azurecomm-prod-net._domainkey.mail.alpha.example",
            "DELETE",
        )
        second = domains.domain_check_dns(domain_id=verified_domain.pk)
        third = domains.domain_check_dns(domain_id=verified_domain.pk)
        assert (second.ok, second.drifted) == (False, True)
        assert third.drifted is False
        assert DnsCheck.objects.filter(domain=verified_domain).count() == 3
    alerts = Alert.objects.filter(
        tenant__schema_name="alpha", cause_key="mail.alpha.example"
    )
    assert sorted(alerts.values_list("kind", flat=True)) == ["dns_broken", "dns_drift"]
    # titles read in the language the worker runs in (Japanese by default)
    assert sorted(alerts.values_list("title", flat=True)) == [
        "mail.alpha.example の DNS レコードが変更されました",
        "mail.alpha.example の DNS レコードに問題があります",
    ]


def test_sender_addresses_validated_and_unique(verified_domain):
    with schema_context("alpha"):
        sender = domains.sender_add(
            ctx=OWNER_CTX,
            domain=verified_domain,
            username="info",
            display_name="お知らせ",
        )
        assert sender.state == "active"
        assert sender.address == "info@mail.alpha.example"
        for bad in ["", ".info", "in fo", "a..b", "x" * 65, "日本語"]:
            with pytest.raises(ServiceError):
                domains.sender_add(
                    ctx=OWNER_CTX, domain=verified_domain, username=bad, display_name=""
                )
        with pytest.raises(ServiceError):
            domains.sender_add(
                ctx=OWNER_CTX, domain=verified_domain, username="INFO", display_name=""
            )
        assert SenderAddress.objects.filter(domain=verified_domain).count() == 1


def test_sender_on_unverified_domain_is_refused(acs):
    with schema_context("alpha"):
        domain = domains.domain_add(ctx=OWNER_CTX, name="new.alpha.example")
        with pytest.raises(ServiceError):
            domains.sender_add(
                ctx=OWNER_CTX, domain=domain, username="info", display_name=""
            )


def test_domain_creation_survives_a_throttled_arm(acs):
    emu, _fp = acs
    with schema_context("alpha"):
        domain = domains.domain_add(ctx=OWNER_CTX, name="busy.alpha.example")
        emu.admin("/faults", "POST", {"endpoint": "arm", "kind": "429", "count": 10})
        try:
            from portal.integrations.azure.errors import AzureError

            with pytest.raises(AzureError):
                domains.domain_create(domain_id=domain.pk)
        finally:
            emu.admin("/faults", "DELETE")
        domain.refresh_from_db()
        # nothing was believed: still creating, with the reason, no records
        assert domain.state == "creating"
        assert domain.records == []
        assert domain.last_error
        domain = domains.domain_create(domain_id=domain.pk)
        assert domain.state == "created"
        assert len(domain.records) == 5


def test_domain_page_and_status_fragment(owner_a_client, verified_domain):
    page = owner_a_client.get(f"/mail/domains/{verified_domain.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "selector1-azurecomm-prod-net._domainkey" in body
    assert body.count('data-state="Verified"') == 5
    fragment = owner_a_client.get(
        f"/mail/domains/{verified_domain.pk}/?part=status", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert fragment.lstrip().startswith('<section id="domain-status"')


def test_viewer_reads_but_cannot_change_domains(viewer_a_client, verified_domain):
    assert (
        viewer_a_client.get(f"/mail/domains/{verified_domain.pk}/").status_code == 200
    )
    for action in ("verify", "unlink", "remove", "check"):
        response = viewer_a_client.post(f"/mail/domains/{verified_domain.pk}/{action}/")
        assert response.status_code == 403
    assert (
        viewer_a_client.post("/mail/domains/add/", {"name": "x.example.jp"}).status_code
        == 403
    )
    with schema_context("alpha"):
        domain = SendingDomain.objects.get(pk=verified_domain.pk)
        assert (domain.linked, domain.state) == (True, "verified")
        assert not SendingDomain.objects.filter(name="x.example.jp").exists()


def test_other_tenant_cannot_see_the_domain(owner_b_client, verified_domain):
    assert owner_b_client.get(f"/mail/domains/{verified_domain.pk}/").status_code == 404
    assert (
        owner_b_client.post(f"/mail/domains/{verified_domain.pk}/unlink/").status_code
        == 404
    )


def test_bad_domain_input_shows_a_japanese_error_and_changes_nothing(
    owner_a_client, acs
):
    response = owner_a_client.post("/mail/domains/add/", {"name": "taro@example.jp"})
    assert response.status_code == 400
    assert "ドメイン名だけを入力してください" in response.content.decode()
    with schema_context("alpha"):
        assert SendingDomain.objects.filter(management="CustomerManaged").count() == 0
