"""``seed_demo`` against the test emulator: the demo tenants look like customers a
few weeks after onboarding, and a second run changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django_tenants.utils import schema_context

from tenants.models import Customer

pytestmark = pytest.mark.django_db


def _seed(tmp_path) -> str:
    out = StringIO()
    call_command("seed_demo", logins_file=str(tmp_path / "logins.txt"), stdout=out)
    return out.getvalue()


def _emulator_counts(rid: str) -> dict[str, int]:
    from portal.integrations.azure import client

    end = datetime.now(UTC)
    rows = client.logs_query(
        resource_id=rid,
        query="union ACSEmailSendMailOperational, ACSEmailStatusUpdateOperational "
        "| summarize n = count() by Type, HasRecipient = isnotempty(RecipientId)",
        start=end - timedelta(days=40),
        end=end,
    ).rows
    return {f"{r[0]}:{r[1]}": int(r[2]) for r in rows}


def _state() -> dict[str, object]:
    """Every row count the seeding could touch, per tenant."""
    from billing.models import FxRate, Invoice
    from mailops.models import (
        AcsFootprint,
        Campaign,
        DnsCheck,
        MessageRecord,
        RecipientEvent,
        RecipientList,
        SenderAddress,
        SendingDomain,
        SmtpCredential,
    )
    from tenants.models import Alert, Guardrail

    out: dict[str, object] = {}
    for slug in ("sakura", "fuji", "minato"):
        with schema_context(slug):
            out[slug] = [
                model.objects.count()
                for model in (
                    AcsFootprint,
                    SendingDomain,
                    SenderAddress,
                    SmtpCredential,
                    DnsCheck,
                    MessageRecord,
                    RecipientEvent,
                    RecipientList,
                    Campaign,
                )
            ]
    out["alerts"] = sorted(Alert.objects.values_list("kind", "cause_key", "state"))
    out["caps"] = list(Guardrail.objects.values_list("monthly_send_cap", "state"))
    out["invoices"] = list(Invoice.objects.values_list("number", "status"))
    out["fx"] = FxRate.objects.count()
    return out


def test_seed_demo_builds_living_tenants_and_is_idempotent(
    emulator_settings, settings, tmp_path
):
    from billing.models import Invoice
    from mailops.models import (
        AcsFootprint,
        Campaign,
        MessageRecord,
        RecipientEvent,
        RecipientList,
        SendingDomain,
        SmtpCredential,
    )
    from tenants.models import Alert, Guardrail, TenantSummary

    settings.PORTAL_PRIVATE_MEDIA_DIR = tmp_path / "private"
    emulator_settings.admin(
        "/delays", "POST", {"send_delay_ms": 0, "delivery_delay_ms": 0}
    )

    output = _seed(tmp_path)

    assert "Mail demo data ready" in output, output
    sakura = Customer.objects.get(schema_name="sakura")
    fuji = Customer.objects.get(schema_name="fuji")
    with schema_context("sakura"):
        fp = AcsFootprint.objects.get()
        assert fp.state == "ready"
        domain = SendingDomain.objects.get(name="sakura-seiki.example.jp")
        assert (domain.state, domain.linked, domain.dns_ok) == ("verified", True, True)
        assert domain.senders.filter(username="info", state="active").exists()
        creds = SmtpCredential.objects.filter(state="active")
        assert creds.count() == 2
        soonest = min(s.expires_at for c in creds for s in c.secrets.all())
        assert soonest - datetime.now(UTC) < timedelta(days=32)
        emulated = _emulator_counts(fp.communication_service_id)
        assert (
            MessageRecord.objects.count()
            == emulated["ACSEmailSendMailOperational:False"]
        )
        assert MessageRecord.objects.count() == 30 * 120
        assert (
            RecipientEvent.objects.count()
            == emulated["ACSEmailStatusUpdateOperational:True"]
        )
        assert RecipientList.objects.get().state == "ready"
        campaign = Campaign.objects.get()
        assert campaign.total_recipients == 30
        assert campaign.state in ("running", "completed")
    with schema_context("fuji"):
        domain = SendingDomain.objects.get(name="fuji-logistics.example.jp")
        assert (domain.state, domain.dns_ok) == ("verified", False)
        assert MessageRecord.objects.count() == 30 * 400
    with schema_context("minato"):
        fp = AcsFootprint.objects.get()
        assert fp.state == "failed"
        assert "already in use" in fp.last_error
    kinds = set(Alert.objects.exclude(state="resolved").values_list("kind", flat=True))
    assert {"dns_broken", "provisioning_failed"} <= kinds
    guardrail = Guardrail.objects.get(tenant=fuji)
    assert 80 <= guardrail.send_percent < 90
    invoice = Invoice.objects.get(tenant=sakura)
    assert invoice.is_final and invoice.number
    summary = TenantSummary.objects.get(tenant=sakura)
    assert summary.volume_7d > 0
    assert TenantSummary.objects.get(tenant=fuji).cap_percent == guardrail.percent

    before = _state()
    output = _seed(tmp_path)
    assert "Mail demo data ready" in output, output
    assert _state() == before


@pytest.mark.parametrize("missing", ["service", "ca_file"])
def test_seed_demo_without_emulator_still_creates_tenants(missing, settings, tmp_path):
    settings.AZURE_EMULATOR_URL = "https://127.0.0.1:9"  # nothing listens there
    if missing == "ca_file":
        # A fresh checkout whose emulator never ran has no CA file yet.
        settings.AZURE_CA_BUNDLE = str(tmp_path / "no-such-ca.pem")
    output = _seed(tmp_path)
    assert "Mail demo data skipped: the Azure emulator" in output
    assert set(
        Customer.objects.exclude(schema_name="public").values_list(
            "schema_name", flat=True
        )
    ) >= {"sakura", "fuji", "minato"}


def test_seed_demo_never_touches_real_azure(settings, tmp_path):
    settings.AZURE_TARGET = "azure"
    output = _seed(tmp_path)
    assert "Mail demo data skipped: AZURE_TARGET is not 'emulator'" in output
